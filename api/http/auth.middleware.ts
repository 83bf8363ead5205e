import type { RequestHandler } from 'express';
import type { Principal } from '../../shared/auth/api-tokens';
import { unauthorized } from './problem';

/** What the API needs from shared/auth/api-tokens.ts' ApiTokenStore (also satisfied by it). */
export interface Authenticator {
  authenticate(token: string | undefined | null): Promise<Principal | null>;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * `Authorization: Bearer shub_…` on every /v1 route. The principal lands in res.locals.principal; the
 * token itself never leaves this function (it is not logged and not stored on the request).
 */
export function authenticate(tokens: Authenticator): RequestHandler {
  return async (req, res, next) => {
    try {
      const header = req.get('authorization');
      if (!header) throw unauthorized('send an API token as "Authorization: Bearer <token>"');
      const m = BEARER.exec(header);
      if (!m) throw unauthorized('the Authorization header must use the Bearer scheme');
      const principal = await tokens.authenticate(m[1]);
      if (!principal) throw unauthorized('the API token is invalid or revoked');
      res.locals.principal = principal;
      next();
    } catch (err) {
      next(err);
    }
  };
}
