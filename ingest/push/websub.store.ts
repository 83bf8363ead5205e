/**
 * Our WebSub subscriptions (YouTube channel feeds), in Redis so every ingest process answers the hub
 * alike: per channel the topic we asked for, the callback, the HMAC secret the hub signs with, whether
 * we asked to subscribe or to unsubscribe, and — once the hub verified our intent — when the lease
 * ends. A sorted set of lease ends answers "whose go-live is pushed now" in one call (the quota
 * planner and the scheduler ask it).
 *
 * The secret is sealed like the platform tokens and webhook secrets (TokenCipher, the
 * TOKEN_ENCRYPTION_KEYS ring, AAD `websub:<platform>:<channelId>`, so a blob copied onto another
 * channel fails): Redis holds no usable secret. A record of before (a `secret` field in clear) or one
 * the ring cannot open counts as no subscription: its clear value authenticates nothing, and the next
 * reconciliation subscribes the channel again with a fresh secret. `rotateKeys` re-seals under the
 * ring's active key (`spacehub keys rotate`).
 */
import type { Redis } from 'ioredis';
import type { TokenCipher } from '../../platforms/tokens/token-cipher';

export interface FeedSubscription {
  channelId: string;
  topic: string;
  callback: string;
  secret: string;
  mode: 'subscribe' | 'unsubscribe';
  requestedAt: number;
  /** Set when the hub verified a subscribe: now + its hub.lease_seconds. */
  expiresAt: number | null;
  leaseSeconds: number | null;
}

export class WebSubStore {
  constructor(private readonly redis: Redis, private readonly prefix: string, private readonly cipher: TokenCipher, private readonly platform = 'youtube') {}

  private aad(channelId: string) {
    return `websub:${this.platform}:${channelId}`;
  }

  private open(channelId: string, blob: string | undefined): string | null {
    if (!blob) return null;
    try {
      return this.cipher.decrypt(blob, this.aad(channelId));
    } catch {
      return null; // sealed with a key no longer in the ring, or tampered: unusable, subscribed again
    }
  }

  private key(channelId: string) {
    return `${this.prefix}:ingest:websub:${this.platform}:sub:${channelId}`;
  }
  private get leasesKey() {
    return `${this.prefix}:ingest:websub:${this.platform}:leases`;
  }
  private get channelsKey() {
    return `${this.prefix}:ingest:websub:${this.platform}:channels`;
  }
  /** Scheduled videos to check again: member `<channelId> <videoId>`, score = when (ms). */
  private get dueKey() {
    return `${this.prefix}:ingest:websub:${this.platform}:due`;
  }

  /** Remembers to check a channel's announced video at `at` (a scheduled broadcast's start). */
  async checkLater(channelId: string, videoId: string, at: number): Promise<void> {
    await this.redis.zadd(this.dueKey, at, `${channelId} ${videoId}`);
  }

  /** Takes the checks due by `now` (at most `limit`): atomically, so one process checks each. */
  async takeDue(now: number, limit = 50): Promise<Array<{ channelId: string; videoId: string }>> {
    const taken = (await this.redis.eval(
      "local m = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2]) if #m > 0 then redis.call('ZREM', KEYS[1], unpack(m)) end return m",
      1, this.dueKey, String(now), String(limit))) as string[];
    return taken.map((m) => {
      const [channelId, videoId] = m.split(' ') as [string, string];
      return { channelId, videoId };
    });
  }

  /** When the earliest remembered check is due, or null. */
  async nextDue(): Promise<number | null> {
    const r = await this.redis.zrange(this.dueKey, 0, 0, 'WITHSCORES');
    return r.length === 2 ? Number(r[1]) : null;
  }

