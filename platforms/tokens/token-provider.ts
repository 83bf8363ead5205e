/**
 * Working access tokens for every connection, forever (STYLE: twurple's refreshing AuthProvider).
 * Callers ask `getAccessToken(connectionId)`; they never refresh by hand.
 * - Refresh happens ahead of expiry (skew, default 5 min) and on a 401 (`withAccessToken`).
 * - One refresh at a time per connection across all processes: a Redis lock (SET NX PX, released
 *   by compare-and-delete); other callers wait for the new token to appear instead of refreshing too —
 *   both platforms may rotate or invalidate refresh tokens, so two concurrent refreshes can lose one.
 * - A refused refresh (invalid_grant; Twitch: 400) marks the connection `reauth_required`, publishes a
 *   connection event (the creator is alerted, polling stops) and throws ReauthRequiredError.
 */
import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '../../shared/errors/app-error';
import { ConnectionNotFoundError } from '../../shared/errors/connection-not-found';
import { sleep } from '../../shared/errors/retry';
import type { Logger } from '../../shared/logging/logger';
import type { OAuthTokens, PlatformAdapter, PlatformId } from '../platform.adapter';
import { PlatformError } from '../http/platform-error';
import { tokenRefreshes } from '../http/platform.metrics';
import { publishConnectionEvent } from '../connections/connection-events';
import type { Connection, ConnectionRepository } from '../connections/connection.repository';

export class ReauthRequiredError extends AppError<'REAUTH_REQUIRED'> {
  constructor(readonly connectionId: string, readonly platform: string, cause?: unknown) {
    super('REAUTH_REQUIRED', `connection ${connectionId} (${platform}) needs the creator to reconnect`, { retriable: false, cause, context: { connectionId, platform } });
  }
}

export interface TokenProviderDeps {
  redis: Redis;
  prefix: string;
  connections: ConnectionRepository;
  adapterFor: (platform: PlatformId) => PlatformAdapter;
  logger?: Logger;
  refreshSkewMs?: number;
  /** Longer than one refresh call may take (the platform HTTP timeout), so the lock never lapses mid-refresh. */
  lockTtlMs?: number;
  /** How long a caller waits for another process's refresh before giving up (retriable). */
  waitTimeoutMs?: number;
  now?: () => number;
}

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export type ValidationOutcome = 'valid' | 'refreshed' | 'reauth_required';

export class TokenProvider {
  private readonly inFlight = new Map<string, Promise<string>>();
  private readonly now: () => number;

  constructor(private readonly d: TokenProviderDeps) {
    this.now = d.now ?? Date.now;
  }

  async getAccessToken(connectionId: string): Promise<string> {
    const { conn, tokens } = await this.load(connectionId);
    if (this.fresh(tokens)) return tokens.accessToken;
    return this.singleFlight(conn, null);
  }

  /**
   * Runs `fn` with a token; on a 401 (the token died early: revoked elsewhere, clock skew) refreshes
   * once — unless another caller already did — and runs `fn` again.
   */
  async withAccessToken<T>(connectionId: string, fn: (accessToken: string) => Promise<T>): Promise<T> {
    const token = await this.getAccessToken(connectionId);
    try {
      return await fn(token);
    } catch (err) {
      if (!(err instanceof PlatformError && err.code === 'UNAUTHORIZED')) throw err;
      const { conn } = await this.load(connectionId);
      return fn(await this.singleFlight(conn, token));
    }
  }

  /**
   * Twitch requires validating every user token at start-up and hourly (GET /oauth2/validate). An
   * invalid token is refreshed; a refused refresh ends in reauth_required. The ingest scheduler calls this.
   */
  async validate(connectionId: string): Promise<ValidationOutcome> {
    try {
      const { conn, tokens } = await this.load(connectionId);
      const adapter = this.d.adapterFor(conn.platform);
      if (await adapter.validate(tokens.accessToken)) return 'valid';
      await this.singleFlight(conn, tokens.accessToken);
      return 'refreshed';
    } catch (err) {
      if (err instanceof ReauthRequiredError) return 'reauth_required';
      throw err;
    }
  }

  /** `validate` for every active connection of a platform (Twitch: at start-up, then hourly). */
  async validateAll(platform: PlatformId = 'twitch'): Promise<Record<ValidationOutcome | 'error', number>> {
    const out: Record<ValidationOutcome | 'error', number> = { valid: 0, refreshed: 0, reauth_required: 0, error: 0 };
    for (const c of await this.d.connections.listActive()) {
      if (c.platform !== platform) continue;
      try {
        out[await this.validate(c.connectionId)]++;
      } catch (err) {
        // A platform outage must not stop the sweep; the next hour tries again.
        out.error++;
        this.d.logger?.warn({ module: 'token-provider', connectionId: c.connectionId, platform, err }, 'token validation failed');
      }
    }
    return out;
  }

