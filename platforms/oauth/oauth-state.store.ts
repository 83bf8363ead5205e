/**
 * OAuth `state` values (CSRF protection): random, single-use (GETDEL), bound to the user, platform and
 * redirect URI that asked for them, and expiring after OAUTH_STATE_TTL_SECONDS. The PKCE verifier is
 * stored with the state on the server, so it never reaches the browser.
 *
 * The one record per state also carries the client binding the API adds (`bind`): the platform
 * redirects the user's *browser* to the callback, and a browser navigation carries no Bearer token, so
 * the state alone would let anyone the link is sent to finish it (on real Twitch an already-granted app
 * re-approves silently). Each state is therefore bound, as OAuth client libraries do, to the client
 * that started it:
 * - `browser`: /authorize set an HttpOnly cookie carrying a random nonce; only its SHA-256 is kept here,
 *   and the callback refuses unless the cookie comes back and matches (api/http/oauth-binding.ts);
 * - `headless`: no cookie; the callback always refuses it, and only `POST /v1/connections` with the same
 *   user's Bearer token can finish it.
 */
import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '../../shared/errors/app-error';

export class OAuthStateError extends AppError {
  constructor(reason: 'unknown_or_used' | 'wrong_user' | 'wrong_platform' | 'wrong_redirect') {
    super('OAUTH_STATE_INVALID', `OAuth state rejected: ${reason.replace(/_/g, ' ')}`, { retriable: false, context: { reason } });
  }
}

export type OAuthClientKind = 'browser' | 'headless';

export interface OAuthClientBinding {
  client: OAuthClientKind;
  /** SHA-256 (base64url) of the browser cookie's nonce; browser flows only. */
  nonceHash?: string;
}

/** Who started an authorisation, and from what client: what the API checks before finishing it. */
export interface StartedAuthorization extends OAuthClientBinding {
  userId: string;
}

export interface OAuthStateRecord {
  userId: string;
  platform: string;
  redirectUri: string;
  codeVerifier?: string;
  createdAt: number;
  binding?: OAuthClientBinding;
}

export class OAuthStateStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly ttlSeconds: number,
  ) {}

  private key(state: string): string {
    return `${this.prefix}:oauth:state:${state}`;
  }

  async create(r: Omit<OAuthStateRecord, 'createdAt'>): Promise<string> {
    const state = crypto.randomBytes(24).toString('base64url');
    await this.redis.set(this.key(state), JSON.stringify({ ...r, createdAt: Date.now() }), 'EX', this.ttlSeconds);
    return state;
  }

  /**
   * Binds a state to the client that started it, keeping its expiry. Only the request that created the
   * state knows it at that point, so read-then-write cannot race another writer. A state this store did
   * not create (a stand-in StreamingPort in tests) gets a record of its own, expiring as usual.
   */
  async bind(state: string, started: StartedAuthorization): Promise<void> {
    const binding: OAuthClientBinding = started.nonceHash ? { client: started.client, nonceHash: started.nonceHash } : { client: started.client };
    const raw = await this.redis.get(this.key(state));
    const existing = raw ? (JSON.parse(raw) as OAuthStateRecord) : null;
    if (existing && existing.userId !== started.userId) throw new OAuthStateError('wrong_user');
    if (existing) await this.redis.set(this.key(state), JSON.stringify({ ...existing, binding }), 'KEEPTTL');
    else await this.redis.set(this.key(state), JSON.stringify({ userId: started.userId, createdAt: Date.now(), binding }), 'EX', this.ttlSeconds);
  }

  /** Who started the authorisation and from what client, or null: unknown, used, expired or unbound. */
  async peek(state: string): Promise<StartedAuthorization | null> {
    if (!STATE_RE.test(state)) return null;
    const raw = await this.redis.get(this.key(state));
    if (!raw) return null;
    try {
      const r = JSON.parse(raw) as Partial<OAuthStateRecord>;
      const b = r.binding;
      if (typeof r.userId !== 'string' || !b || (b.client !== 'browser' && b.client !== 'headless')) return null;
      return { userId: r.userId, client: b.client, ...(b.nonceHash ? { nonceHash: b.nonceHash } : {}) };
    } catch {
      return null;
    }
  }

  /** Spends a state without connecting anything (a refused or declined callback). */
  async discard(state: string): Promise<void> {
    if (STATE_RE.test(state)) await this.redis.del(this.key(state));
  }

  /** Takes the state out (whatever the outcome: a state is never accepted twice) and checks its binding. */
  async consume(state: string, expect: { userId: string; platform: string; redirectUri: string }): Promise<OAuthStateRecord> {
    if (!STATE_RE.test(state)) throw new OAuthStateError('unknown_or_used');
    const raw = await this.redis.getdel(this.key(state));
    if (!raw) throw new OAuthStateError('unknown_or_used');
    const r = JSON.parse(raw) as OAuthStateRecord;
    if (r.userId !== expect.userId) throw new OAuthStateError('wrong_user');
    if (r.platform !== expect.platform) throw new OAuthStateError('wrong_platform');
    if (r.redirectUri !== expect.redirectUri) throw new OAuthStateError('wrong_redirect');
    return r;
  }
}

const STATE_RE = /^[A-Za-z0-9_-]{16,128}$/;
