import crypto from 'node:crypto';
import { parse as parseCookies } from 'cookie';
import type { Request, Response } from 'express';
import type { StartedAuthorization } from '../ports';

/**
 * The browser half of the OAuth state binding (platforms/oauth/oauth-state.store.ts keeps the other
 * half, the nonce's hash, with the state): a random nonce in an
 * HttpOnly cookie, scoped to /v1/auth, SameSite=Lax (sent on the platform's top-level redirect back to
 * us, not on cross-site subrequests), Secure when the public URL is https. One cookie per platform, so
 * connecting Twitch and YouTube in two tabs at once works.
 */
export const BINDING_COOKIE_PATH = '/v1/auth';

export const bindingCookieName = (platform: string) => `spacehub_oauth_${platform}`;

const cookieOptions = (publicBaseUrl: string) => ({
  httpOnly: true,
  sameSite: 'lax' as const,
  secure: publicBaseUrl.startsWith('https:'),
  path: BINDING_COOKIE_PATH,
});

/** Sets a fresh binding cookie and returns its nonce (the caller stores only its hash). */
export function setBindingCookie(res: Response, platform: string, publicBaseUrl: string, ttlSeconds: number): string {
  const nonce = crypto.randomBytes(32).toString('base64url');
  res.cookie(bindingCookieName(platform), nonce, { ...cookieOptions(publicBaseUrl), maxAge: ttlSeconds * 1000 });
  return nonce;
}

export function readBindingCookie(req: Request, platform: string): string | undefined {
  const header = req.get('cookie');
  if (!header) return undefined;
  return parseCookies(header)[bindingCookieName(platform)] || undefined;
}

export function clearBindingCookie(res: Response, platform: string, publicBaseUrl: string): void {
  res.clearCookie(bindingCookieName(platform), cookieOptions(publicBaseUrl));
}

export const hashNonce = (nonce: string) => crypto.createHash('sha256').update(nonce).digest('base64url');

/** Constant-time comparison of a presented nonce with the stored hash. */
export function nonceMatches(started: StartedAuthorization, nonce: string | undefined): boolean {
  if (!nonce || !started.nonceHash) return false;
  const a = Buffer.from(hashNonce(nonce));
  const b = Buffer.from(started.nonceHash);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** A browser navigation (Accept prefers HTML) rather than an API client (JSON, or no preference). */
export const isBrowserNavigation = (req: Request) => req.accepts(['application/json', 'text/html']) === 'text/html';
