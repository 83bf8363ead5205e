import type { AvroRecordType } from '../avro-types';
import { channelFields, eventIdField, timestampMillis } from './channel-fields';

export const ChatActivitySchema = {
  "type": "record",
  "name": "ChatActivity",
  "namespace": "io.spacehub.events",
  "doc": "Chat observed on a channel over [intervalStart, intervalEnd). Chatter ids are pseudonymous (hashed) so unique chatters can be counted per window without storing platform user ids. Key: <platform>:<channelId>.",
  "fields": [
    eventIdField,
    ...channelFields,
    { "name": "intervalStart", "type": timestampMillis },
    { "name": "intervalEnd", "type": timestampMillis, "doc": "Event time of this record." },
    { "name": "messages", "type": "long" },
    { "name": "chatterIds", "type": { "type": "array", "items": "string" }, "default": [] },
    { "name": "samplingRate", "type": "double", "default": 1, "doc": "Share of the chat the source read, in (0, 1]: 1 = all of it (Twitch EventSub), below 1 = sampled (YouTube liveChatMessages.list under the quota planner, its achieved chat sampling rate). Figures from sampled chat are flagged with it, never scaled up." }
  ]
} as const;
export type ChatActivity = AvroRecordType<typeof ChatActivitySchema>;
