import { z } from 'zod/v4';

/**
 * Response bodies. The service layer returns values of these inferred types and the OpenAPI document
 * shows these schemas, so the document describes what the code returns. Units are in the names or
 * descriptions; times are ISO-8601 UTC; a number that cannot be known is null, not 0.
 */
const iso = z.string().describe('ISO-8601 UTC');
const nullableNum = (d: string) => z.number().nullable().describe(d);

export const MetricPoint = z.object({
  start: iso.describe('Bucket start (UTC-aligned)'),
  liveMinutes: z.number().int().describe('1-minute windows in the bucket during which the channel was live'),
  samples: z.number().int().describe('Platform polls that fed the bucket'),
  avgViewers: nullableNum('Mean of the live windows\' average concurrent viewers; null when never live'),
  peakViewers: z.number().int().describe('Highest concurrent viewers seen'),
  minViewers: nullableNum('Lowest concurrent viewers while live'),
  viewerMinutes: z.number().describe('Viewer-minutes (hours watched × 60)'),
  followers: nullableNum('Follower/subscriber count at the end of the bucket (last known)'),
  followerDelta: z.number().int().describe('Followers gained (negative: lost)'),
  chatMessages: z.number().int(),
  uniqueChatters: z.number().int().describe('Unique chatters: exact per minute; for 1h/1d the busiest minute (a lower bound)'),
  engagementRate: nullableNum('Mean engagement rate of the live windows, as computed by the processors'),
  chatSamplingRate: z.number().describe('Lowest share of the chat read in the bucket (1 = all of it). Below 1 (YouTube chat sampled by the quota planner) chatMessages, uniqueChatters and engagementRate come from the sample: flagged, not scaled up'),
  chatSampled: z.boolean().describe('chatSamplingRate < 1: this bucket\'s chat figures and engagement come from sampled chat'),
  paidSubscribers: nullableNum('Twitch paid subscribers at the end of the bucket (last known); null when not read: the connection lacks channel:read:subscriptions (GET /v1/connections lists "subscribers" in needsReconnectFor) or the platform has none'),
  paidSubscriberDelta: nullableNum('Paid subscribers gained in the bucket (negative: lost); null when not read'),
  subscriptionPoints: nullableNum('Twitch subscription points at the end of the bucket (tier 1 = 1, 2 = 2, 3 = 6); null when not read'),
});

export const MetricSeries = z.object({
  platform: z.string(),
  channelId: z.string(),
  granularity: z.enum(['1m', '1h', '1d']),
  from: iso,
  to: iso,
  points: z.array(MetricPoint).describe('Only buckets with data; empty buckets are omitted'),
});

export const Session = z.object({
  streamId: z.string(),
  status: z.string().describe('live | ended'),
  startedAt: iso,
  endedAt: iso.nullable(),
  durationSeconds: z.number().int(),
  peakViewers: z.number().int(),
  avgViewers: z.number(),
  hoursWatched: z.number(),
  followersGained: z.number().int(),
  paidSubscribersGained: z.number().int().nullable().describe('Twitch paid subscribers gained over the stream; null when not read (no channel:read:subscriptions: see needsReconnectFor in GET /v1/connections; YouTube)'),
  chatMessages: z.number().int(),
  title: z.string().nullable(),
  category: z.string().nullable(),
});

export const SessionList = z.object({ platform: z.string(), channelId: z.string(), from: iso, to: iso, sessions: z.array(Session) });

const SessionFigures = z.object({
  durationSeconds: z.number(),
  peakViewers: z.number(),
  avgViewers: z.number(),
  hoursWatched: z.number(),
  followersGained: z.number(),
  chatMessages: z.number(),
});

/** One stream's report: the web dashboard's stream page (Twitch's Stream Summary, YouTube's post-stream report). */
export const StreamReport = z.object({
  platform: z.string(),
  channelId: z.string(),
  session: Session.describe('While live, the figures are running ones from the closed 1-minute windows (duration until now)'),
  granularity: z.enum(['1m', '1h']).describe('1m; 1h for a stream longer than 7 days'),
  points: z.array(MetricPoint).describe('The stream\'s windows, oldest first (viewers, chat, followers over time)'),
  peak: z.object({ viewers: z.number(), at: iso.describe('Start of the window with the highest peak') }).nullable().describe('Null when no window was recorded'),
  comparison: z.object({
    count: z.number().int().describe('How many earlier streams are compared with'),
    previous: z.array(Session).describe('The channel\'s earlier streams, newest first'),
    average: SessionFigures.nullable().describe('Mean of their figures; null when there is no earlier stream'),
  }),
});

