import { Counter, Gauge, Histogram } from 'prom-client';
import { getOrCreate, metricsRegistry } from '../shared/metrics/metrics';

/**
 * Ingest's Prometheus metrics (STYLE habit 6: every external call has a metric). Exposed on
 * METRICS_PORT by shared/metrics; names are prefixed spacehub_ingest_.
 */
export const ingestMetrics = {
  jobs: getOrCreate(
    'spacehub_ingest_jobs_total',
    () =>
      new Counter({
        name: 'spacehub_ingest_jobs_total',
        help: 'Poll job runs by outcome (done, skipped, retried, rate_limited, dead_lettered, reauth)',
        labelNames: ['platform', 'resource', 'outcome'] as const,
        registers: [metricsRegistry],
      }),
  ),
  figuresSkipped: getOrCreate(
    'spacehub_ingest_figures_skipped_total',
    () =>
      new Counter({
        name: 'spacehub_ingest_figures_skipped_total',
        help: 'Figures a poll did not read (recorded as null): reason no_scope (the grant lacks it), scope_refused (the platform refused it), refused (another 4xx)',
        labelNames: ['platform', 'figure', 'reason'] as const,
        registers: [metricsRegistry],
      }),
  ),
  platformLatency: getOrCreate(
    'spacehub_ingest_platform_request_seconds',
    () =>
      new Histogram({
        name: 'spacehub_ingest_platform_request_seconds',
        help: 'Latency of adapter calls (token + platform request), by outcome',
        labelNames: ['platform', 'resource', 'outcome'] as const,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [metricsRegistry],
      }),
  ),
  produceLatency: getOrCreate(
    'spacehub_ingest_kafka_produce_seconds',
    () =>
      new Histogram({
        name: 'spacehub_ingest_kafka_produce_seconds',
        help: 'Latency of producing one poll\'s events until Kafka acknowledged them (encode, group commit, acks=all)',
        labelNames: ['outcome'] as const,
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers: [metricsRegistry],
      }),
  ),
  events: getOrCreate(
    'spacehub_ingest_events_produced_total',
    () =>
      new Counter({
        name: 'spacehub_ingest_events_produced_total',
        help: 'Events produced to Kafka by topic name (snapshots, followers, chat, lifecycle, alerts)',
        labelNames: ['topic'] as const,
        registers: [metricsRegistry],
      }),
  ),
  schedulers: getOrCreate(
    'spacehub_ingest_schedulers',
    () =>
      new Gauge({
        name: 'spacehub_ingest_schedulers',
        help: 'Job schedulers after the last reconciliation, by platform',
        labelNames: ['platform'] as const,
        registers: [metricsRegistry],
      }),
  ),
  chatIntervalMs: getOrCreate(
    'spacehub_ingest_chat_interval_ms',
    () =>
      new Gauge({
        name: 'spacehub_ingest_chat_interval_ms',
        help: 'The chat poll interval last chosen, by platform (YouTube: stretched by pollingIntervalMillis and the daily quota)',
        labelNames: ['platform'] as const,
        registers: [metricsRegistry],
      }),
  ),
  batchChannels: getOrCreate(
    'spacehub_ingest_batch_channels_total',
    () =>
      new Counter({
        name: 'spacehub_ingest_batch_channels_total',
        help: 'Channels whose stream state a batch job observed (issue 18: one job per shard, not per channel), by platform',
        labelNames: ['platform'] as const,
        registers: [metricsRegistry],
      }),
  ),
  youtubeQuotaPlanned: getOrCreate(
    'spacehub_youtube_quota_plan_units',
    () =>
      new Gauge({
        name: 'spacehub_youtube_quota_plan_units',
        help: 'YouTube units the quota planner gives each purpose until the Pacific-midnight reset (goLive, liveRefresh, chat, subscribers)',
        labelNames: ['purpose'] as const,
        registers: [metricsRegistry],
      }),
  ),
  youtubeQuotaIntervalSeconds: getOrCreate(
    'spacehub_youtube_quota_interval_seconds',
    () =>
      new Gauge({
        name: 'spacehub_youtube_quota_interval_seconds',
        help: 'The poll interval the quota planner set per purpose (per creator; per batch for liveRefresh)',
        labelNames: ['purpose'] as const,
        registers: [metricsRegistry],
      }),
  ),
  youtubeQuotaSpent: getOrCreate(
    'spacehub_youtube_quota_spent_units',
    () =>
      new Gauge({
        name: 'spacehub_youtube_quota_spent_units',
        help: 'YouTube units charged today by purpose (from the shared ledger, per API method)',
        labelNames: ['purpose'] as const,
        registers: [metricsRegistry],
      }),
  ),
  youtubeChatSamplingRate: getOrCreate(
    'spacehub_youtube_chat_sampling_rate',
    () =>
      new Gauge({
        name: 'spacehub_youtube_chat_sampling_rate',
        help: 'Planned / full-rate YouTube chat polls (1 = every live chat at INGEST_CHAT_MIN_POLL_MS); engagement from sampled chat is flagged with it, not scaled',
        registers: [metricsRegistry],
      }),
  ),
  pushEvents: getOrCreate(
    'spacehub_ingest_push_events_total',
    () =>
      new Counter({
        name: 'spacehub_ingest_push_events_total',
        help: 'Pushed platform events (Twitch EventSub) by kind and outcome (produced, failed)',
        labelNames: ['platform', 'kind', 'outcome'] as const,
        registers: [metricsRegistry],
      }),
  ),
  pushLatency: getOrCreate(
    'spacehub_ingest_push_delivery_seconds',
    () =>
      new Histogram({
        name: 'spacehub_ingest_push_delivery_seconds',
        help: "Platform's event instant (EventSub message timestamp or event time) → its records acknowledged by Kafka",
        labelNames: ['platform', 'kind'] as const,
        buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [metricsRegistry],
      }),
  ),
  pushSessions: getOrCreate(
    'spacehub_ingest_push_channels',
    () =>
      new Gauge({
        name: 'spacehub_ingest_push_channels',
        help: 'Channels this process watches over push (EventSub sessions), connected or not',
        labelNames: ['platform', 'state'] as const,
        registers: [metricsRegistry],
      }),
  ),
};
