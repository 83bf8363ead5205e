import type { AvroRecordType } from '../avro-types';
import { channelFields, eventIdField, timestampMillis } from './channel-fields';

export const FollowerCountSchema = {
  "type": "record",
  "name": "FollowerCount",
  "namespace": "io.spacehub.events",
  "doc": "Follower (Twitch) or subscriber (YouTube) total at one instant. Key: <platform>:<channelId>.",
  "fields": [
    eventIdField,
    ...channelFields,
    { "name": "observedAt", "type": timestampMillis },
    { "name": "followers", "type": "long" }
  ]
} as const;
export type FollowerCount = AvroRecordType<typeof FollowerCountSchema>;