const ModelRef = z.object({ name: z.string(), version: z.string() });

export const Prediction = z.object({
  startTime: iso.describe('Planned start'),
  durationMinutes: z.number().int().describe('Assumed duration (default: the channel\'s median recent session)'),
  expectedViewers: z.number().describe('Expected average concurrent viewers'),
  interval: z.object({ low: z.number(), high: z.number(), coverage: z.number().describe('Target share of streams inside (0.8), calibrated on held-out data') }).optional().describe('80 % interval'),
  baselines: z.object({ channelMean: z.number(), sameHourLastWeek: z.number().nullable(), channelHourOfWeek: z.number().optional() }).describe('What the model is evaluated against'),
  model: ModelRef.describe("name 'viewers' = the trained model; 'baseline:<name>' = the trained model lost to that baseline on its holdout, so the baseline is served"),
  holdout: z.object({
    sessions: z.number().int(), modelMae: z.number(), baseline: z.string(), baselineMae: z.number(), improvementPercent: z.number().describe('How much lower the model\'s error was than the best baseline\'s (negative = it lost)'),
  }).nullable().optional().describe('The held-out comparison that decided what is served'),
  explanation: z.string().optional().describe('What produced the number and how it did on held-out streams'),
});

const SlotReason = z.object({
  text: z.string().describe('e.g. "Sat 19:00 UTC: your last 6 streams in this slot averaged 23 viewers, 40 % above your mean (16)"'),
  streams: z.number().int(),
  basis: z.enum(['slot', 'hour', 'none']).describe('slot = this hour of this weekday; hour = this UTC hour on other days; none = never live at this hour'),
  meanViewers: z.number().nullable(),
  channelMeanViewers: z.number(),
  vsChannelMeanPercent: z.number().nullable(),
});

export const Slot = z.object({
  hourOfWeek: z.number().int().describe('0 = Monday 00:00 UTC … 167 = Sunday 23:00 UTC'),
  startsAt: iso.describe('Next start of this slot'),
  expectedViewers: z.number(),
  medianViewers: z.number().describe('Typical outcome; the first slot is the one with the best'),
  bestChance: z.number().min(0).max(1).optional().describe("Chance that this is the week's best hour, the hours of one stream day moving together; the slots after the first are ranked by it (absent when a baseline is served: by the typical outcome)"),
  low: z.number().describe('80 % interval, low end'),
  high: z.number().describe('80 % interval, high end'),
  reason: SlotReason.optional().describe('Why this slot, in numbers from your own streams'),
});

const notYet = z.object({
  value: z.null(),
  reason: z.string().describe('Why there is no value yet'),
});

export const StreamMetrics = z.object({
  connectionId: z.string(),
  platform: z.string(),
  channelId: z.string(),
  login: z.string(),
  displayName: z.string(),
  connectionStatus: z.string(),
  asOf: iso,
  live: z.boolean().describe('Live in the newest closed 1-minute window, if that window is recent'),
  lastWindowStart: iso.nullable().describe('Newest closed 1-minute window; null when none in the last 7 days'),
  stale: z.boolean().describe('True when the newest window is older than the freshness limit (the pipeline may be behind)'),
  viewers: z.object({
    current: nullableNum('Average concurrent viewers of the newest window, when live'),
    peak: nullableNum('Peak concurrent viewers of the current (or last) session'),
    average: nullableNum('Average concurrent viewers of the current (or last) session'),
  }),
  followers: z.object({
    current: nullableNum('Last known follower/subscriber count'),
    growth24h: z.number().int(),
    growth7d: z.number().int(),
  }),
  session: z
    .object({
      streamId: z.string(),
      status: z.string(),
      startedAt: iso,
      endedAt: iso.nullable(),
      durationSeconds: z.number().int().describe('Until now while live'),
      title: z.string().nullable(),
      category: z.string().nullable(),
      hoursWatched: z.number(),
      chatMessages: z.number().int(),
    })
    .nullable()
    .describe('The current session, else the last one; null when the channel never streamed'),
  engagement: z.object({
    current: nullableNum('Engagement rate of the newest window, when live'),
    sessionAverage: nullableNum('Mean engagement rate over the session\'s live windows'),
  }),
  predictedPotential: z.union([z.object({ value: Prediction, reason: z.null() }), notYet]).describe('Expected viewers if a stream started now'),
  bestNextSlot: z.union([z.object({ value: Slot, reason: z.null() }), notYet]).describe('The best hour-of-week slot of the coming week'),
});

