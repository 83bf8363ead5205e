import type { AvroRecordType } from '../avro-types';
import { channelFields, eventIdField, timestampMillis } from './channel-fields';

export const FollowerCountSchema = {
  "type": "record",
  "name": "FollowerCount",
  "namespace": "io.spacehub.events",
  "doc": "A channel's audience totals at one instant: followers (Twitch) or subscribers (YouTube), and Twitch paid subscribers and points when the grant allows. Key: <platform>:<channelId>.",
  "fields": [
    eventIdField,
    ...channelFields,
    { "name": "observedAt", "type": timestampMillis },
    { "name": "followers", "type": "long" },
    { "name": "paidSubscribers", "type": ["null", "long"], "default": null, "doc": "Twitch paid subscribers (GET /helix/subscriptions total) read in the same poll; null when not read: no channel:read:subscriptions scope, or a platform without them." },
    { "name": "subscriptionPoints", "type": ["null", "long"], "default": null, "doc": "Twitch subscription points (tier 1 = 1, 2 = 2, 3 = 6) of the same read; null with paidSubscribers." }
  ]
} as const;
type FollowerCountRecord = AvroRecordType<typeof FollowerCountSchema>;
/**
 * The paid-subscriber fields (issue 18.3) may be omitted by a producer: avsc writes their default (null),
 * and a decoded record always has them.
 */
export type FollowerCount = Omit<FollowerCountRecord, 'paidSubscribers' | 'subscriptionPoints'> & Partial<Pick<FollowerCountRecord, 'paidSubscribers' | 'subscriptionPoints'>>;
