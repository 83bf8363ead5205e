import type { AvroRecordType } from '../avro-types';
import { channelFields, eventIdField, timestampMillis } from './channel-fields';
import { isOneOf, oneOfDoc } from './vocabulary';

/** The `type` values of a StreamLifecycle record (an Avro `string`: enums cannot gain symbols compatibly). */
export const LIFECYCLE_TYPES = ['started', 'ended', 'updated'] as const;
export type LifecycleType = (typeof LIFECYCLE_TYPES)[number];
export const isLifecycleType = isOneOf(LIFECYCLE_TYPES);

/** Who reported the transition: ingest's state derivation, or a creator's own tool through the gateway. */
export const LIFECYCLE_SOURCES = ['poll', 'creator_tool'] as const;
export type LifecycleSource = (typeof LIFECYCLE_SOURCES)[number];

export const StreamLifecycleSchema = {
  "type": "record",
  "name": "StreamLifecycle",
  "namespace": "io.spacehub.events",
  "doc": "A stream started, ended or was updated (title/category). Derived from state transitions by ingest, or reported by a creator's own tools through the gateway. Key: <platform>:<channelId>.",
  "fields": [
    { ...eventIdField, "doc": "Deterministic: platform, channel, stream id and type." },
    { "name": "type", "type": "string", "doc": oneOfDoc(LIFECYCLE_TYPES) },
    ...channelFields,
    { "name": "streamId", "type": "string" },
    { "name": "occurredAt", "type": timestampMillis },
    { "name": "title", "type": ["null", "string"], "default": null },
    { "name": "category", "type": ["null", "string"], "default": null },
    { "name": "source", "type": "string", "default": "poll", "doc": oneOfDoc(LIFECYCLE_SOURCES) },
    {
      "name": "reportedAt",
      "type": ["null", timestampMillis],
      "default": null,
      "doc": "creator_tool only: the tool's own instant, kept when it agrees with the gateway's receive time (occurredAt) within PROCESSOR_MAX_FUTURE_SKEW_SECONDS."
    }
  ]
} as const;
export type StreamLifecycle = AvroRecordType<typeof StreamLifecycleSchema>;
