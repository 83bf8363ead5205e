import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '../errors/app-error';

export interface ApiUser {
  userId: string;
  name: string;
  createdAt: number;
}

export interface Principal {
  userId: string;
  tokenId: string;
}

const TOKEN_PREFIX = 'shub_';

/**
 * Users and their API tokens, in Redis. A token is shown once at creation; only its SHA-256 is
 * stored (tokens are 256-bit random, so a fast hash is enough — there is nothing to brute-force).
 * The REST API and the WebSocket gateway authenticate through this one class.
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

  /** Returns the token in clear, once. */
  async createToken(userId: string, label = 'default'): Promise<{ token: string; tokenId: string }> {
    if (!(await this.getUser(userId))) throw new AppError('UNKNOWN_USER', `no user ${userId}`);
    const token = TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url');
    const tokenId = `t_${crypto.randomBytes(6).toString('hex')}`;
    const record = JSON.stringify({ userId, tokenId, label, createdAt: Date.now() });
    await this.redis.multi().hset(this.key('tokens'), ApiTokenStore.hash(token), record).sadd(this.key('user-tokens', userId), ApiTokenStore.hash(token)).exec();
    return { token, tokenId };
  }

  async authenticate(token: string | undefined | null): Promise<Principal | null> {
    if (!token || !token.startsWith(TOKEN_PREFIX) || token.length > 200) return null;
    const raw = await this.redis.hget(this.key('tokens'), ApiTokenStore.hash(token));
    if (!raw) return null;
    const r = JSON.parse(raw) as { userId: string; tokenId: string };
    return { userId: r.userId, tokenId: r.tokenId };
  }

  async revokeToken(userId: string, tokenId: string): Promise<boolean> {
    for (const h of await this.redis.smembers(this.key('user-tokens', userId))) {
      const raw = await this.redis.hget(this.key('tokens'), h);
      if (raw && (JSON.parse(raw) as { tokenId: string }).tokenId === tokenId) {
        await this.redis.multi().hdel(this.key('tokens'), h).srem(this.key('user-tokens', userId), h).exec();
        return true;
      }
    }
    return false;
  }
}
