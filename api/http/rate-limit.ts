import type { Response } from 'express';
import { getOrCreate, metricsRegistry } from '../../shared/metrics/metrics';
import { Counter } from 'prom-client';
import { ProblemError } from './problem';
import type { RateDecision } from '../../shared/redis/rate-limiter';

const rejected = () =>
  getOrCreate('spacehub_api_rate_limited_total', () => new Counter({ name: 'spacehub_api_rate_limited_total', help: 'API requests refused with 429', registers: [metricsRegistry] }));

/**
 * A token's rate decision (shared/redis/rate-limiter.ts, the subject is the token, so one user's
 * scripts cannot starve another's) on the response: RateLimit-* headers, and a 429 with Retry-After
 * when it is refused. Runs in the request guard, after authentication.
 */
export function enforceRateDecision(res: Response, d: RateDecision): void {
  res.set({ 'RateLimit-Limit': String(d.limit), 'RateLimit-Remaining': String(d.remaining) });
  if (!d.allowed) {
    rejected().inc();
    throw new ProblemError(429, 'rate-limited', 'Too many requests', `this token may make ${d.limit} requests per minute; retry after ${d.retryAfterSeconds} s`, { retryAfterSeconds: d.retryAfterSeconds }, { 'Retry-After': String(d.retryAfterSeconds) });
  }
}
