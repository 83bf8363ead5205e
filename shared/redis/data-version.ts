import crypto from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
import { floorHour } from '../clickhouse/rollups';
import { type RedisRead, readTogether, runRead } from './redis-read';

/** A channel as the writers and the API name it. */
export interface DataVersionChannel {
  platform: string;
  channelId: string;
}

/**
 * What one write did to a channel, as `bump` takes it: any number of items per channel. The flush
 * writer passes its closed windows (each has `windowStart`); the backfill one item per channel with
 * the first minute it wrote and where it sealed the rollup to.
 */
export interface ChannelWrite extends DataVersionChannel {
  /** A window written into metrics_1m (epoch ms). Absent: unknown what was written — taken as a reseal. */
  windowStart?: number;
  /**
   * Where the channel's rollup ends after this write (epoch ms, on the hour), when the writer sealed
   * further than the hour of its newest window (the backfill: its windows are final). Without it, the
   * hours before the hour of the newest window count as sealed (the flush writer's rule: once a window
   * of hour H is written, every earlier hour of the channel is complete and sealed, processors/README.md).
   */
  sealedTo?: number;
}

/**
 * The channel's sealed history as the writers left it (api/README.md "Sealed hours"): every hour before
 * `endMs` has its rollup row in metrics_1h_rollup computed from its current windows (hours without
 * windows have none), and `version` changes whenever an hour before the end is rewritten (a reseal: a
 * replay, a backfill) — not when new hours are sealed after it.
 */
export interface SealedState {
  version: string;
  endMs: number;
}

/** The two versions of a channel, read in one round trip. `sealed` null: unknown (no writer has reported since the key was lost or made). */
export interface ChannelVersions {
  data: string;
  sealed: SealedState | null;
}

/**
 * Per channel, after each write: INCR the data version (KEYS[1]); in the sealed hash (KEYS[2]: `end`,
 * `pending`, `v`) a new sealed version `v` (ARGV[4], unique) when the write rewrote an hour before the
 * previous `end` (ARGV[1] = the hour of its first window, < 0 unknown), when the end was unknown, or
 * when the previous write left `pending`; then `end` = max(end, ARGV[3]) and `pending` = whether the
 * newest window's hour (ARGV[2]) lies before the previous end (a replay inside sealed history: the
 * flush writer may recompute that hour only with the channel's next write, so that one bumps again).
 * One script: the API never sees one of the two changed without the other.
 */
const BUMP_LUA = `
redis.call('INCR', KEYS[1])
local from = tonumber(ARGV[1])
local newest = tonumber(ARGV[2])
local sealedTo = tonumber(ARGV[3])
local s = redis.call('HMGET', KEYS[2], 'end', 'pending')
local e = tonumber(s[1])
local reseal = e == nil or from < 0 or from < e or s[2] == '1'
local pending = '0'
if e ~= nil and newest >= 0 and newest < e then pending = '1' end
local to = e
if sealedTo >= 0 and (to == nil or sealedTo > to) then to = sealedTo end
if to ~= nil then redis.call('HSET', KEYS[2], 'end', to, 'pending', pending) end
if reseal then redis.call('HSET', KEYS[2], 'v', ARGV[4]) end
return reseal and 1 or 0`;

const BUMP_COMMAND = 'spacehubDataVersionBump';
type WithBump = ChainableCommander & Record<typeof BUMP_COMMAND, (...args: Array<string | number>) => ChainableCommander>;

