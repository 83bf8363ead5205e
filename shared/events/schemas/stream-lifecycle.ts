import type { AvroRecordType } from '../avro-types';
import { channelFields, eventIdField, timestampMillis } from './channel-fields';

export const StreamLifecycleSchema = {
  "type": "record",
  "name": "StreamLifecycle",
  "namespace": "io.spacehub.events",
  "doc": "A stream started, ended or was updated (title/category). Derived from state transitions by ingest, or reported by a creator's own tools through the gateway. Key: <platform>:<channelId>.",
  "fields": [
    { ...eventIdField, "doc": "Deterministic: platform, channel, stream id and type." },
    { "name": "type", "type": "string", "doc": "started | ended | updated" },
    ...channelFields,
    { "name": "streamId", "type": "string" },
    { "name": "occurredAt", "type": timestampMillis },
    { "name": "title", "type": ["null", "string"], "default": null },
    { "name": "category", "type": ["null", "string"], "default": null },
    { "name": "source", "type": "string", "default": "poll", "doc": "poll | creator_tool" },
    {
      "name": "reportedAt",
      "type": ["null", timestampMillis],
      "default": null,
      "doc": "creator_tool only: the tool's own instant, kept when it agrees with the gateway's receive time (occurredAt) within PROCESSOR_MAX_FUTURE_SKEW_SECONDS."
    }
  ]
} as const;
export type StreamLifecycle = AvroRecordType<typeof StreamLifecycleSchema>;
