/**
 * The Avro schemas: the contract between the parts of the pipeline (STYLE habit 3). They are the one
 * source: TypeScript types below are derived from them at the type level, and the Schema Registry
 * receives them at bootstrap (subject "<topic>-value", compatibility BACKWARD). Evolve them only by
 * adding fields with defaults; a test registers an incompatible change to prove the registry rejects it.
 */
import type { AvroRecordType } from "./avro-types";

export const StreamSnapshotSchema = {
  "type": "record",
  "name": "StreamSnapshot",
  "namespace": "io.spacehub.events",
  "doc": "One poll of a channel's live state. Key: <platform>:<channelId>.",
  "fields": [
    {
      "name": "eventId",
      "type": "string",
      "doc": "Deterministic: platform, channel and observation time; re-polls of the same instant give the same id."
    },
    {
      "name": "platform",
      "type": "string",
      "doc": "twitch | youtube | …"
    },
    {
      "name": "channelId",
      "type": "string"
    },
    {
      "name": "userId",
      "type": "string",
      "doc": "The Space HUB user who connected the channel."
    },
    {
      "name": "observedAt",
      "type": {
        "type": "long",
        "logicalType": "timestamp-millis"
      },
      "doc": "Event time."
    },
    {
      "name": "live",
      "type": "boolean"
    },
    {
      "name": "viewers",
      "type": [
        "null",
        "long"
      ],
      "default": null,
      "doc": "Concurrent viewers; null when offline or hidden."
    },
    {
      "name": "streamId",
      "type": [
        "null",
        "string"
      ],
      "default": null
    },
    {
      "name": "startedAt",
      "type": [
        "null",
        {
          "type": "long",
          "logicalType": "timestamp-millis"
        }
      ],
      "default": null
    },
    {
      "name": "title",
      "type": [
        "null",
        "string"
      ],
      "default": null
    },
    {
      "name": "category",
      "type": [
        "null",
        "string"
      ],
      "default": null
    },
    {
      "name": "language",
      "type": [
        "null",
        "string"
      ],
      "default": null
    },
    {
      "name": "source",
      "type": "string",
      "default": "poll",
      "doc": "poll | creator_tool | replay"
    }
  ]
} as const;
export type StreamSnapshot = AvroRecordType<typeof StreamSnapshotSchema>;

export const FollowerCountSchema = {
  "type": "record",
  "name": "FollowerCount",
  "namespace": "io.spacehub.events",
  "doc": "Follower (Twitch) or subscriber (YouTube) total at one instant. Key: <platform>:<channelId>.",
  "fields": [
    {
      "name": "eventId",
      "type": "string"
    },
    {
      "name": "platform",
      "type": "string"
    },
    {
      "name": "channelId",
      "type": "string"
    },
    {
      "name": "userId",
      "type": "string"
    },
    {
      "name": "observedAt",
      "type": {
        "type": "long",
        "logicalType": "timestamp-millis"
      }
    },
    {
      "name": "followers",
      "type": "long"
    }
  ]
} as const;
export type FollowerCount = AvroRecordType<typeof FollowerCountSchema>;

export const ChatActivitySchema = {
  "type": "record",
  "name": "ChatActivity",
  "namespace": "io.spacehub.events",
  "doc": "Chat observed on a channel over [intervalStart, intervalEnd). Chatter ids are pseudonymous (hashed) so unique chatters can be counted per window without storing platform user ids. Key: <platform>:<channelId>.",
  "fields": [
    {
      "name": "eventId",
      "type": "string"
    },
    {
      "name": "platform",
      "type": "string"
    },
    {
      "name": "channelId",
      "type": "string"
    },
    {
      "name": "userId",
      "type": "string"
    },
    {
      "name": "intervalStart",
      "type": {
        "type": "long",
        "logicalType": "timestamp-millis"
      }
    },
    {
      "name": "intervalEnd",
      "type": {
        "type": "long",
        "logicalType": "timestamp-millis"
      },
      "doc": "Event time of this record."
    },
    {
      "name": "messages",
      "type": "long"
    },
    {
      "name": "chatterIds",
      "type": {
        "type": "array",
        "items": "string"
      },
      "default": []
    }
  ]
} as const;
export type ChatActivity = AvroRecordType<typeof ChatActivitySchema>;

export const StreamLifecycleSchema = {
  "type": "record",
  "name": "StreamLifecycle",
  "namespace": "io.spacehub.events",
  "doc": "A stream started, ended or was updated (title/category). Derived from state transitions by ingest, or reported by a creator's own tools through the gateway. Key: <platform>:<channelId>.",
  "fields": [
    {
      "name": "eventId",
      "type": "string",
      "doc": "Deterministic: platform, channel, stream id and type."
    },
    {
      "name": "type",
      "type": "string",
      "doc": "started | ended | updated"
    },
    {
      "name": "platform",
      "type": "string"
    },
    {
      "name": "channelId",
      "type": "string"
    },
    {
      "name": "userId",
      "type": "string"
    },
    {
      "name": "streamId",
      "type": "string"
    },
    {
      "name": "occurredAt",
      "type": {
        "type": "long",
        "logicalType": "timestamp-millis"
      }
    },
    {
      "name": "title",
      "type": [
        "null",
        "string"
      ],
      "default": null
    },
    {
      "name": "category",
      "type": [
        "null",
        "string"
      ],
      "default": null
    },
    {
      "name": "source",
      "type": "string",
      "default": "poll",
      "doc": "poll | creator_tool"
    },
    {
      "name": "reportedAt",
      "type": [
        "null",
        {
          "type": "long",
          "logicalType": "timestamp-millis"
        }
      ],
      "default": null,
      "doc": "creator_tool only: the tool's own instant, kept when it agrees with the gateway's receive time (occurredAt) within PROCESSOR_MAX_FUTURE_SKEW_SECONDS."
    }
  ]
} as const;
export type StreamLifecycle = AvroRecordType<typeof StreamLifecycleSchema>;

