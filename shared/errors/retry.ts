import { AppError, isRetriable } from './app-error';

export interface RetryOptions {
  /** Attempts in total, the first included. */
  attempts: number;
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
  constructor(what: string, attempts: number, cause: unknown) {
    super('RETRIES_EXHAUSTED', `${what}: gave up after ${attempts} attempts${cause instanceof Error ? `: ${cause.message}` : ''}`, {
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
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!retryOn(err)) throw err;
      if (attempt >= o.attempts) throw new RetriesExhaustedError(o.what, attempt, err);
      const delay = backoffDelay(attempt, o);
      o.onRetry?.(err, attempt, delay);
      await sleep(delay, o.signal);
    }
  }
}
