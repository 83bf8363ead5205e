/**
 * A creator's connections to platforms, in Redis (STYLE: immich's repositories wrap outside systems).
 * Metadata is plain JSON; the tokens live in a separate field, encrypted with TokenCipher (bound to
 * the connection id), and are only returned by `getTokens`, which TokenProvider alone should call.
 *
 * Keys: `<prefix>:connections:<id>` (hash: meta, tokens), `<prefix>:connections:by-user:<userId>` (set),
 * `<prefix>:connections:active` (set of ids that ingest should poll), and the owner index
 * `<prefix>:connections:by-channel:<platform>:<channelId>` (hash: connection id → user id of every
 * *active* connection to that channel). Several users may own one channel (a team account, a manager,
 * a creator who reconnected under a new user); the index is what makes the channel one thing: ingest
 * polls it once with any owner's token, and alerts and windows go to every active owner. It is written
 * in the same MULTI as the status it mirrors (upsert, setStatus), so it never disagrees with `active`.
 */
import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import { type RedisRead, runRead } from '../../shared/redis/redis-read';
import type { OAuthTokens, PlatformId } from '../platform.adapter';
import type { TokenCipher } from '../tokens/token-cipher';

export type ConnectionStatus = 'active' | 'reauth_required' | 'revoked';

export interface Connection {
  connectionId: string;
  userId: string;
  platform: PlatformId;
  channelId: string;
  login: string;
  displayName: string;
  status: ConnectionStatus;
  scopes: string[];
  createdAt: number;
  updatedAt: number;
}

export type NewConnection = Pick<Connection, 'userId' | 'platform' | 'channelId' | 'login' | 'displayName' | 'scopes'>;

/** Deterministic: connecting the same channel again updates the same connection. */
export const connectionIdOf = (userId: string, platform: string, channelId: string) =>
  `c_${crypto.createHash('sha256').update(`${userId}\n${platform}\n${channelId}`).digest('base64url').slice(0, 22)}`;

const CONNECTION_ID = /^c_[A-Za-z0-9_-]{22}$/;

/** HSET tokens only while the field still holds the blob that was read (KEYS[1], ARGV: old, new). */
const SWAP_TOKENS = `if redis.call('HGET', KEYS[1], 'tokens') == ARGV[1] then redis.call('HSET', KEYS[1], 'tokens', ARGV[2]) return 1 else return 0 end`;

