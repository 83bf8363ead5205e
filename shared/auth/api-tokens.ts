import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '../errors/app-error';
import { type RedisRead, runRead } from '../redis/redis-read';

export interface ApiUser {
  userId: string;
  name: string;
  createdAt: number;
}

export interface Principal {
  userId: string;
  tokenId: string;
  /** Epoch ms after which the token is refused; null = no expiry. */
  expiresAt?: number | null;
}

/** What a user may see of their tokens: never the token or its hash. */
export interface TokenInfo {
  tokenId: string;
  label: string;
  createdAt: number;
  expiresAt: number | null;
}

interface TokenRecord extends TokenInfo {
  userId: string;
}

/** What authenticationRead found for a token (its record as stored), or null; `settle` makes it a principal. */
export type TokenLookup = { hash: string; record: TokenRecord } | null;

export const MAX_TOKEN_LABEL = 100;

/**
 * Live (unexpired) tokens a user may hold when they issue them themselves (`POST /v1/tokens`): each
 * token has its own rate-limit budget, so unbounded minting would multiply the limit at will.
 */
export const MAX_TOKENS_PER_USER = 25;

export class TokenLimitError extends AppError<'TOKEN_LIMIT'> {
  constructor(max: number) {
    super('TOKEN_LIMIT', `you already hold ${max} live API tokens, the most one user may hold: revoke one you no longer use (DELETE /v1/tokens/{id})`, { retriable: false });
  }
}

/**
 * Stores a new token only while the user holds fewer than ARGV[4] live ones (0: no limit), in one
 * step so parallel requests cannot overshoot. Live: its record exists and has no expiresAt in the past.
 * KEYS: tokens, user-tokens:<user>, token-ids. ARGV: hash, record, tokenId, max, now.
 */
const CREATE_TOKEN = `
local max = tonumber(ARGV[4])
if max > 0 then
  local live = 0
  local now = tonumber(ARGV[5])
  for _, h in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    local raw = redis.call('HGET', KEYS[1], h)
    if raw then
      local e = cjson.decode(raw)['expiresAt']
      if e == nil or e == cjson.null or tonumber(e) > now then live = live + 1 end
    end
  end
  if live >= max then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[1])
return 1
`;

const TOKEN_PREFIX = 'shub_';

/**
 * Users and their API tokens, in Redis. A token is shown once at creation; only its SHA-256 is
 * stored (tokens are 256-bit random, so a fast hash is enough — there is nothing to brute-force).
 * The REST API and the WebSocket gateway authenticate through this one class.
 *
 * Keys: `auth:tokens` (hash: sha256 → record), `auth:user-tokens:<userId>` (set of sha256),
 * `auth:token-ids` (hash: tokenId → sha256), so a token can be revoked, and an open socket re-checked,
 * by its id. Tokens issued before that index existed are indexed the next time they authenticate.
 */
export class ApiTokenStore {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private key(...parts: string[]) {
    return [this.prefix, 'auth', ...parts].join(':');
  }

  static hash(token: string): string {
    return crypto.createHash('sha256').update(token).digest('hex');
  }

