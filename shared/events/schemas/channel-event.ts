import type { AvroRecordType } from '../avro-types';
import { channelFields, eventIdField, timestampMillis } from './channel-fields';

/**
 * The `type` values of a ChannelEvent (an Avro `string`: enums cannot gain symbols compatibly):
 * what a platform pushed about a channel's audience (Twitch EventSub, issue 18.2). `subscribe` is a
 * new (or gifted-to) subscriber, `resubscribe` a shared resubscription with its months, `gift` one
 * gifter's batch of `count` gifted subscriptions.
 */
export const CHANNEL_EVENT_TYPES = ['follow', 'raid', 'subscribe', 'resubscribe', 'gift', 'cheer'] as const;
export type ChannelEventType = (typeof CHANNEL_EVENT_TYPES)[number];
export const isChannelEventType = (t: string): t is ChannelEventType => (CHANNEL_EVENT_TYPES as readonly string[]).includes(t);

const optional = <N extends string, T extends 'string' | 'long' | 'int' | 'boolean'>(name: N, type: T, doc: string) =>
  ({ "name": name, "type": ["null", type] as const, "default": null, "doc": doc });

export const ChannelEventSchema = {
  "type": "record",
  "name": "ChannelEvent",
  "namespace": "io.spacehub.events",
  "doc": "A follow, raid, subscription or cheer a platform pushed (Twitch EventSub). Key: <platform>:<channelId>.",
  "fields": [
    { ...eventIdField, "doc": "<platform>:<channelId>:eventsub:<message_id> — a redelivery of one EventSub message carries the same id." },
    { "name": "type", "type": "string", "doc": CHANNEL_EVENT_TYPES.join(' | ') },
    ...channelFields,
    { "name": "occurredAt", "type": timestampMillis, "doc": "The platform's instant (followed_at, else the message timestamp)." },
    { "name": "receivedAt", "type": timestampMillis, "doc": "When ingest received the push." },
    optional("actorId", "string", "The follower, raiding channel, subscriber, gifter or cheerer; null when anonymous."),
    optional("actorLogin", "string", "Their login; null when anonymous."),
    optional("actorName", "string", "Their display name; null when anonymous."),
    optional("viewers", "long", "raid: the raiding channel's viewers."),
    optional("tier", "string", "subscribe | resubscribe | gift: 1000 | 2000 | 3000."),
    optional("gifted", "boolean", "subscribe: the subscription was a gift."),
    optional("months", "int", "resubscribe: cumulative months."),
    optional("count", "int", "gift: subscriptions gifted at once."),
    optional("bits", "long", "cheer: bits cheered.")
  ]
} as const;
export type ChannelEvent = AvroRecordType<typeof ChannelEventSchema>;