  async get(channelId: string): Promise<FeedSubscription | null> {
    const h = await this.redis.hgetall(this.key(channelId));
    const secret = this.open(channelId, h.secretBlob);
    if (!h.topic || secret === null) return null;
    return {
      channelId,
      topic: h.topic,
      callback: h.callback ?? '',
      secret,
      mode: h.mode === 'unsubscribe' ? 'unsubscribe' : 'subscribe',
      requestedAt: Number(h.requestedAt ?? 0),
      expiresAt: h.expiresAt ? Number(h.expiresAt) : null,
      leaseSeconds: h.leaseSeconds ? Number(h.leaseSeconds) : null,
    };
  }

  /** Records a (re)subscribe or unsubscribe request before it is sent, so the hub's verification finds it. */
  async requested(s: Pick<FeedSubscription, 'channelId' | 'topic' | 'callback' | 'secret' | 'mode'>, at: number): Promise<void> {
    const m = this.redis
      .multi()
      .hset(this.key(s.channelId), { topic: s.topic, callback: s.callback, secretBlob: this.cipher.encrypt(s.secret, this.aad(s.channelId)), mode: s.mode, requestedAt: String(at) })
      .hdel(this.key(s.channelId), 'secret') // a clear secret of before goes with the first request that seals one
      .sadd(this.channelsKey, s.channelId);
    // Once we ask to leave, pushes for the channel are no longer what its go-live relies on.
    if (s.mode === 'unsubscribe') m.zrem(this.leasesKey, s.channelId);
    await m.exec();
  }

  /** The hub verified our subscribe: the lease runs from now. */
  async verified(channelId: string, leaseSeconds: number, at: number): Promise<void> {
    const expiresAt = at + leaseSeconds * 1000;
    // The round trip is over: the claim that kept other processes from asking too goes with it.
    await this.redis.multi().hset(this.key(channelId), { expiresAt: String(expiresAt), leaseSeconds: String(leaseSeconds) }).zadd(this.leasesKey, expiresAt, channelId).del(`${this.key(channelId)}:claim`).exec();
  }

  /** The hub verified our unsubscribe (or denied the subscription): nothing left of it. */
  async removed(channelId: string): Promise<void> {
    await this.redis.multi().del(this.key(channelId)).zrem(this.leasesKey, channelId).srem(this.channelsKey, channelId).exec();
  }

  /** Channels with a subscription record (any mode). */
  channels(): Promise<string[]> {
    return this.redis.smembers(this.channelsKey);
  }

  /** Channels whose lease is active at `now`: their go-live is pushed. */
  activeChannels(now = Date.now()): Promise<string[]> {
    return this.redis.zrangebyscore(this.leasesKey, now + 1, '+inf');
  }

  async active(channelId: string, now = Date.now()): Promise<boolean> {
    const end = await this.redis.zscore(this.leasesKey, channelId);
    return end !== null && Number(end) > now;
  }

  /** Re-seals every secret not sealed under the ring's active key (key rotation); an unopenable one is counted, left as it is. */
  async rotateKeys(): Promise<{ rewritten: number; failed: number; total: number }> {
    let rewritten = 0;
    let failed = 0;
    const channels = await this.channels();
    for (const channelId of channels) {
      const blob = await this.redis.hget(this.key(channelId), 'secretBlob');
      if (!blob || !this.cipher.needsReencryption(blob)) continue;
      const secret = this.open(channelId, blob);
      if (secret === null) {
        failed++;
        continue;
      }
      // Only if unchanged meanwhile (a renewal may have sealed a new one).
      const ok = await this.redis.eval(
        "if redis.call('HGET', KEYS[1], 'secretBlob') == ARGV[1] then redis.call('HSET', KEYS[1], 'secretBlob', ARGV[2]) return 1 end return 0",
        1, this.key(channelId), blob, this.cipher.encrypt(secret, this.aad(channelId)));
      if (ok === 1) rewritten++;
    }
    return { rewritten, failed, total: channels.length };
  }

  /** One process (re)subscribes a channel at a time: true = this caller does it. */
  async claim(channelId: string, holder: string, ms: number): Promise<boolean> {
    return (await this.redis.set(`${this.key(channelId)}:claim`, holder, 'PX', ms, 'NX')) === 'OK';
  }
}