const ChannelSummary = z.object({
  connectionId: z.string(),
  platform: z.string(),
  channelId: z.string(),
  displayName: z.string(),
  liveMinutes: z.number().int(),
  hoursWatched: z.number(),
  avgViewers: z.number().nullable(),
  peakViewers: z.number().int(),
  chatMessages: z.number().int(),
  followersGained: z.number().int(),
  followers: z.number().nullable(),
  sessions: z.number().int(),
});

export const CreatorSummary = z.object({
  userId: z.string(),
  from: iso,
  to: iso,
  totals: z.object({
    channels: z.number().int(),
    liveMinutes: z.number().int().describe('Sum over channels'),
    hoursWatched: z.number(),
    peakConcurrentViewers: nullableNum('Highest per-minute sum of peak viewers over live channels'),
    avgConcurrentViewers: nullableNum('Mean per-minute sum of average viewers, over minutes with a live channel'),
    chatMessages: z.number().int(),
    followersGained: z.number().int(),
    followers: z.number().int().describe('Sum of the last known counts'),
    sessions: z.number().int(),
  }),
  channels: z.array(ChannelSummary),
});

export const ConnectionOut = z.object({
  connectionId: z.string(),
  platform: z.string(),
  channelId: z.string(),
  login: z.string(),
  displayName: z.string(),
  status: z.enum(['active', 'reauth_required', 'revoked']),
  scopes: z.array(z.string()),
  needsReconnectFor: z.array(z.string()).describe('Figures the granted scopes do not cover (Twitch: subscribers, cheers, follows, chat); reconnecting the channel grants them'),
  createdAt: iso.nullable(),
  updatedAt: iso.nullable(),
});

export const ConnectionList = z.object({ connections: z.array(ConnectionOut) });

export const AuthorizeOut = z.object({ platform: z.string(), url: z.string().describe('Send the user here'), state: z.string().describe('Bound to you; comes back on the callback'), redirectUri: z.string() });

export const Predictions = z.object({ platform: z.string(), channelId: z.string(), predictions: z.array(Prediction) });

export const Recommendations = z.object({
  platform: z.string(),
  channelId: z.string(),
  generatedAt: iso,
  model: ModelRef,
  slots: z.array(Slot).describe('Best first'),
});

export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  requestId: z.string().optional(),
  invalidParams: z.array(z.object({ name: z.string(), in: z.string(), reason: z.string() })).optional().describe('On 400: each field that failed and why'),
});

export const Health = z.object({ status: z.literal('ok') });
export const Readiness = z.object({ status: z.enum(['ready', 'unavailable']), checks: z.record(z.string(), z.object({ ok: z.boolean(), ms: z.number(), error: z.string().optional() })) });

export type MetricSeriesT = z.infer<typeof MetricSeries>;
export type SessionT = z.infer<typeof Session>;
export type StreamReportT = z.infer<typeof StreamReport>;
export type StreamMetricsT = z.infer<typeof StreamMetrics>;
export type CreatorSummaryT = z.infer<typeof CreatorSummary>;
export type ConnectionOutT = z.infer<typeof ConnectionOut>;

export const AlertOut = z.object({
  alertId: z.string(),
  type: z.string().describe('stream_started | stream_ended | viewer_spike | follower_milestone | engagement_drop | reauth_required'),
  platform: z.string(),
  channelId: z.string(),
  occurredAt: iso,
  severity: z.string().describe('info | warning | critical'),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).describe('Type-specific details, e.g. the session summary of stream_ended'),
});
export const AlertList = z.object({ alerts: z.array(AlertOut) });
export type AlertListT = z.infer<typeof AlertList>;
