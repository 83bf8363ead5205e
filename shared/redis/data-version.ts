import type { Redis } from 'ioredis';
import { type RedisRead, runRead } from './redis-read';

/** A channel as the writers and the API name it. */
export interface DataVersionChannel {
  platform: string;
  channelId: string;
}

/**
 * A per-channel data version in Redis: a counter every writer of a channel's series data (the
 * processors' flush writer for metrics_1m + metrics_1h_rollup, the history backfill) increments after
 * its ClickHouse write succeeded, and that the API's series cache (api/metrics/series.cache.ts)
 * compares with the version it cached a result under. The API reads the version before it queries,
 * so a result is never cached under a version older than the data it was computed from missed: a
 * write that lands during the query bumps the counter after it, and the next read misses.
 *
 * One key per channel, no expiry (a few bytes per channel). A lost key reads as "0"; the cache bounds
 * the age of an entry as well, for the case of a Redis reset that counts a key back to a value it had.
 */
export class DataVersions {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(c: DataVersionChannel): string {
    return `${this.prefix}:data-version:${c.platform}:${c.channelId}`;
  }

  /** One INCR per distinct channel, in one pipelined round trip; rejects if any failed (the caller retries). */
  async bump(channels: Iterable<DataVersionChannel>): Promise<void> {
    const keys = new Set<string>();
    for (const c of channels) keys.add(this.key(c));
    if (keys.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const k of keys) pipeline.incr(k);
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0];
  }

  /** The channel's current version ("0" before its first write). */
  read(c: DataVersionChannel): Promise<string> {
    return runRead(this.redis, this.versionRead(c));
  }

  /** The same read, for a caller that batches it with others in one round trip (shared/redis/redis-read.ts). */
  versionRead(c: DataVersionChannel): RedisRead<string> {
    const key = this.key(c);
    return { commands: 1, queue: (p) => void p.get(key), decode: ([v]) => (typeof v === 'string' ? v : '0') };
  }
}
