/**
 * OAuth `state` values (CSRF protection): random, single-use (GETDEL), bound to the user, platform and
 * redirect URI that asked for them, and expiring. The PKCE verifier is stored with the state on the
 * server, so it never reaches the browser.
 */
import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '../../shared/errors/app-error';

export class OAuthStateError extends AppError<'OAUTH_STATE_INVALID'> {
  constructor(reason: 'unknown_or_used' | 'wrong_user' | 'wrong_platform' | 'wrong_redirect') {
    super('OAUTH_STATE_INVALID', `OAuth state rejected: ${reason.replace(/_/g, ' ')}`, { retriable: false, context: { reason } });
  }
}

export interface OAuthStateRecord {
  userId: string;
  platform: string;
  redirectUri: string;
  codeVerifier?: string;
  createdAt: number;
}

export class OAuthStateStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  private key(state: string): string {
    return `${this.prefix}:oauth:state:${state}`;
  }

  async create(r: Omit<OAuthStateRecord, 'createdAt'>): Promise<string> {
    const state = crypto.randomBytes(24).toString('base64url');
    await this.redis.set(this.key(state), JSON.stringify({ ...r, createdAt: Date.now() }), 'EX', this.ttlSeconds);
    return state;
  }

  /** Takes the state out (whatever the outcome: a state is never accepted twice) and checks its binding. */
  async consume(state: string, expect: { userId: string; platform: string; redirectUri: string }): Promise<OAuthStateRecord> {
    if (!/^[A-Za-z0-9_-]{16,128}$/.test(state)) throw new OAuthStateError('unknown_or_used');
    const raw = await this.redis.getdel(this.key(state));
    if (!raw) throw new OAuthStateError('unknown_or_used');
    const r = JSON.parse(raw) as OAuthStateRecord;
    if (r.userId !== expect.userId) throw new OAuthStateError('wrong_user');
    if (r.platform !== expect.platform) throw new OAuthStateError('wrong_platform');
    if (r.redirectUri !== expect.redirectUri) throw new OAuthStateError('wrong_redirect');
    return r;
  }
}
