import { AppError } from '../../shared/errors/app-error';

/**
 * Every failure of a platform call, typed (STYLE habits 5 and 12): what went wrong (`code`), where
 * (`platform`, `endpoint`, HTTP `status`), whether trying again can help (`retriable`), and when
 * (`retryAfterMs`, from Ratelimit-Reset or the quota day). Callers branch on `code`, never on text.
 */
export type PlatformErrorCode =
  | 'TIMEOUT'
  | 'NETWORK'
  | 'RATE_LIMITED'
  | 'QUOTA_EXCEEDED'
  | 'UNAUTHORIZED' // 401 on an API call: the access token is expired or invalid (refresh, then retry once)
  | 'INVALID_GRANT' // the refresh token or code was refused: the creator must reconnect
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_REQUEST'
  | 'SERVER_ERROR'
  | 'MALFORMED_RESPONSE' // not JSON, truncated, or not the documented shape
  | 'LIVE_CHAT_ENDED';

const RETRIABLE: Record<PlatformErrorCode, boolean> = {
  TIMEOUT: true,
  NETWORK: true,
  RATE_LIMITED: true,
  QUOTA_EXCEEDED: false,
  UNAUTHORIZED: false,
  INVALID_GRANT: false,
  FORBIDDEN: false,
  NOT_FOUND: false,
  BAD_REQUEST: false,
  SERVER_ERROR: true,
  MALFORMED_RESPONSE: true,
  LIVE_CHAT_ENDED: false,
};

export interface PlatformErrorInit {
  platform: string;
  endpoint: string;
  status?: number;
  retriable?: boolean;
  retryAfterMs?: number;
  /** The platform's own reason string (e.g. "quotaExceeded", "invalid_grant"), never a token. */
  reason?: string;
  cause?: unknown;
}

export class PlatformError extends AppError<PlatformErrorCode> {
  readonly platform: string;
  readonly endpoint: string;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly reason: string | undefined;

  constructor(code: PlatformErrorCode, message: string, init: PlatformErrorInit) {
    super(code, `${init.platform} ${init.endpoint}: ${message}`, {
      retriable: init.retriable ?? RETRIABLE[code],
      cause: init.cause,
      context: { platform: init.platform, endpoint: init.endpoint, status: init.status, reason: init.reason, retryAfterMs: init.retryAfterMs },
    });
    this.platform = init.platform;
    this.endpoint = init.endpoint;
    this.status = init.status;
    this.retryAfterMs = init.retryAfterMs;
    this.reason = init.reason;
  }
}

export const isPlatformError = (err: unknown, code?: PlatformErrorCode): err is PlatformError =>
  err instanceof PlatformError && (code === undefined || err.code === code);