  /**
   * The platform told us the grant is gone without a refresh failing (Twitch EventSub revocation
   * authorization_revoked / user_removed): the same path as a refused refresh — status, connection
   * event (alert, polling stops) — at once. False when the connection was not active.
   */
  async reauthRequired(connectionId: string, why: string): Promise<boolean> {
    const conn = await this.d.connections.get(connectionId);
    if (!conn || conn.status !== 'active') return false;
    return this.markReauth(conn, why);
  }

  private async load(connectionId: string): Promise<{ conn: Connection; tokens: OAuthTokens }> {
    const conn = await this.d.connections.get(connectionId);
    if (!conn) throw new ConnectionNotFoundError(connectionId);
    if (conn.status !== 'active') throw new ReauthRequiredError(connectionId, conn.platform);
    const tokens = await this.d.connections.getTokens(connectionId);
    if (!tokens) throw new ReauthRequiredError(connectionId, conn.platform);
    return { conn, tokens };
  }

  private fresh(t: OAuthTokens): boolean {
    return t.expiresAt === null || t.expiresAt - (this.d.refreshSkewMs ?? 5 * 60_000) > this.now();
  }

  /**
   * `stale` = the access token the caller saw fail (forced refresh), or null (refresh only if not fresh).
   * Done once when several callers of this process ask together, and once across processes by the lock.
   */
  private singleFlight(conn: Connection, stale: string | null): Promise<string> {
    const key = `${conn.connectionId}:${stale ?? ''}`;
    let p = this.inFlight.get(key);
    if (!p) {
      p = this.refreshLocked(conn, stale).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }

  private usable(t: OAuthTokens, stale: string | null): boolean {
    return stale === null ? this.fresh(t) : t.accessToken !== stale && this.fresh(t);
  }

  private async refreshLocked(conn: Connection, stale: string | null): Promise<string> {
    const { redis, prefix } = this.d;
    const lockKey = `${prefix}:tokens:refresh-lock:${conn.connectionId}`;
    const lockTtl = this.d.lockTtlMs ?? 30_000;
    const deadline = Date.now() + (this.d.waitTimeoutMs ?? lockTtl + 5000);
    const owner = crypto.randomBytes(12).toString('hex');
    for (let attempt = 0; ; attempt++) {
      if ((await redis.set(lockKey, owner, 'PX', lockTtl, 'NX')) === 'OK') {
        try {
          // Someone may have refreshed between our read and the lock.
          const { tokens } = await this.load(conn.connectionId);
          if (this.usable(tokens, stale)) return tokens.accessToken;
          return await this.refreshNow(conn, tokens);
        } finally {
          await redis.eval(RELEASE, 1, lockKey, owner).catch(() => undefined);
        }
      }
      // Another process is refreshing: wait for its result rather than refreshing twice.
      await sleep(Math.min(250, 25 * 2 ** Math.min(attempt, 4)));
      const { tokens } = await this.load(conn.connectionId);
      if (this.usable(tokens, stale)) return tokens.accessToken;
      if (Date.now() > deadline)
        throw new AppError('TOKEN_REFRESH_TIMEOUT', `waited too long for another worker to refresh ${conn.connectionId}`, { retriable: true, context: { connectionId: conn.connectionId, platform: conn.platform } });
    }
  }

  private async refreshNow(conn: Connection, tokens: OAuthTokens): Promise<string> {
    const log = this.d.logger?.child({ module: 'token-provider', connectionId: conn.connectionId, platform: conn.platform });
    if (!tokens.refreshToken) {
      await this.markReauth(conn, 'no refresh token');
      throw new ReauthRequiredError(conn.connectionId, conn.platform);
    }
    try {
      const next = await this.d.adapterFor(conn.platform).refresh(tokens.refreshToken);
      await this.d.connections.saveTokens(conn.connectionId, { ...next, refreshToken: next.refreshToken ?? tokens.refreshToken });
      tokenRefreshes.inc({ platform: conn.platform, outcome: 'ok' });
      log?.info('access token refreshed');
      return next.accessToken;
    } catch (err) {
      if (err instanceof PlatformError && err.code === 'INVALID_GRANT') {
        tokenRefreshes.inc({ platform: conn.platform, outcome: 'invalid_grant' });
        await this.markReauth(conn, err.reason ?? 'invalid_grant');
        throw new ReauthRequiredError(conn.connectionId, conn.platform, err);
      }
      tokenRefreshes.inc({ platform: conn.platform, outcome: 'error' });
      throw err;
    }
  }

  private async markReauth(conn: Connection, why: string): Promise<boolean> {
    const updated = await this.d.connections.setStatus(conn.connectionId, 'reauth_required');
    this.d.logger?.warn({ module: 'token-provider', connectionId: conn.connectionId, platform: conn.platform, why }, 'connection needs re-authorisation');
    if (updated) await publishConnectionEvent(this.d.redis, this.d.prefix, { type: 'reauth_required', connectionId: conn.connectionId, userId: conn.userId, platform: conn.platform, channelId: conn.channelId });
    return Boolean(updated);
  }
}
