import type { AvroRecordType } from '../avro-types';
import { channelFields, timestampMillis } from './channel-fields';

export const MetricWindowSchema = {
  "type": "record",
  "name": "MetricWindow",
  "namespace": "io.spacehub.events",
  "doc": "A closed 1-minute event-time window of one channel, as written to ClickHouse. Key: <userId>.",
  "fields": [
    ...channelFields,
    { "name": "windowStart", "type": timestampMillis },
    { "name": "samples", "type": "long" },
    { "name": "avgViewers", "type": "double" },
    { "name": "peakViewers", "type": "long" },
    { "name": "minViewers", "type": "long" },
    { "name": "viewerMinutes", "type": "double" },
    { "name": "followers", "type": ["null", "long"], "default": null },
    { "name": "followerDelta", "type": "long", "default": 0 },
    { "name": "chatMessages", "type": "long", "default": 0 },
    { "name": "uniqueChatters", "type": "long", "default": 0 },
    { "name": "engagementRate", "type": "double", "default": 0 },
    { "name": "live", "type": "boolean", "default": true },
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
            { "name": "startedAt", "type": timestampMillis },
            { "name": "durationSeconds", "type": "long" },
            { "name": "peakViewers", "type": "long" },
            { "name": "avgViewers", "type": "double" },
            { "name": "hoursWatched", "type": "double" },
            { "name": "followersGained", "type": "long" },
            { "name": "chatMessages", "type": "long" },
            { "name": "paidSubscribersGained", "type": ["null", "long"], "default": null, "doc": "Twitch paid subscribers gained over the session's windows so far; null when none of them had the figure (no channel:read:subscriptions scope)." }
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
    },
    { "name": "paidSubscribers", "type": ["null", "long"], "default": null, "doc": "Twitch paid subscribers at the window's end (carried forward like followers); null, not 0, when unknown: a grant without channel:read:subscriptions, or a platform without them." },
    { "name": "paidSubscriberDelta", "type": ["null", "long"], "default": null, "doc": "Change of paidSubscribers since the window before; null with paidSubscribers." },
    { "name": "subscriptionPoints", "type": ["null", "long"], "default": null, "doc": "Twitch subscription points of the same read (tier 1 = 1, 2 = 2, 3 = 6); null with paidSubscribers." },
    { "name": "chatSamplingRate", "type": "double", "default": 1, "doc": "The lowest share of the chat read among the window's chat records (1 = all of it). Below 1 (YouTube chat sampled by the quota planner) chatMessages, uniqueChatters and engagementRate come from the sample: flagged, not scaled up." }
  ]
} as const;
export type MetricWindow = AvroRecordType<typeof MetricWindowSchema>;
