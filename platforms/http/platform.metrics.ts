import { Counter, Gauge, Histogram } from 'prom-client';
import { getOrCreate, metricsRegistry } from '../../shared/metrics/metrics';

/** Rate-limit usage and quota are visible (creators complain when they are not): DESIGN.md §4. */
export const platformRequests = getOrCreate(
  'spacehub_platform_requests_total',
  () => new Counter({ name: 'spacehub_platform_requests_total', help: 'Platform API calls by outcome (ok or error code)', labelNames: ['platform', 'endpoint', 'outcome'], registers: [metricsRegistry] }),
);
export const platformLatency = getOrCreate(
  'spacehub_platform_request_seconds',
  () => new Histogram({ name: 'spacehub_platform_request_seconds', help: 'Platform API call duration', labelNames: ['platform', 'endpoint'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [metricsRegistry] }),
);
export const rateLimitRemaining = getOrCreate(
  'spacehub_platform_ratelimit_remaining',
  () => new Gauge({ name: 'spacehub_platform_ratelimit_remaining', help: 'Last Ratelimit-Remaining seen (Twitch)', labelNames: ['platform'], registers: [metricsRegistry] }),
);
export const rateLimitWaits = getOrCreate(
  'spacehub_platform_ratelimit_waits_total',
  () => new Counter({ name: 'spacehub_platform_ratelimit_waits_total', help: 'Times a request waited for Ratelimit-Reset instead of spending a 429', labelNames: ['platform'], registers: [metricsRegistry] }),
);
export const quotaUsed = getOrCreate(
  'spacehub_youtube_quota_used_units',
  () => new Gauge({ name: 'spacehub_youtube_quota_used_units', help: 'YouTube quota units charged today (Pacific day)', registers: [metricsRegistry] }),
);
export const tokenRefreshes = getOrCreate(
  'spacehub_platform_token_refreshes_total',
  () => new Counter({ name: 'spacehub_platform_token_refreshes_total', help: 'Token refreshes by outcome', labelNames: ['platform', 'outcome'], registers: [metricsRegistry] }),
);