  async createUser(name: string, userId: string = `u_${crypto.randomBytes(8).toString('hex')}`): Promise<ApiUser> {
    if (!/^[\w.@ -]{1,100}$/.test(name)) throw new AppError('INVALID_USER_NAME', 'user name must be 1-100 letters, digits, spaces or . _ @ -');
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(userId)) throw new AppError('INVALID_USER_ID', 'user id must be 1-64 letters, digits, _ or -');
    const user: ApiUser = { userId, name, createdAt: Date.now() };
    const created = await this.redis.hsetnx(this.key('users'), userId, JSON.stringify(user));
    if (!created) throw new AppError('USER_EXISTS', `user ${userId} already exists`);
    return user;
  }

  async getUser(userId: string): Promise<ApiUser | null> {
    const raw = await this.redis.hget(this.key('users'), userId);
    return raw ? (JSON.parse(raw) as ApiUser) : null;
  }

  async listUsers(): Promise<ApiUser[]> {
    return Object.values(await this.redis.hgetall(this.key('users'))).map((v) => JSON.parse(v) as ApiUser);
  }

  /**
   * Returns the token in clear, once. `expiresAt` (epoch ms, in the future) makes it stop working then.
   * `maxLiveTokens` (a user issuing their own, the API): refused with TokenLimitError when the user
   * already holds that many live tokens; the operator's CLI passes none.
   */
  async createToken(userId: string, label = 'default', opts: { expiresAt?: number | null; maxLiveTokens?: number } = {}): Promise<{ token: string; tokenId: string; expiresAt: number | null }> {
    if (!(await this.getUser(userId))) throw new AppError('UNKNOWN_USER', `no user ${userId}`);
    if (label.length === 0 || label.length > MAX_TOKEN_LABEL) throw new AppError('INVALID_TOKEN_LABEL', `a token label must be 1-${MAX_TOKEN_LABEL} characters`);
    const expiresAt = opts.expiresAt ?? null;
    if (expiresAt !== null && !(Number.isFinite(expiresAt) && expiresAt > Date.now())) throw new AppError('INVALID_TOKEN_EXPIRY', 'a token\'s expiry must lie in the future');
    const token = TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url');
    const tokenId = `t_${crypto.randomBytes(6).toString('hex')}`;
    const record: TokenRecord = { userId, tokenId, label, createdAt: Date.now(), expiresAt };
    const h = ApiTokenStore.hash(token);
    const max = opts.maxLiveTokens ?? 0;
    const stored = await this.redis.eval(CREATE_TOKEN, 3, this.key('tokens'), this.key('user-tokens', userId), this.key('token-ids'), h, JSON.stringify(record), tokenId, max, Date.now());
    if (Number(stored) !== 1) throw new TokenLimitError(max);
    return { token, tokenId, expiresAt };
  }

  async authenticate(token: string | undefined | null): Promise<Principal | null> {
    const read = this.authenticationRead(token);
    return read && this.settle(await runRead(this.redis, read));
  }

  /**
   * authenticate's Redis read, for a caller that batches it with other reads in one round trip (the
   * API's request guard, shared/redis/redis-read.ts); null when the string cannot be one of our tokens
   * (nothing to read: refused). Its result goes through `settle`.
   */
  authenticationRead(token: string | undefined | null): RedisRead<TokenLookup> | null {
    if (!token || !token.startsWith(TOKEN_PREFIX) || token.length > 200) return null;
    const h = ApiTokenStore.hash(token);
    const key = this.key('tokens');
    return {
      commands: 1,
      queue: (p) => void p.hget(key, h),
      decode: ([raw]) => (typeof raw === 'string' ? { hash: h, record: JSON.parse(raw) as TokenRecord } : null),
    };
  }

  /** The principal of a looked-up token; null when it is unknown (revoked) or expired. */
  async settle(found: TokenLookup): Promise<Principal | null> {
    if (!found) return null;
    const r = found.record;
    if (isExpired(r)) return null;
    // Issued before the id index (no expiresAt field): index it. Never rewrites the record, so a
    // revocation racing this cannot be undone by it.
    if (r.expiresAt === undefined) await this.redis.hsetnx(this.key('token-ids'), r.tokenId, found.hash);
    return { userId: r.userId, tokenId: r.tokenId, expiresAt: r.expiresAt ?? null };
  }

  /** The user's tokens, newest first, expired ones included (marked by expiresAt). */
  async listTokens(userId: string): Promise<TokenInfo[]> {
    const hashes = await this.redis.smembers(this.key('user-tokens', userId));
    if (hashes.length === 0) return [];
    const raws = await this.redis.hmget(this.key('tokens'), ...hashes);
    return raws
      .flatMap((raw) => (raw ? [JSON.parse(raw) as TokenRecord] : []))
      .map((r) => ({ tokenId: r.tokenId, label: r.label ?? 'default', createdAt: r.createdAt ?? 0, expiresAt: r.expiresAt ?? null }))
      .sort((a, b) => b.createdAt - a.createdAt || a.tokenId.localeCompare(b.tokenId));
  }

  /** Revokes one of the user's own tokens; false when it is not theirs (or gone). Open sockets notice within GATEWAY_AUTH_RECHECK_MS. */
  async revokeToken(userId: string, tokenId: string): Promise<boolean> {
    let h = await this.redis.hget(this.key('token-ids'), tokenId);
    if (!h) {
      // Not indexed yet (issued before the index and never used since): look through the user's own.
      for (const candidate of await this.redis.smembers(this.key('user-tokens', userId))) {
        const raw = await this.redis.hget(this.key('tokens'), candidate);
        if (raw && (JSON.parse(raw) as TokenRecord).tokenId === tokenId) h = candidate;
      }
      if (!h) return false;
    }
    const raw = await this.redis.hget(this.key('tokens'), h);
    if (!raw || (JSON.parse(raw) as TokenRecord).userId !== userId) return false;
    await this.exec(this.redis.multi().hdel(this.key('tokens'), h).srem(this.key('user-tokens', userId), h).hdel(this.key('token-ids'), tokenId));
    return true;
  }

  /**
   * Of the given token ids, those still valid (not revoked, not expired): what the gateway asks for the
   * tokens of its open sockets, in two round trips however many there are.
   */
  async validTokenIds(tokenIds: readonly string[]): Promise<Set<string>> {
    const ids = [...new Set(tokenIds)];
    if (ids.length === 0) return new Set();
    const hashes = await this.redis.hmget(this.key('token-ids'), ...ids);
    const known = ids.flatMap((id, i) => (hashes[i] ? [{ id, h: hashes[i]! }] : []));
    if (known.length === 0) return new Set();
    const raws = await this.redis.hmget(this.key('tokens'), ...known.map((k) => k.h));
    return new Set(known.filter((_k, i) => raws[i] && !isExpired(JSON.parse(raws[i]!) as TokenRecord)).map((k) => k.id));
  }

  private async exec(m: ReturnType<Redis['multi']>): Promise<void> {
    const res = await m.exec();
    if (!res) throw new AppError('REDIS_TRANSACTION_ABORTED', 'token store: Redis transaction aborted', { retriable: true });
    for (const [err] of res) if (err) throw err;
  }
}

function isExpired(r: Pick<TokenRecord, 'expiresAt'>, now = Date.now()): boolean {
  return typeof r.expiresAt === 'number' && r.expiresAt <= now;
}
