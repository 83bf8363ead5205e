import { Counter, Gauge } from 'prom-client';
import { getOrCreate, metricsRegistry } from '../shared/metrics/metrics';

/** The gateway's Prometheus metrics (labels are bounded: protocol, known event names, error codes). */
export const gatewayMetrics = {
  connections: getOrCreate('spacehub_gateway_connections', () =>
    new Gauge({ name: 'spacehub_gateway_connections', help: 'Open client connections', labelNames: ['protocol'], registers: [metricsRegistry] })),
  authFailures: getOrCreate('spacehub_gateway_auth_failures_total', () =>
    new Counter({ name: 'spacehub_gateway_auth_failures_total', help: 'Connections refused for a missing or invalid token', labelNames: ['protocol'], registers: [metricsRegistry] })),
  messagesIn: getOrCreate('spacehub_gateway_messages_in_total', () =>
    new Counter({ name: 'spacehub_gateway_messages_in_total', help: 'Client messages received, by event (unknown events as "other")', labelNames: ['protocol', 'event'], registers: [metricsRegistry] })),
  upgradesRefused: getOrCreate('spacehub_gateway_upgrades_refused_total', () =>
    new Counter({ name: 'spacehub_gateway_upgrades_refused_total', help: 'Connection attempts refused before a socket opened, by reason (unauthorized, ip_throttled, user_socket_limit, unavailable)', labelNames: ['protocol', 'reason'], registers: [metricsRegistry] })),
  errors: getOrCreate('spacehub_gateway_errors_total', () =>
    new Counter({ name: 'spacehub_gateway_errors_total', help: 'Errors answered to clients, by code', labelNames: ['protocol', 'code'], registers: [metricsRegistry] })),
  closedByServer: getOrCreate('spacehub_gateway_closed_by_server_total', () =>
    new Counter({ name: 'spacehub_gateway_closed_by_server_total', help: 'Connections the server closed, by reason', labelNames: ['protocol', 'reason'], registers: [metricsRegistry] })),
  backpressure: getOrCreate('spacehub_gateway_backpressure_total', () =>
    new Counter({ name: 'spacehub_gateway_backpressure_total', help: 'Slow-consumer actions: messages dropped or clients closed', labelNames: ['protocol', 'action'], registers: [metricsRegistry] })),
  feed: getOrCreate('spacehub_gateway_feed_records_total', () =>
    new Counter({ name: 'spacehub_gateway_feed_records_total', help: 'Kafka feed records, by kind and outcome', labelNames: ['kind', 'outcome'], registers: [metricsRegistry] })),
  streamEvents: getOrCreate('spacehub_gateway_stream_events_published_total', () =>
    new Counter({ name: 'spacehub_gateway_stream_events_published_total', help: 'Creator-tool stream events published to the lifecycle topic', labelNames: ['type'], registers: [metricsRegistry] })),
};
