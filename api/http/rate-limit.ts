import type { RequestHandler } from 'express';
import type { Principal } from '../../shared/auth/api-tokens';
import { getOrCreate, metricsRegistry } from '../../shared/metrics/metrics';
import { Counter } from 'prom-client';
import { ProblemError } from './problem';
import type { RateLimiter } from '../../shared/redis/rate-limiter';

const rejected = () =>
  getOrCreate('spacehub_api_rate_limited_total', () => new Counter({ name: 'spacehub_api_rate_limited_total', help: 'API requests refused with 429', registers: [metricsRegistry] }));

/** Runs after authentication: the subject is the token, so one user's scripts cannot starve another's. */
export function rateLimit(limiter: RateLimiter): RequestHandler {
  return async (_req, res, next) => {
    try {
      const principal = res.locals.principal as Principal;
      const d = await limiter.hit(principal.tokenId);
      res.set({ 'RateLimit-Limit': String(d.limit), 'RateLimit-Remaining': String(d.remaining) });
      if (!d.allowed) {
        rejected().inc();
        throw new ProblemError(429, 'rate-limited', 'Too many requests', `this token may make ${d.limit} requests per minute; retry after ${d.retryAfterSeconds} s`, { retryAfterSeconds: d.retryAfterSeconds }, { 'Retry-After': String(d.retryAfterSeconds) });
      }
      next();
    } catch (err) {
      next(err);
    }
  };
}
