import { Counter, Histogram } from 'prom-client';
import { getOrCreate, metricsRegistry } from '../shared/metrics/metrics';

/** Prometheus metrics of outbound webhooks (spacehub_notify_*), served by the shared metrics server. */
export const notifyMetrics = {
  deliveries: getOrCreate(
    'spacehub_notify_deliveries_total',
    () => new Counter({
      name: 'spacehub_notify_deliveries_total',
      help: 'Webhook delivery attempts by outcome (delivered, retrying, failed, dead_lettered, duplicate, skipped, refused)',
      labelNames: ['format', 'outcome'] as const,
      registers: [metricsRegistry],
    }),
  ),
  latency: getOrCreate(
    'spacehub_notify_delivery_seconds',
    () => new Histogram({
      name: 'spacehub_notify_delivery_seconds',
      help: 'Latency of one webhook POST until the receiver answered (or timed out), by outcome',
      labelNames: ['format', 'outcome'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [metricsRegistry],
    }),
  ),
  postponed: getOrCreate(
    'spacehub_notify_postponed_total',
    () => new Counter({
      name: 'spacehub_notify_postponed_total',
      help: 'Deliveries put back without an attempt: the user already had NOTIFY_USER_CONCURRENCY in flight, or the endpoint\'s circuit was open',
      labelNames: ['reason'] as const,
      registers: [metricsRegistry],
    }),
  ),
  deadLettered: getOrCreate(
    'spacehub_notify_dead_lettered_total',
    () => new Counter({ name: 'spacehub_notify_dead_lettered_total', help: 'Deliveries given up after the last attempt', registers: [metricsRegistry] }),
  ),
  enqueued: getOrCreate(
    'spacehub_notify_alerts_total',
    () => new Counter({
      name: 'spacehub_notify_alerts_total',
      help: 'Alerts read from Kafka by outcome (enqueued, no_endpoint, undecodable)',
      labelNames: ['outcome'] as const,
      registers: [metricsRegistry],
    }),
  ),
};
