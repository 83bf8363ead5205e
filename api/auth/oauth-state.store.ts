import crypto from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Who started an OAuth authorisation, and from what, by its `state` — for the one request that
 * finishes it. The platform redirects the user's *browser* to the callback, and a browser navigation
 * carries no Bearer token, so the state alone would let anyone the link is sent to finish it (on real
 * Twitch an already-granted app re-approves silently). Each state is therefore bound, as OAuth client
 * libraries do, to the client that started it:
 * - `browser`: /authorize set an HttpOnly cookie carrying a random nonce; only its SHA-256 is kept here,
 *   and the callback refuses unless the cookie comes back and matches (http/oauth-binding.ts);
 * - `headless`: no cookie; the callback always refuses it, and only `POST /v1/connections` with the same
 *   user's Bearer token can finish it.
 * Single use (GETDEL), 10 minutes. StreamingService checks user, platform and redirect URI again.
 */
export type OAuthClientKind = 'browser' | 'headless';

export interface StartedAuthorization {
  userId: string;
  client: OAuthClientKind;
  /** SHA-256 (base64url) of the browser cookie's nonce; browser flows only. */
  nonceHash?: string;
}

export const hashNonce = (nonce: string) => crypto.createHash('sha256').update(nonce).digest('base64url');

/** Constant-time comparison of a presented nonce with the stored hash. */
export function nonceMatches(started: StartedAuthorization, nonce: string | undefined): boolean {
  if (!nonce || !started.nonceHash) return false;
  const a = Buffer.from(hashNonce(nonce));
  const b = Buffer.from(started.nonceHash);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

export class OAuthStateStore {
  constructor(private readonly redis: Redis, private readonly prefix: string, readonly ttlSeconds = 600) {}

  private key(state: string) {
    return `${this.prefix}:api:oauth-state:${state}`;
  }

  async remember(state: string, started: StartedAuthorization): Promise<void> {
    await this.redis.set(this.key(state), JSON.stringify(started), 'EX', this.ttlSeconds);
  }

  /** The authorisation the state belongs to, once: a second call answers null. */
  async take(state: string): Promise<StartedAuthorization | null> {
    return parse(await this.redis.getdel(this.key(state)));
  }

  async peek(state: string): Promise<StartedAuthorization | null> {
    return parse(await this.redis.get(this.key(state)));
  }
}

function parse(raw: string | null): StartedAuthorization | null {
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as Partial<StartedAuthorization>;
    return typeof v.userId === 'string' && (v.client === 'browser' || v.client === 'headless') ? (v as StartedAuthorization) : null;
  } catch {
    return null; // an unbound record (before the binding existed) is not honoured
  }
}
