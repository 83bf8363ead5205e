import { AppError, isRetriable, ServiceUnavailableError } from './app-error';

export interface RetryOptions {
  /** Attempts in total, the first included (Infinity with `timeoutMs` for a readiness wait). */
  attempts: number;
  /** Also give up when the next attempt would start more than this many ms after the first one. */
  timeoutMs?: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** 0..1: the share of each delay that is randomised (full jitter at 1). */
  jitter?: number;
  /** Which errors may be retried; defaults to AppError.retriable. */
  retryOn?: (err: unknown) => boolean;
  /** What is being retried, for the error that says what ran out. */
  what: string;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
}

export class RetriesExhaustedError extends AppError {
  constructor(what: string, attempts: number, cause: unknown, elapsedMs?: number) {
    const spent = elapsedMs === undefined ? '' : ` in ${elapsedMs} ms`;
    super('RETRIES_EXHAUSTED', `${what}: gave up after ${attempts} attempts${spent}${cause instanceof Error ? `: ${cause.message}` : ''}`, {
      retriable: false,
      cause,
      context: { what, attempts },
    });
  }
}

/** Delay before retry number `attempt` (1-based): exponential, capped, with jitter. */
export function backoffDelay(attempt: number, o: Pick<RetryOptions, 'initialDelayMs' | 'maxDelayMs' | 'jitter'>, random = Math.random): number {
  const base = Math.min(o.maxDelayMs, o.initialDelayMs * 2 ** (attempt - 1));
  const jitter = o.jitter ?? 0.5;
  return Math.round(base * (1 - jitter) + base * jitter * random());
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** The one retry loop of the project (STYLE: kafkajs' shared retrier). */
export async function retry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const retryOn = o.retryOn ?? isRetriable;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!retryOn(err)) throw err;
      if (attempt >= o.attempts) throw new RetriesExhaustedError(o.what, attempt, err);
      const delay = backoffDelay(attempt, o);
      if (o.timeoutMs !== undefined && Date.now() + delay - started > o.timeoutMs) throw new RetriesExhaustedError(o.what, attempt, err, Date.now() - started);
      o.onRetry?.(err, attempt, delay);
      await sleep(delay, o.signal);
    }
  }
}

/**
 * Waits until a backing service answers (the readiness of Kafka, the Schema Registry, ClickHouse,
 * Redis): `probe` runs until it resolves, with backoff, for at most `timeoutMs`; then, or at once when the
 * probe fails with a non-retriable error (wrong credentials, say), a ServiceUnavailableError naming the
 * service and its address, whose cause is the last failure. Failures that are not our typed errors
 * (connection refused, socket closed) count as "not up yet".
 */
export async function waitUntilReachable(service: string, address: string, probe: () => Promise<void>, timeoutMs: number): Promise<void> {
  try {
    await retry(
      async () => {
        try {
          await probe();
        } catch (err) {
          throw err instanceof AppError ? err : new AppError('SERVICE_NOT_READY', `${service} did not answer`, { retriable: true, cause: err });
        }
      },
      { what: `wait for ${service}`, attempts: Number.POSITIVE_INFINITY, timeoutMs, initialDelayMs: 200, maxDelayMs: 1000 },
    );
  } catch (err) {
    const last = err instanceof RetriesExhaustedError ? err.cause : err;
    throw new ServiceUnavailableError(service, address, last instanceof AppError && last.code === 'SERVICE_NOT_READY' ? last.cause : last);
  }
}