/**
 * Per-channel versions in Redis that every writer of a channel's series data (the processors' flush
 * writer for metrics_1m + metrics_1h_rollup, the history backfill) bumps after its ClickHouse write
 * succeeded, and that the API compares with what it cached:
 *  - the **data version**, a counter every write increments: the API's series cache
 *    (api/metrics/series.cache.ts) serves a result only under the version it was computed under;
 *  - the **sealed state** (`SealedState`): where the channel's sealed rollup ends and a version that
 *    changes only when a write rewrote an hour before that end (a reseal). The API keeps each channel's
 *    sealed hours (api/metrics/sealed-hours.ts) while it is unchanged, and reads only what came after.
 * The rule for the sealed version is here, once, for every writer (`bump`, BUMP_LUA): a write rewrote
 * sealed history when its first window lies in an hour before the end.
 *
 * The API reads both before it queries, so a result is never kept under versions newer than its data:
 * a write landing during the query bumps them after it, and the next read misses.
 *
 * Keys per channel, no expiry (a few bytes each); both carry the channel as a hash tag (`{platform:id}`),
 * so the script's two keys share a Redis Cluster slot. A lost data-version key reads as "0" (the series
 * cache bounds an entry's age for a Redis reset that counts back to a value it had); a lost sealed
 * hash reads as unknown (the API then reads everything from ClickHouse) and the next write sets a new,
 * never-repeated sealed version.
 */
export class DataVersions {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    if (!(BUMP_COMMAND in redis)) redis.defineCommand(BUMP_COMMAND, { numberOfKeys: 2, lua: BUMP_LUA });
  }

  private key(c: DataVersionChannel): string {
    return `${this.prefix}:data-version:{${c.platform}:${c.channelId}}`;
  }

  private sealedKey(c: DataVersionChannel): string {
    return `${this.prefix}:sealed-version:{${c.platform}:${c.channelId}}`;
  }

  /**
   * After a write: per distinct channel one script (data version + sealed state), all in one pipelined
   * round trip; rejects if any failed (the caller retries — a repeat only bumps again).
   */
  async bump(writes: Iterable<ChannelWrite>): Promise<void> {
    const per = new Map<string, { c: DataVersionChannel; min: number; max: number; sealedTo: number; unknown: boolean }>();
    for (const w of writes) {
      const k = this.key(w);
      let s = per.get(k);
      if (!s) per.set(k, (s = { c: { platform: w.platform, channelId: w.channelId }, min: Infinity, max: -Infinity, sealedTo: -1, unknown: false }));
      if (w.windowStart === undefined) s.unknown = true;
      else {
        if (w.windowStart < s.min) s.min = w.windowStart;
        if (w.windowStart > s.max) s.max = w.windowStart;
      }
      if (w.sealedTo !== undefined && w.sealedTo > s.sealedTo) s.sealedTo = w.sealedTo;
    }
    if (per.size === 0) return;
    const token = `${Date.now().toString(36)}.${crypto.randomBytes(6).toString('hex')}`;
    const pipeline = this.redis.pipeline() as WithBump;
    for (const [k, s] of per) {
      const known = !s.unknown && s.max >= 0;
      const from = known ? floorHour(s.min) : -1;
      const newest = s.max >= 0 ? floorHour(s.max) : -1;
      pipeline[BUMP_COMMAND](k, this.sealedKey(s.c), from, newest, Math.max(newest, s.sealedTo), token);
    }
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0];
  }

  /** The channel's current data version ("0" before its first write). */
  read(c: DataVersionChannel): Promise<string> {
    return runRead(this.redis, this.versionRead(c));
  }

  /** Both versions of the channel in one round trip. */
  async readVersions(c: DataVersionChannel): Promise<ChannelVersions> {
    const [data, sealed] = await readTogether(this.redis, [this.versionRead(c), this.sealedRead(c)] as const);
    return { data, sealed };
  }

  /** The data version's read, for a caller that batches it with others in one round trip (shared/redis/redis-read.ts). */
  versionRead(c: DataVersionChannel): RedisRead<string> {
    const key = this.key(c);
    return { commands: 1, queue: (p) => void p.get(key), decode: ([v]) => (typeof v === 'string' ? v : '0') };
  }

  /** The sealed state's read (null: unknown), to batch the same way. */
  sealedRead(c: DataVersionChannel): RedisRead<SealedState | null> {
    const key = this.sealedKey(c);
    return {
      commands: 1,
      queue: (p) => void p.hmget(key, 'v', 'end'),
      decode: ([r]) => {
        const [v, end] = (r ?? []) as Array<string | null>;
        return typeof v === 'string' && typeof end === 'string' ? { version: v, endMs: Number(end) } : null;
      },
    };
  }
}
