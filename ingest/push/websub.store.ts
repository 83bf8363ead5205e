/**
 * Our WebSub subscriptions (YouTube channel feeds), in Redis so every ingest process answers the hub
 * alike: per channel the topic we asked for, the callback, the HMAC secret the hub signs with, whether
 * we asked to subscribe or to unsubscribe, and — once the hub verified our intent — when the lease
 * ends. A sorted set of lease ends answers "whose go-live is pushed now" in one call (the quota
 * planner and the scheduler ask it).
 *
 * The secret sits in Redis as a plain value, beside the sealed platform tokens: it only authenticates
 * notifications, and a notification is never trusted as such — every announced video is checked with
 * videos.list — so a leaked secret costs quota, not data.
 */
import type { Redis } from 'ioredis';

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
  constructor(private readonly redis: Redis, private readonly prefix: string, private readonly platform = 'youtube') {}

  private key(channelId: string) {
    return `${this.prefix}:ingest:websub:${this.platform}:sub:${channelId}`;
  }
  private get leasesKey() {
    return `${this.prefix}:ingest:websub:${this.platform}:leases`;
  }
  private get channelsKey() {
    return `${this.prefix}:ingest:websub:${this.platform}:channels`;
  }

  async get(channelId: string): Promise<FeedSubscription | null> {
    const h = await this.redis.hgetall(this.key(channelId));
    if (!h.topic || !h.secret) return null;
    return {
      channelId,
      topic: h.topic,
      callback: h.callback ?? '',
      secret: h.secret,
      mode: h.mode === 'unsubscribe' ? 'unsubscribe' : 'subscribe',
      requestedAt: Number(h.requestedAt ?? 0),
      expiresAt: h.expiresAt ? Number(h.expiresAt) : null,
      leaseSeconds: h.leaseSeconds ? Number(h.leaseSeconds) : null,
    };
  }

  /** Records a (re)subscribe or unsubscribe request before it is sent, so the hub's verification finds it. */
  async requested(s: Pick<FeedSubscription, 'channelId' | 'topic' | 'callback' | 'secret' | 'mode'>, at: number): Promise<void> {
    const m = this.redis.multi().hset(this.key(s.channelId), { topic: s.topic, callback: s.callback, secret: s.secret, mode: s.mode, requestedAt: String(at) }).sadd(this.channelsKey, s.channelId);
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

  /** One process (re)subscribes a channel at a time: true = this caller does it. */
  async claim(channelId: string, holder: string, ms: number): Promise<boolean> {
    return (await this.redis.set(`${this.key(channelId)}:claim`, holder, 'PX', ms, 'NX')) === 'OK';
  }
}
