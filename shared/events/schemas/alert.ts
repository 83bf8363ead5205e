import type { AvroRecordType } from '../avro-types';
import { channelIdField, platformField, timestampMillis, userIdField } from './channel-fields';

export const AlertSchema = {
  "type": "record",
  "name": "Alert",
  "namespace": "io.spacehub.events",
  "doc": "Something a creator should hear about. Key: <userId>.",
  "fields": [
    { "name": "alertId", "type": "string", "doc": "Deterministic, so a replay raises the same alert id (consumers de-duplicate)." },
    {
      "name": "type",
      "type": "string",
      "doc": "stream_started | stream_ended | viewer_spike | follower_milestone | engagement_drop | reauth_required"
    },
    userIdField,
    platformField,
    channelIdField,
    { "name": "occurredAt", "type": timestampMillis },
    { "name": "severity", "type": "string", "default": "info", "doc": "info | warning | critical" },
    { "name": "message", "type": "string" },
    {
      "name": "detailsJson",
      "type": "string",
      "default": "{}",
      "doc": "Type-specific details (e.g. the session summary on stream_ended), JSON."
    }
  ]
} as const;
export type Alert = AvroRecordType<typeof AlertSchema>;
