import type { ChainableCommander, Redis } from 'ioredis';
import { AppError } from '../errors/app-error';
import { type RedisRead, runRead } from './redis-read';

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
 * window. Shared by every process, so a limit holds when a part is scaled out; one Redis round trip
 * (a MULTI), keys expire on their own. The API limits each token's requests with it (api/http/
 * request-guard.ts, batched with the token lookup through `hitRead`), the gateway each user's stream events.
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
    return runRead(this.redis, this.hitRead(subject));
  }

  /**
   * The same hit as a RedisRead, for a caller that batches it with other reads in one round trip
   * (shared/redis/redis-read.ts). The counter update stays one MULTI inside that pipeline.
   */
  hitRead(subject: string): RedisRead<RateDecision> {
    const now = this.clock();
    const window = Math.floor(now / this.windowMs);
    const current = this.key(subject, window);
    return {
      commands: 5, // MULTI, INCR, PEXPIRE, GET, EXEC
      // A pipeline takes a MULTI … EXEC like any commands (ioredis' own multi() is such a pipeline); its types leave multi out.
      queue: (p) => void (p as unknown as { multi(): ChainableCommander }).multi().incr(current).pexpire(current, this.windowMs * 2).get(this.key(subject, window - 1)).exec(),
      decode: (replies) => {
        // Inside a pipeline the three commands answer QUEUED; EXEC answers their results (null: aborted).
        const res = replies[4] as [number, number, string | null] | null;
        if (!res) throw new AppError('REDIS_TRANSACTION_ABORTED', 'rate limiter: Redis transaction aborted', { retriable: true });
        return this.decide(now, window, Number(res[0]), Number(res[2] ?? 0));
      },
    };
  }

  private decide(now: number, window: number, count: number, previous: number): RateDecision {
    const elapsed = (now - window * this.windowMs) / this.windowMs;
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