export class ConnectionRepository {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly cipher: TokenCipher,
    private readonly now: () => number = Date.now,
  ) {}

  key(connectionId: string): string {
    return `${this.prefix}:connections:${connectionId}`;
  }
  private userKey(userId: string): string {
    return `${this.prefix}:connections:by-user:${userId}`;
  }
  private get activeKey(): string {
    return `${this.prefix}:connections:active`;
  }
  private channelKey(platform: string, channelId: string): string {
    return `${this.prefix}:connections:by-channel:${platform}:${channelId}`;
  }
  /** Set once the owner index covers every active connection (connections stored before it existed). */
  private get channelIndexMarker(): string {
    return `${this.prefix}:connections:by-channel-index:v1`;
  }

  async upsert(input: NewConnection, tokens: OAuthTokens): Promise<Connection> {
    const connectionId = connectionIdOf(input.userId, input.platform, input.channelId);
    const existing = await this.get(connectionId);
    const t = this.now();
    const conn: Connection = { connectionId, ...input, status: 'active', createdAt: existing?.createdAt ?? t, updatedAt: t };
    await this.redis
      .multi()
      .hset(this.key(connectionId), { meta: JSON.stringify(conn), tokens: this.seal(connectionId, tokens) })
      .sadd(this.userKey(input.userId), connectionId)
      .sadd(this.activeKey, connectionId)
      .hset(this.channelKey(input.platform, input.channelId), connectionId, input.userId)
      .exec();
    return conn;
  }

  async get(connectionId: string): Promise<Connection | null> {
    // Ids come from URLs: anything not shaped like ours cannot exist (and never reaches a key pattern).
    if (!CONNECTION_ID.test(connectionId)) return null;
    const meta = await this.redis.hget(this.key(connectionId), 'meta');
    return meta ? (JSON.parse(meta) as Connection) : null;
  }

  async listByUser(userId: string): Promise<Connection[]> {
    return this.many(await this.redis.smembers(this.userKey(userId)));
  }

  async listActive(): Promise<Connection[]> {
    return (await this.many(await this.redis.smembers(this.activeKey))).filter((c) => c.status === 'active');
  }

  /**
   * The active connections to one channel, earliest connected first — the first is the channel's
   * *primary* owner: ingest polls with its token (failing over to the next when it is refused) and
   * stamps its user id on the records (processors/README.md says what that user id means).
   */
  async listActiveByChannel(platform: string, channelId: string): Promise<Connection[]> {
    await this.ensureChannelIndex();
    const ids = await this.redis.hkeys(this.channelKey(platform, channelId));
    return (await this.many(ids)).filter((c) => c.status === 'active');
  }

  /** The users with an active connection to the channel (who gets its alerts and windows now). */
  async activeOwners(platform: string, channelId: string): Promise<string[]> {
    await this.ensureChannelIndex();
    return runRead(this.redis, this.activeOwnersRead(platform, channelId));
  }

  /**
   * The owner index's users of the channel as a RedisRead, for a caller that batches it with other
   * reads in one round trip (the API's request guard). Without `ensureChannelIndex`, so a user in it
   * certainly has an active connection, while one missing from it may still own the channel (a
   * connection awaiting re-authorisation, or one stored before the index): only a hit is an answer.
   */
  activeOwnersRead(platform: string, channelId: string): RedisRead<string[]> {
    const key = this.channelKey(platform, channelId);
    return { commands: 1, queue: (p) => void p.hvals(key), decode: ([v]) => [...new Set(v as string[])].sort() };
  }

  private indexReady: Promise<void> | undefined;

  /**
   * Connections stored before the owner index existed are indexed once (idempotent: any number of
   * processes may run it; the marker is set only after every active connection was added).
   */
  private ensureChannelIndex(): Promise<void> {
    this.indexReady ??= (async () => {
      if (await this.redis.exists(this.channelIndexMarker)) return;
      const active = await this.many(await this.redis.smembers(this.activeKey));
      const m = this.redis.multi();
      for (const c of active) if (c.status === 'active') m.hset(this.channelKey(c.platform, c.channelId), c.connectionId, c.userId);
      await m.set(this.channelIndexMarker, '1').exec();
    })().catch((err: unknown) => {
      this.indexReady = undefined;
      throw err;
    });
    return this.indexReady;
  }

  /** Decrypted tokens; rewrites the blob with the active key when it was sealed with an older one. */
  async getTokens(connectionId: string): Promise<OAuthTokens | null> {
    const blob = await this.redis.hget(this.key(connectionId), 'tokens');
    if (!blob) return null;
    const tokens = JSON.parse(this.cipher.decrypt(blob, connectionId)) as OAuthTokens;
    if (this.cipher.needsReencryption(blob)) await this.saveTokens(connectionId, tokens);
    return tokens;
  }

  async saveTokens(connectionId: string, tokens: OAuthTokens): Promise<void> {
    await this.redis.hset(this.key(connectionId), 'tokens', this.seal(connectionId, tokens));
  }

  async setStatus(connectionId: string, status: ConnectionStatus): Promise<Connection | null> {
    const conn = await this.get(connectionId);
    if (!conn) return null;
    const next: Connection = { ...conn, status, updatedAt: this.now() };
    const m = this.redis.multi().hset(this.key(connectionId), 'meta', JSON.stringify(next));
    if (status === 'active') m.sadd(this.activeKey, connectionId).hset(this.channelKey(conn.platform, conn.channelId), connectionId, conn.userId);
    else m.srem(this.activeKey, connectionId).hdel(this.channelKey(conn.platform, conn.channelId), connectionId);
    // A revoked connection keeps its record (history, audit) but no tokens.
    if (status === 'revoked') m.hdel(this.key(connectionId), 'tokens');
    await m.exec();
    return next;
  }

  /**
   * Re-encrypts every stored token with the active key (after adding a new key first in the ring),
   * whatever the connection's status. Compare-and-set on the old blob, so a refresh or a revoke that
   * happens meanwhile is never undone; a blob this ring cannot decrypt is counted and left as it is.
   */
  async rotateKeys(): Promise<{ rewritten: number; failed: number }> {
    const out = { rewritten: 0, failed: 0 };
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}:connections:c_*`, 'COUNT', 200);
      cursor = next;
      for (const k of keys) {
        const id = k.slice(`${this.prefix}:connections:`.length);
        const blob = await this.redis.hget(k, 'tokens');
        if (!blob || !this.cipher.needsReencryption(blob)) continue;
        let sealed: string;
        try {
          sealed = this.seal(id, JSON.parse(this.cipher.decrypt(blob, id)) as OAuthTokens);
        } catch {
          out.failed++;
          continue;
        }
        if ((await this.redis.eval(SWAP_TOKENS, 1, k, blob, sealed)) === 1) out.rewritten++;
      }
    } while (cursor !== '0');
    return out;
  }

  private seal(connectionId: string, tokens: OAuthTokens): string {
    return this.cipher.encrypt(JSON.stringify(tokens), connectionId);
  }

  private async many(ids: string[]): Promise<Connection[]> {
    if (ids.length === 0) return [];
    const p = this.redis.pipeline();
    for (const id of ids) p.hget(this.key(id), 'meta');
    const res = (await p.exec()) ?? [];
    return res
      .map(([, v]) => (typeof v === 'string' ? (JSON.parse(v) as Connection) : null))
      .filter((c): c is Connection => c !== null)
      .sort((a, b) => a.createdAt - b.createdAt || a.connectionId.localeCompare(b.connectionId));
  }
}
