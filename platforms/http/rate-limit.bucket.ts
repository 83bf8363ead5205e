/**
 * Client side of Twitch's rate limit: a bucket per (client id, user token) whose size and refill come
 * from the platform's own `Ratelimit-Limit`, `Ratelimit-Remaining` and `Ratelimit-Reset` (epoch
 * seconds) headers. Requests wait for the reset instead of spending a 429; requests in flight count
 * against the remaining points, so a burst never exceeds the bucket from one process.
 * While the window is unknown (first use, or just after a reset) a single probe goes first and its
 * answer says how many points are really left — which also counts what other processes spent with
 * the same token. Processes can still race inside one window: the HTTP client retries such a 429
 * once after the reset, and a second one surfaces as a retriable RATE_LIMITED with retryAfterMs.
 */
export interface RateLimitHeaders {
  limit: number;
  remaining: number;
  resetAtMs: number;
}

interface Bucket {
  limit: number;
  remaining: number;
  /** When the platform refills the bucket; null = unknown (no answer seen in this window yet). */
  resetAtMs: number | null;
  /** False until an answer with headers arrives in the current window: then only one probe may fly. */
  known: boolean;
  inFlight: number;
  waiters: Array<() => void>;
  timer: NodeJS.Timeout | null;
}

export function parseRateLimitHeaders(h: Record<string, unknown>): RateLimitHeaders | null {
  const limit = Number(h['ratelimit-limit']);
  const remaining = Number(h['ratelimit-remaining']);
  const reset = Number(h['ratelimit-reset']);
  if (![limit, remaining, reset].every(Number.isFinite) || h['ratelimit-limit'] === undefined) return null;
  return { limit, remaining, resetAtMs: reset * 1000 };
}

/** What the HTTP client needs from a bucket: in-process (below) or shared through Redis (shared-rate-limit.bucket.ts). */
export interface RateLimiter {
  /** Resolves when a point may be spent, with a ticket to hand back to `complete`. */
  acquire(key: string): Promise<unknown>;
  complete(key: string, ticket: unknown, headers: RateLimitHeaders | null): void | Promise<void>;
  close(): void;
}

export class RateLimitBuckets implements RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /** `marginMs` covers clock skew between us and the platform around the reset instant. */
  constructor(private readonly opts: { defaultLimit: number; marginMs?: number; onWait?: (key: string, ms: number) => void }) {}

  /** Resolves when a point may be spent; the caller must call `complete` once the answer is in. */
  acquire(key: string): Promise<void> {
    const b = this.bucket(key);
    return new Promise<void>((resolve) => {
      b.waiters.push(resolve);
      this.pump(key, b);
    });
  }

  /** Records an answer (its headers, when it had them) and lets waiting requests go. */
  complete(key: string, _ticket: unknown, headers: RateLimitHeaders | null): void {
    const b = this.bucket(key);
    b.inFlight = Math.max(0, b.inFlight - 1);
    if (headers) {
      b.limit = headers.limit;
      if (!b.known) {
        b.known = true;
        b.remaining = headers.remaining;
        b.resetAtMs = headers.resetAtMs;
      }
      // Answers can arrive out of order: within one window the lowest remaining is the truth.
      if (b.resetAtMs !== null && headers.resetAtMs === b.resetAtMs) b.remaining = Math.min(b.remaining, headers.remaining);
      else if (b.resetAtMs === null || headers.resetAtMs > b.resetAtMs) {
        b.remaining = headers.remaining;
        b.resetAtMs = headers.resetAtMs;
      }
    }
    this.pump(key, b);
  }

  snapshot(key: string): { limit: number; remaining: number; resetAtMs: number | null; known: boolean; inFlight: number; waiting: number } {
    const b = this.bucket(key);
    return { limit: b.limit, remaining: b.remaining, resetAtMs: b.resetAtMs, known: b.known, inFlight: b.inFlight, waiting: b.waiters.length };
  }

  close(): void {
    for (const b of this.buckets.values()) {
      if (b.timer) clearTimeout(b.timer);
      b.timer = null;
      // Let waiters go: their requests fail or succeed on their own once the client is closed.
      for (const w of b.waiters.splice(0)) w();
    }
  }

  private bucket(key: string): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      b = { limit: this.opts.defaultLimit, remaining: this.opts.defaultLimit, resetAtMs: null, known: false, inFlight: 0, waiters: [], timer: null };
      this.buckets.set(key, b);
    }
    return b;
  }

  private pump(key: string, b: Bucket): void {
    const margin = this.opts.marginMs ?? 100;
    const now = Date.now();
    if (b.resetAtMs !== null && now >= b.resetAtMs + margin) {
      // The platform has refilled the bucket; a probe's answer tells us the new window.
      b.remaining = b.limit;
      b.resetAtMs = null;
      b.known = false;
    }
    const allowed = b.known ? b.remaining : 1;
    while (b.waiters.length > 0 && allowed - b.inFlight > 0) {
      b.inFlight++;
      b.waiters.shift()!();
    }
    if (b.waiters.length > 0 && b.resetAtMs !== null && !b.timer) {
      const wait = b.resetAtMs + margin - now;
      this.opts.onWait?.(key, wait);
      b.timer = setTimeout(() => {
        b.timer = null;
        this.pump(key, b);
      }, Math.max(0, wait));
    }
    // Otherwise every remaining point is in flight: the next `complete` pumps again.
  }
}
