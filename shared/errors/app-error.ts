/**
 * The base of every error we raise on purpose (STYLE habits 5 and 12): a stable code, whether a
 * retry can help, the context (platform, endpoint, channel, service, address), and the cause.
 * HTTP status codes are chosen at the API edge, not here.
 */
export interface ErrorContext {
  [key: string]: string | number | boolean | undefined;
}

export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly options: { retriable?: boolean; cause?: unknown; context?: ErrorContext } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
  }
  get retriable(): boolean {
    return this.options.retriable ?? false;
  }
  get context(): ErrorContext {
    return this.options.context ?? {};
  }
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, retriable: this.retriable, context: this.context };
  }
}

/** A backing service (Kafka, Schema Registry, ClickHouse, Redis) could not be reached or answered wrongly. */
export class ServiceUnavailableError extends AppError {
  constructor(readonly service: string, readonly address: string, cause?: unknown) {
    super('SERVICE_UNAVAILABLE', `${service} is unreachable at ${address}${cause instanceof Error ? `: ${cause.message}` : ''}`, {
      retriable: true,
      cause,
      context: { service, address },
    });
  }
}

export function isRetriable(err: unknown): boolean {
  if (err instanceof AppError) return err.retriable;
  return false;
}
