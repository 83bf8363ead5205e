import pino, { Logger } from 'pino';

export type { Logger };

/**
 * Structured logging (pino). Secrets never reach a log line: fields that carry them are redacted by
 * path, wherever they sit in the object, and query text or payloads are not logged by default.
 */
export const REDACT_PATHS = [
  'token', 'accessToken', 'refreshToken', 'access_token', 'refresh_token', 'id_token', 'client_secret', 'clientSecret',
  'authorization', 'Authorization', 'password', 'secret', 'authCode', 'codeVerifier', 'code_verifier', 'apiToken',
  '*.token', '*.accessToken', '*.refreshToken', '*.access_token', '*.refresh_token', '*.client_secret', '*.clientSecret',
  '*.authorization', '*.Authorization', '*.password', '*.secret', '*.apiToken', '*.codeVerifier',
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["sec-websocket-protocol"]', 'headers.authorization',
];

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
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? defaultDestination,
  );
}
