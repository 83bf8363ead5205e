/**
 * The base of every error we raise on purpose (STYLE habits 5 and 12): a stable code, whether a
 * retry can help, the context (platform, endpoint, channel, service, address), and the cause.
 * HTTP status codes are chosen at the API edge, not here.
 */
export interface ErrorContext {
  [key: string]: string | number | boolean | undefined;
}

/**
 * `C` is the error's code as a literal type (`class X extends AppError<'X_FAILED'>`, or inferred from
 * `new AppError('X_FAILED', …)`), so whoever branches or maps on codes (the API's status table) names
 * only codes something raises: `CodeOf<SomeError | OtherError>` is the union of theirs.
 */
export class AppError<C extends string = string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    readonly options: { retriable?: boolean; cause?: unknown; context?: ErrorContext } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    // Not an own enumerable field: a logged error shows `cause` once (the serializer walks it), not a raw copy too.
    Object.defineProperty(this, 'options', { enumerable: false });
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
export class ServiceUnavailableError extends AppError<'SERVICE_UNAVAILABLE'> {
  constructor(readonly service: string, readonly address: string, cause?: unknown) {
    super('SERVICE_UNAVAILABLE', `${service} is unreachable at ${address}${cause instanceof Error ? `: ${cause.message}` : ''}`, {
      retriable: true,
      cause,
      context: { service, address },
    });
  }
}

/** The code union of one or more AppError classes: `CodeOf<ModelNotReadyError | PlatformError>`. */
export type CodeOf<E> = E extends AppError<infer C> ? C : never;

export function isRetriable(err: unknown): boolean {
  if (err instanceof AppError) return err.retriable;
  return false;
}
