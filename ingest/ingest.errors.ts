import { AppError } from '../shared/errors/app-error';

/** The adapter answered, but with data we cannot turn into an event (a platform quirk or a broken body). */
export class MalformedPlatformDataError extends AppError {
  constructor(platform: string, channelId: string, detail: string) {
    // Retriable: a truncated or garbled body is usually transient; attempts are bounded and the DLQ keeps the rest.
    super('PLATFORM_DATA_MALFORMED', `${platform} returned unusable data for channel ${channelId}: ${detail}`, {
      retriable: true,
      context: { platform, channelId },
    });
  }
}

/** A poll job ran out of INGEST_JOB_TIMEOUT_MS (the adapter has its own HTTP timeout; this bounds the whole run). */
export class PollTimeoutError extends AppError {
  constructor(what: string, timeoutMs: number) {
    super('POLL_TIMEOUT', `${what} did not finish within ${timeoutMs} ms`, { retriable: true, context: { what, timeoutMs } });
  }
}

/** Kafka did not take our events; kafkajs already retried internally, the job retries with backoff. */
export class ProduceFailedError extends AppError {
  constructor(topics: string, cause: unknown) {
    super('KAFKA_PRODUCE_FAILED', `producing to ${topics} failed${cause instanceof Error ? `: ${cause.message}` : ''}`, {
      retriable: true,
      cause,
      context: { topics },
    });
  }
}

/** The platform keeps rate limiting one job; it went to the DLQ instead of waiting forever. */
export class RateLimitDeferralsExhaustedError extends AppError {
  constructor(deferrals: number, cause: unknown) {
    super('RATE_LIMIT_DEFERRALS_EXHAUSTED', `postponed ${deferrals} times by platform rate limits${cause instanceof Error ? `: ${cause.message}` : ''}`, {
      retriable: false,
      cause,
      context: { deferrals },
    });
  }
}

export type Verdict =
  | { kind: 'retry'; code: string; reason: string }
  | { kind: 'dead-letter'; code: string; reason: string }
  | { kind: 'rate-limited'; code: string; reason: string; retryAfterMs: number }
  | { kind: 'reauth'; code: string; reason: string };

interface ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  retriable?: boolean;
  status?: number;
  statusCode?: number;
  retryAfterMs?: number;
  resetAt?: number;
  context?: Record<string, unknown>;
  response?: { status?: number; headers?: Record<string, string | undefined> };
  isAxiosError?: boolean;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined);

/** Milliseconds until a rate limit lifts, from whatever the error carries (adapter fields, Ratelimit-Reset, Retry-After). */
function retryAfterOf(e: ErrorShape, now: number): number | undefined {
  const ctx = e.context ?? {};
  const after = num(e.retryAfterMs) ?? num(ctx.retryAfterMs);
  if (after !== undefined) return Math.max(0, after);
  const resetAt = num(e.resetAt) ?? num(ctx.resetAt);
  if (resetAt !== undefined) return Math.max(0, (resetAt < 1e11 ? resetAt * 1000 : resetAt) - now);
  const h = e.response?.headers ?? {};
  const reset = num(h['ratelimit-reset']);
  if (reset !== undefined) return Math.max(0, reset * 1000 - now);
  const retryAfter = num(h['retry-after']);
  if (retryAfter !== undefined) return retryAfter * 1000;
  return undefined;
}

/**
 * Decides what a failed poll does next (STYLE: errors that change retry behaviour are types):
 * - reauth: the creator must reconnect — stop polling, alert, no retry, no DLQ (not a failure of ours);
 * - rate-limited: postpone this one job until the platform's reset, without spending an attempt
 *   (the worker dead-letters it instead when the reset is further away than the next poll);
 * - retry: transient (timeouts, 5xx, Kafka, malformed bodies) — exponential backoff with jitter, then DLQ;
 * - dead-letter: retrying cannot help (4xx, invalid requests, non-retriable typed errors) — DLQ now.
 * Errors we do not recognise are retried: bounded attempts cost little, a lost poll costs data.
 */
export function classify(err: unknown, now = Date.now()): Verdict {
  const e = (err ?? {}) as ErrorShape;
  const code = e.code ?? e.name ?? 'UNKNOWN';
  const reason = `${e.name ?? 'Error'}${e.code ? ` [${e.code}]` : ''}: ${e.message ?? String(err)}`;
  const status = e.status ?? e.statusCode ?? e.response?.status ?? (num(e.context?.status) as number | undefined);

  if (e.name === 'ReauthRequiredError' || code === 'REAUTH_REQUIRED' || code === 'INVALID_GRANT') return { kind: 'reauth', code, reason };
  const rateLimited = status === 429 || /RATE_?LIMIT/i.test(code) || /RateLimit/.test(e.name ?? '') || /QUOTA/i.test(code);
  if (rateLimited) {
    const retryAfterMs = retryAfterOf(e, now);
    if (retryAfterMs !== undefined) return { kind: 'rate-limited', code, reason, retryAfterMs };
    return { kind: e.retriable === false ? 'dead-letter' : 'retry', code, reason };
  }
  if (err instanceof AppError) return { kind: err.retriable ? 'retry' : 'dead-letter', code, reason };
  if (typeof e.retriable === 'boolean') return { kind: e.retriable ? 'retry' : 'dead-letter', code, reason };
  if (status !== undefined && status >= 400 && status < 500 && status !== 408) return { kind: 'dead-letter', code, reason };
  return { kind: 'retry', code, reason };
}
