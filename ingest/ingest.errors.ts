import { isAxiosError } from 'axios';
import { KafkaJSError } from 'kafkajs';
import { AppError } from '../shared/errors/app-error';
import { isPlatformError } from '../platforms/http/platform-error';
import { ReauthRequiredError } from '../platforms/tokens/token-provider';

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

/**
 * Decides what a failed poll does next, by the error's type (STYLE: errors that change retry behaviour
 * are types, never strings):
 * - reauth: the creator must reconnect (`ReauthRequiredError`, a refused grant `INVALID_GRANT`) — stop
 *   polling, alert, no retry, no DLQ (not a failure of ours);
 * - rate-limited: a platform limit (`RATE_LIMITED`, `QUOTA_EXCEEDED`) that says when it lifts — postpone
 *   this one job until then without spending an attempt (the worker dead-letters it instead when the reset
 *   is further away than the next poll); a limit without a reset time retries or dead-letters by `retriable`;
 * - retry: `retriable` is true (timeouts, 5xx, Kafka, malformed bodies) — exponential backoff with jitter, then DLQ;
 * - dead-letter: retrying cannot help (4xx, invalid requests, non-retriable typed errors) — DLQ now.
 * Errors of no type we know are retried: bounded attempts cost little, a lost poll costs data.
 */
export function classify(err: unknown, now = Date.now()): Verdict {
  const code = codeOf(err) ?? (err instanceof Error ? err.name : 'UNKNOWN');
  const reason = err instanceof Error ? `${err.name}${codeOf(err) ? ` [${codeOf(err)}]` : ''}: ${err.message}` : `Error: ${String(err)}`;
  if (err instanceof ReauthRequiredError || isPlatformError(err, 'INVALID_GRANT')) return { kind: 'reauth', code, reason };
  if (isPlatformError(err, 'RATE_LIMITED') || isPlatformError(err, 'QUOTA_EXCEEDED')) {
    if (err.retryAfterMs !== undefined) return { kind: 'rate-limited', code, reason, retryAfterMs: Math.max(0, err.retryAfterMs) };
    return { kind: err.retriable ? 'retry' : 'dead-letter', code, reason };
  }
  if (err instanceof AppError || err instanceof KafkaJSError) return { kind: err.retriable ? 'retry' : 'dead-letter', code, reason };
  // The adapters' HTTP client turns every response into a PlatformError; a bare axios error would come from a call outside it.
  if (isAxiosError(err) && err.response) {
    const { status, headers } = err.response;
    const retryAfterMs = status === 429 ? retryAfterOf(headers as Record<string, unknown>, now) : undefined;
    if (retryAfterMs !== undefined) return { kind: 'rate-limited', code, reason, retryAfterMs };
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { kind: 'dead-letter', code, reason };
  }
  return { kind: 'retry', code, reason };
}

/** The code an error carries, for the DLQ and the logs only (ours, or Node's and axios' `ECONNRESET`, `ERR_BAD_RESPONSE`). */
function codeOf(err: unknown): string | undefined {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined);

/** Milliseconds until a rate limit lifts, from a response's Ratelimit-Reset (epoch seconds) or Retry-After (seconds). */
function retryAfterOf(headers: Record<string, unknown>, now: number): number | undefined {
  const reset = num(headers['ratelimit-reset']);
  if (reset !== undefined) return Math.max(0, reset * 1000 - now);
  const retryAfter = num(headers['retry-after']);
  return retryAfter === undefined ? undefined : retryAfter * 1000;
}
