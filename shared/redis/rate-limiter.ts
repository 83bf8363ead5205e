import type { Redis } from 'ioredis';
import { AppError } from '../errors/app-error';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  /** Requests left in the current window estimate (never negative). */
  remaining: number;
  /** Seconds until a request would be allowed again (0 when allowed). */
  retryAfterSeconds: number;
}

/**
 * Sliding-window counter per subject in Redis (the approximation Cloudflare and others use): two
 * fixed one-minute counters, the previous one weighted by how much of it still overlaps the sliding
 * window. Shared by every process, so a limit holds when a part is scaled out; two Redis round trips
 * at most, keys expire on their own. The API limits each token's requests with it (api/http/rate-limit.ts),
 * the gateway each user's stream events.
 */
export class RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly limitPerWindow: number,
    private readonly windowMs = 60_000,
    private readonly clock: () => number = Date.now,
  ) {}

  private key(subject: string, window: number) {
    return `${this.prefix}:api:ratelimit:${subject}:${window}`;
  }

  async hit(subject: string): Promise<RateDecision> {
    const now = this.clock();
    const window = Math.floor(now / this.windowMs);
    const elapsed = (now - window * this.windowMs) / this.windowMs;
    const current = this.key(subject, window);
    const res = await this.redis.multi().incr(current).pexpire(current, this.windowMs * 2).get(this.key(subject, window - 1)).exec();
    if (!res) throw new AppError('REDIS_TRANSACTION_ABORTED', 'rate limiter: Redis transaction aborted', { retriable: true });
    for (const [err] of res) if (err) throw err;
    const count = Number(res[0]![1]);
    const previous = Number(res[2]![1] ?? 0);
    const estimate = previous * (1 - elapsed) + count;
    const allowed = estimate <= this.limitPerWindow;
    let retryAfterSeconds = 0;
    if (!allowed) {
      // Without new requests the estimate falls as the previous window slides out; at the latest the
      // next window starts with only this window's count weighted down.
      const overshoot = estimate + 1 - this.limitPerWindow;
      const msUntilEnough = previous > 0 ? (overshoot / previous) * this.windowMs : Infinity;
      const msUntilNextWindow = (window + 1) * this.windowMs - now;
      retryAfterSeconds = Math.max(1, Math.ceil(Math.min(msUntilEnough, msUntilNextWindow) / 1000));
    }
    return { allowed, limit: this.limitPerWindow, remaining: Math.max(0, Math.floor(this.limitPerWindow - estimate)), retryAfterSeconds };
  }
}
