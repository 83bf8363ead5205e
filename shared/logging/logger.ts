import pino, { Logger } from 'pino';
import { AppError } from '../errors/app-error';

export type { Logger };

/**
 * Structured logging (pino). Secrets never reach a log line: fields that carry them are redacted by
 * path, wherever they sit in the object, and query text or payloads are not logged by default.
 * Errors are logged whole, as `{ err }` (STYLE habit 5): pino's errWithCause serializer keeps the type,
 * message, stack, our `code`/`context` and the `cause` chain as objects of their own — never `err.message`.
 */
export const REDACT_PATHS = [
  'token', 'accessToken', 'refreshToken', 'access_token', 'refresh_token', 'id_token', 'client_secret', 'clientSecret',
  'authorization', 'Authorization', 'password', 'secret', 'authCode', 'codeVerifier', 'code_verifier', 'apiToken',
  '*.token', '*.accessToken', '*.refreshToken', '*.access_token', '*.refresh_token', '*.client_secret', '*.clientSecret',
  '*.authorization', '*.Authorization', '*.password', '*.secret', '*.apiToken', '*.codeVerifier',
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["sec-websocket-protocol"]', 'headers.authorization',
  // A whole error is logged (below); an HTTP client's error or its cause would carry the request it made.
  'err.config.headers.Authorization', 'err.config.headers.authorization', 'err.config.data', 'err.request', 'err.response.config',
  'err.cause.config.headers.Authorization', 'err.cause.config.headers.authorization', 'err.cause.config.data', 'err.cause.request', 'err.cause.response.config',
];

/** pino's errWithCause (type, message, stack, own fields, the `cause` chain), plus our errors' `retriable` and `context`. */
function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const out = pino.stdSerializers.errWithCause(err) as Record<string, unknown>;
  if (err instanceof AppError) Object.assign(out, { retriable: err.retriable, context: err.context });
  return out;
}

let defaultDestination: pino.DestinationStream | undefined;

/**
 * Where loggers created without an explicit destination write. The `spacehub` CLI sets it once at
 * start-up (cli/output.ts): stderr, pretty on a terminal, so stdout carries only command results.
 */
export function setDefaultLogDestination(destination: pino.DestinationStream | undefined): void {
  defaultDestination = destination;
}

export function createLogger(level = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'spacehub' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: serializeError },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? defaultDestination,
  );
}
