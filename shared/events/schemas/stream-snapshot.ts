import type { AvroRecordType } from '../avro-types';
import { channelIdField, eventIdField, platformField, timestampMillis, userIdField } from './channel-fields';

export const StreamSnapshotSchema = {
  "type": "record",
  "name": "StreamSnapshot",
  "namespace": "io.spacehub.events",
  "doc": "One poll of a channel's live state. Key: <platform>:<channelId>.",
  "fields": [
    { ...eventIdField, "doc": "Deterministic: platform, channel and observation time; re-polls of the same instant give the same id." },
    { ...platformField, "doc": "twitch | youtube | …" },
    channelIdField,
    { ...userIdField, "doc": "The Space HUB user who connected the channel." },
    { "name": "observedAt", "type": timestampMillis, "doc": "Event time." },
    { "name": "live", "type": "boolean" },
    { "name": "viewers", "type": ["null", "long"], "default": null, "doc": "Concurrent viewers; null when offline or hidden." },
    { "name": "streamId", "type": ["null", "string"], "default": null },
    { "name": "startedAt", "type": ["null", timestampMillis], "default": null },
    { "name": "title", "type": ["null", "string"], "default": null },
    { "name": "category", "type": ["null", "string"], "default": null },
    { "name": "language", "type": ["null", "string"], "default": null },
    { "name": "source", "type": "string", "default": "poll", "doc": "poll | creator_tool | replay" }
  ]
} as const;
export type StreamSnapshot = AvroRecordType<typeof StreamSnapshotSchema>;
