import type { Principal } from '../../shared/auth/api-tokens';
import { unauthorized } from './problem';

/** What the API needs from shared/auth/api-tokens.ts' ApiTokenStore (also satisfied by it). */
export interface Authenticator {
  authenticate(token: string | undefined | null): Promise<Principal | null>;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The token of `Authorization: Bearer shub_…` (every /v1 route; the request guard, request-guard.ts,
 * looks it up). It never leaves the guard: it is not logged and not stored on the request.
 */
export function bearerToken(header: string | undefined): string {
  if (!header) throw unauthorized('send an API token as "Authorization: Bearer <token>"');
  const m = BEARER.exec(header);
  if (!m) throw unauthorized('the Authorization header must use the Bearer scheme');
  return m[1]!;
}

export const INVALID_TOKEN = 'the API token is invalid or revoked';
