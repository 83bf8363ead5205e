import type { AvroRecordType } from '../avro-types';
import { channelIdField, platformField, timestampMillis, userIdField } from './channel-fields';
import { isOneOf, oneOfDoc } from './vocabulary';

/**
 * The `type` values an Alert carries. The field stays an Avro `string` (an Avro enum gaining a symbol is
 * not a backward-compatible change); this list is the one TypeScript vocabulary over it: the processors'
 * rules raise the window and lifecycle types, ingest raises `reauth_required` and the pushed audience
 * events (`new_follower`, `raid`, `new_subscriber`, `cheer`), notifications let users
 * subscribe to each of them. A new alert type is one entry here.
 */
export const ALERT_TYPES = [
  'stream_started', 'stream_ended', 'viewer_spike', 'follower_milestone', 'engagement_drop', 'reauth_required',
  // Pushed by the platform (Twitch EventSub, issue 18.2), raised by ingest from ChannelEvent records.
  'new_follower', 'raid', 'new_subscriber', 'cheer',
] as const;
export type AlertType = (typeof ALERT_TYPES)[number];
export const isAlertType = isOneOf(ALERT_TYPES);

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export const AlertSchema = {
  "type": "record",
  "name": "Alert",
  "namespace": "io.spacehub.events",
  "doc": "Something a creator should hear about. Key: <userId>.",
  "fields": [
    { "name": "alertId", "type": "string", "doc": "Deterministic, so a replay raises the same alert id (consumers de-duplicate)." },
    { "name": "type", "type": "string", "doc": oneOfDoc(ALERT_TYPES) },
    userIdField,
    platformField,
    channelIdField,
    { "name": "occurredAt", "type": timestampMillis },
    { "name": "severity", "type": "string", "default": "info", "doc": oneOfDoc(ALERT_SEVERITIES) },
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
