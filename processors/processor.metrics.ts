import { Counter, Gauge, Histogram } from 'prom-client';
import { getOrCreate, metricsRegistry } from '../shared/metrics/metrics';

/**
 * The processor's Prometheus metrics, on METRICS_PORT via shared/metrics. `topic` labels are the
 * logical topic names (snapshots, followers, chat, lifecycle), not the prefixed Kafka names.
 */
export const processorMetrics = {
  events: getOrCreate('spacehub_processor_events_total', () => new Counter({
    name: 'spacehub_processor_events_total',
    help: 'Input messages by outcome: ok, duplicate (same event id in its window), replayed (already accounted before the last commit), late, dlq',
    labelNames: ['topic', 'outcome'] as const,
    registers: [metricsRegistry],
  })),
  lateEvents: getOrCreate('spacehub_processor_late_events_total', () => new Counter({
    name: 'spacehub_processor_late_events_total',
    help: 'Events whose window had closed on the watermark; written to the late_events table',
    labelNames: ['topic'] as const,
    registers: [metricsRegistry],
  })),
  clampedEvents: getOrCreate('spacehub_processor_event_time_clamped_total', () => new Counter({
    name: 'spacehub_processor_event_time_clamped_total',
    help: 'Events whose event time lay more than PROCESSOR_MAX_FUTURE_SKEW_SECONDS after their arrival (Kafka record timestamp) and was bounded to it; topic "checkpoint" for a restored checkpoint that lay in the future',
    labelNames: ['topic'] as const,
    registers: [metricsRegistry],
  })),
  earlyFirings: getOrCreate('spacehub_processor_early_firings_total', () => new Counter({
    name: 'spacehub_processor_early_firings_total',
    help: 'Provisional MetricWindow messages of still-open windows (early firings, PROCESSOR_EARLY_FIRE_SECONDS)',
    registers: [metricsRegistry],
  })),
  deadLetters: getOrCreate('spacehub_processor_dlq_total', () => new Counter({
    name: 'spacehub_processor_dlq_total',
    help: 'Messages sent to the processor DLQ topic, by reason (undecodable, invalid)',
    labelNames: ['topic', 'reason'] as const,
    registers: [metricsRegistry],
  })),
  windowsClosed: getOrCreate('spacehub_processor_windows_closed_total', () => new Counter({
    name: 'spacehub_processor_windows_closed_total',
    help: '1-minute channel windows closed and written',
    registers: [metricsRegistry],
  })),
  alerts: getOrCreate('spacehub_processor_alerts_total', () => new Counter({
    name: 'spacehub_processor_alerts_total',
    help: 'Alerts raised (replays raise the same ids again and are counted again)',
    labelNames: ['type'] as const,
    registers: [metricsRegistry],
  })),
  flushSeconds: getOrCreate('spacehub_processor_flush_seconds', () => new Histogram({
    name: 'spacehub_processor_flush_seconds',
    help: 'One flush: ClickHouse inserts, session summaries, Kafka produce, offset commit',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [metricsRegistry],
  })),
  sinkRetries: getOrCreate('spacehub_processor_sink_retries_total', () => new Counter({
    name: 'spacehub_processor_sink_retries_total',
    help: 'Failed writes that were retried with backoff (consumption is paused meanwhile)',
    labelNames: ['target'] as const,
    registers: [metricsRegistry],
  })),
  watermark: getOrCreate('spacehub_processor_watermark_seconds', () => new Gauge({
    name: 'spacehub_processor_watermark_seconds',
    help: 'Event-time watermark per shard (partition number), epoch seconds',
    labelNames: ['partition'] as const,
    registers: [metricsRegistry],
  })),
  openWindows: getOrCreate('spacehub_processor_open_windows', () => new Gauge({
    name: 'spacehub_processor_open_windows',
    help: 'Open channel windows held in memory',
    registers: [metricsRegistry],
  })),
};