export const AlertSchema = {
  "type": "record",
  "name": "Alert",
  "namespace": "io.spacehub.events",
  "doc": "Something a creator should hear about. Key: <userId>.",
  "fields": [
    {
      "name": "alertId",
      "type": "string",
      "doc": "Deterministic, so a replay raises the same alert id (consumers de-duplicate)."
    },
    {
      "name": "type",
      "type": "string",
      "doc": "stream_started | stream_ended | viewer_spike | follower_milestone | engagement_drop | reauth_required"
    },
    {
      "name": "userId",
      "type": "string"
    },
    {
      "name": "platform",
      "type": "string"
    },
    {
      "name": "channelId",
      "type": "string"
    },
    {
      "name": "occurredAt",
      "type": {
        "type": "long",
        "logicalType": "timestamp-millis"
      }
    },
    {
      "name": "severity",
      "type": "string",
      "default": "info",
      "doc": "info | warning | critical"
    },
    {
      "name": "message",
      "type": "string"
    },
    {
      "name": "detailsJson",
      "type": "string",
      "default": "{}",
      "doc": "Type-specific details (e.g. the session summary on stream_ended), JSON."
    }
  ]
} as const;
export type Alert = AvroRecordType<typeof AlertSchema>;

export const MetricWindowSchema = {
  "type": "record",
  "name": "MetricWindow",
  "namespace": "io.spacehub.events",
  "doc": "A closed 1-minute event-time window of one channel, as written to ClickHouse. Key: <userId>.",
  "fields": [
    {
      "name": "platform",
      "type": "string"
    },
    {
      "name": "channelId",
      "type": "string"
    },
    {
      "name": "userId",
      "type": "string"
    },
    {
      "name": "windowStart",
      "type": {
        "type": "long",
        "logicalType": "timestamp-millis"
      }
    },
    {
      "name": "samples",
      "type": "long"
    },
    {
      "name": "avgViewers",
      "type": "double"
    },
    {
      "name": "peakViewers",
      "type": "long"
    },
    {
      "name": "minViewers",
      "type": "long"
    },
    {
      "name": "viewerMinutes",
      "type": "double"
    },
    {
      "name": "followers",
      "type": [
        "null",
        "long"
      ],
      "default": null
    },
    {
      "name": "followerDelta",
      "type": "long",
      "default": 0
    },
    {
      "name": "chatMessages",
      "type": "long",
      "default": 0
    },
    {
      "name": "uniqueChatters",
      "type": "long",
      "default": 0
    },
    {
      "name": "engagementRate",
      "type": "double",
      "default": 0
    },
    {
      "name": "live",
      "type": "boolean",
      "default": true
    },
    {
      "name": "session",
      "doc": "The running summary of the stream this window belongs to, while it is live (null otherwise): duration so far, peak, average, hours watched, followers gained and chat messages over its windows closed so far.",
      "type": [
        "null",
        {
          "type": "record",
          "name": "SessionFigures",
          "fields": [
            { "name": "streamId", "type": "string" },
            { "name": "startedAt", "type": { "type": "long", "logicalType": "timestamp-millis" } },
            { "name": "durationSeconds", "type": "long" },
            { "name": "peakViewers", "type": "long" },
            { "name": "avgViewers", "type": "double" },
            { "name": "hoursWatched", "type": "double" },
            { "name": "followersGained", "type": "long" },
            { "name": "chatMessages", "type": "long" }
          ]
        }
      ],
      "default": null
    },
    {
      "name": "provisional",
      "type": "boolean",
      "default": false,
      "doc": "True for an early firing: the running figures of a window that is still open (at most every PROCESSOR_EARLY_FIRE_SECONDS per channel); the final window (false) follows when it closes. Provisional windows are never written to ClickHouse."
    }
  ]
} as const;
export type MetricWindow = AvroRecordType<typeof MetricWindowSchema>;

export const HeartbeatSchema = {
  "type": "record",
  "name": "Heartbeat",
  "namespace": "io.spacehub.events",
  "doc": "A liveness tick from a pipeline process; lands in ClickHouse so dashboards can show end-to-end freshness.",
  "fields": [
    {
      "name": "eventId",
      "type": "string"
    },
    {
      "name": "source",
      "type": "string"
    },
    {
      "name": "emittedAt",
      "type": {
        "type": "long",
        "logicalType": "timestamp-millis"
      }
    },
    {
      "name": "sequence",
      "type": "long"
    }
  ]
} as const;
export type Heartbeat = AvroRecordType<typeof HeartbeatSchema>;

export const SCHEMAS = { StreamSnapshot: StreamSnapshotSchema, FollowerCount: FollowerCountSchema, ChatActivity: ChatActivitySchema, StreamLifecycle: StreamLifecycleSchema, Alert: AlertSchema, MetricWindow: MetricWindowSchema, Heartbeat: HeartbeatSchema } as const;
export type SchemaName = keyof typeof SCHEMAS;
