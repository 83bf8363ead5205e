import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../../shared/logging/logger';
import { AppError, type CodeOf } from '../../shared/errors/app-error';
import type { InsufficientDataError, ModelArtifactError, ModelInputError, ModelNotReadyError } from '../../models/errors';
import type { UnknownPlatformError } from '../../platforms/registry';
import type { OAuthStateError } from '../../platforms/oauth/oauth-state.store';
import type { OAuthCodeInvalidError } from '../../platforms/oauth/oauth.errors';
import type { ReauthRequiredError } from '../../platforms/tokens/token-provider';
import type { PlatformError } from '../../platforms/http/platform-error';
import type { TokenLimitError } from '../../shared/auth/api-tokens';
import { ProblemError, sendProblem } from './problem';

/**
 * Where the API chooses HTTP statuses for the typed errors raised below it (STYLE habit 12). Codes of
 * other parts map here; an unknown AppError that a retry could fix is a 503, anything else a 500 whose
 * detail does not leak internals.
 */
/** The codes of the errors the routes can meet, from the classes that raise them (a code nothing raises does not type-check). */
type MappedCode =
  | 'CONNECTION_NOT_FOUND'
  | CodeOf<InsufficientDataError | ModelArtifactError | ModelInputError | ModelNotReadyError>
  | CodeOf<UnknownPlatformError | OAuthStateError | OAuthCodeInvalidError | ReauthRequiredError | PlatformError>
  | CodeOf<TokenLimitError>;

const STATUS_OF_CODE: { [C in MappedCode]?: { status: number; slug: string; title: string; detail?: string } } = {
  CONNECTION_NOT_FOUND: { status: 404, slug: 'connection-not-found', title: 'Connection not found' },
  // The models part's message names a server directory: clients get a fixed text instead.
  MODEL_NOT_READY: { status: 404, slug: 'model-not-trained', title: 'No model is trained', detail: 'no model is trained yet: run `spacehub train`' },
  INSUFFICIENT_DATA: { status: 422, slug: 'insufficient-data', title: 'Too little history for an honest prediction' },
  MODEL_INPUT_INVALID: { status: 400, slug: 'validation-error', title: 'Your request parameters did not validate' },
  MODEL_ARTIFACT_CORRUPT: { status: 503, slug: 'model-unavailable', title: 'The model could not be loaded' },
  UNKNOWN_PLATFORM: { status: 404, slug: 'unknown-platform', title: 'Unknown platform' },
  OAUTH_STATE_INVALID: { status: 400, slug: 'oauth-state-invalid', title: 'OAuth state is invalid or expired' },
  OAUTH_CODE_INVALID: { status: 400, slug: 'oauth-code-invalid', title: 'The authorization code was refused' },
  INVALID_GRANT: { status: 400, slug: 'oauth-code-invalid', title: 'The platform refused the authorization code' },
  REAUTH_REQUIRED: { status: 409, slug: 'reauth-required', title: 'The connection must be re-authorised' },
  TOKEN_LIMIT: { status: 409, slug: 'token-limit', title: 'Too many API tokens' },
};

export function toProblemError(err: unknown): ProblemError {
  if (err instanceof ProblemError) return err;
  const e = err as { type?: string; status?: number; statusCode?: number; expose?: boolean; message?: string };
  // body-parser's errors carry a status and a type; only these two reach clients verbatim.
  if (e?.type === 'entity.too.large') return new ProblemError(413, 'payload-too-large', 'Request body too large', e.message);
  if (e?.type === 'entity.parse.failed') return new ProblemError(400, 'malformed-body', 'Request body is not valid JSON', 'the body could not be parsed as JSON');
  if (err instanceof AppError) {
    const known = STATUS_OF_CODE[err.code as MappedCode];
    if (known) return new ProblemError(known.status, known.slug, known.title, known.detail ?? err.message);
    if (err.retriable) return new ProblemError(503, 'unavailable', 'A backing service is unavailable', 'try again shortly', { code: err.code });
    // A platform's own refusal (platforms/http/platform-error.ts carries the platform in its context).
    if (err.context.platform) return new ProblemError(502, 'platform-error', 'The streaming platform refused the request', err.message, { code: err.code });
  }
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500 && e.expose) return new ProblemError(status, 'bad-request', 'Bad request', e.message);
  return new ProblemError(500, 'internal', 'Internal server error', 'the error was logged; quote the request id when reporting it');
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const problem = toProblemError(err);
    if (problem.status >= 500) logger.error({ err, requestId: res.locals.requestId, path: req.path }, 'request failed');
    if (res.headersSent) return;
    // instance is the path only: query strings may carry OAuth codes and states.
    sendProblem(res, { ...problem.toProblem(req.originalUrl.split('?')[0]), requestId: res.locals.requestId }, problem.headers);
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new ProblemError(404, 'not-found', 'Not found', `no route for ${req.method} ${req.path}`));
};
