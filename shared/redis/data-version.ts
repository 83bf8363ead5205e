import crypto from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
import { floorHour, HOUR_MS, type PartRow, WINDOW_COLUMN_NAMES } from '../clickhouse/rollups';
import { chDateTime } from '../clickhouse/tables';
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
  /**
   * The window's row as written (`windowStart`'s row of metrics_1m: its version and its WINDOW_COLUMNS
   * values as a reader gets them back, shared/clickhouse/rollups.ts `windowColumnsOf`), for the open tail.
   * The flush writer reports every window with its row; a write whose windows come without rows (the
   * backfill) leaves the channel's open tail incomplete until its end moves past the hour of the newest
   * of them.
   */
  row?: ReportedRow;
}

/** A reported window row: its version in metrics_1m (the highest wins there) and its WINDOW_COLUMNS values. */
export interface ReportedRow {
  version: number;
  columns: PartRow;
}

/**
 * A channel's open tail as the writers reported it (api/README.md "Open tail"): every metrics_1m window
 * at or after `fromMs`, de-duplicated as a reader de-duplicates them (the highest version), each as its
 * WINDOW_COLUMNS values, ascending. Valid together with the sealed state it was written with (`endMs`,
 * `sealedVersion`): a reader that took the sealed hours under another state reads ClickHouse instead.
 */
export interface OpenTail {
  endMs: number;
  sealedVersion: string;
  /** max(end, the instant from which the writers' reports are known to be complete). */
  fromMs: number;
  windows: Array<{ windowStart: number; columns: PartRow }>;
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
 *
 * Then the open tail (KEYS[3], a hash: `end` and `sv` — the sealed state it goes with —, `since`, and
 * per window at or after `end` a field of its start in epoch ms = "version|columns JSON"): rows of
 * windows before the new end are dropped; each reported row at or after it (ARGV[7…], triplets start,
 * version, JSON) replaces the one kept unless that one's version is higher (as metrics_1m's readers
 * de-duplicate). `since`: from where the reports are complete. A new tail is complete from the new end
 * when this write moved a known end (every window reported before lies in an hour at or before the old
 * end), else from the hour after; a write without rows (ARGV[5] = '0'; ARGV[6] its newest window, < 0
 * unknown) pushes `since` past the hour of its newest window (unknown: never again, until the key is lost).
 * One script: the API never sees one of these changed without the others.
 */
/** `since` of a tail that a write without a known window made incomplete for good (the year 2255). */
const NEVER = 9e15;

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
local result = reseal and 1 or 0
if to == nil then
  redis.call('DEL', KEYS[3])
  return result
end
local hour = ${HOUR_MS}
local t = redis.call('HMGET', KEYS[3], 'end', 'since')
local since = tonumber(t[2])
if since == nil then
  if ARGV[5] == '1' and e ~= nil and to > e then since = to else since = to + hour end
end
if ARGV[5] ~= '1' then
  local last = tonumber(ARGV[6])
  if last < 0 then since = ${NEVER} else
    local after = last - (last % hour) + hour
    if after > since then since = after end
  end
end
if tonumber(t[1]) ~= to then
  for _, f in ipairs(redis.call('HKEYS', KEYS[3])) do
    local ws = tonumber(f)
    if ws ~= nil and ws < to then redis.call('HDEL', KEYS[3], f) end
  end
end
for i = 7, #ARGV, 3 do
  if tonumber(ARGV[i]) >= to then
    local kept = redis.call('HGET', KEYS[3], ARGV[i])
    if not kept or tonumber(string.match(kept, '^[^|]*')) <= tonumber(ARGV[i + 1]) then
      redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1] .. '|' .. ARGV[i + 2])
    end
  end
end
redis.call('HSET', KEYS[3], 'end', to, 'sv', redis.call('HGET', KEYS[2], 'v'), 'since', since)
return result`;

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
 *    sealed hours (api/metrics/sealed-hours.ts) while it is unchanged, and reads only what came after;
 *  - the **open tail** (`OpenTail`): the rows of the windows after the sealed end as the writers
 *    reported them (`ChannelWrite.row`), which the API reads instead of metrics_1m (api/README.md "Open tail").
 * The rule for the sealed version is here, once, for every writer (`bump`, BUMP_LUA): a write rewrote
 * sealed history when its first window lies in an hour before the end.
 *
 * The API reads both before it queries, so a result is never kept under versions newer than its data:
 * a write landing during the query bumps them after it, and the next read misses.
 *
 * Keys per channel, no expiry (a few bytes each; the open tail ≤ 60 rows, 13 KB); all carry the channel
 * as a hash tag (`{platform:id}`), so the script's three keys share a Redis Cluster slot. A lost
 * data-version key reads as "0" (the series cache bounds an entry's age for a Redis reset that counts
 * back to a value it had); a lost sealed hash reads as unknown (the API then reads everything from
 * ClickHouse) and the next write sets a new, never-repeated sealed version; a lost open tail is read
 * from ClickHouse until the reports are complete again (from the channel's next hour).
 */
export class DataVersions {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    if (!(BUMP_COMMAND in redis)) redis.defineCommand(BUMP_COMMAND, { numberOfKeys: 3, lua: BUMP_LUA });
  }

  private key(c: DataVersionChannel): string {
    return `${this.prefix}:data-version:{${c.platform}:${c.channelId}}`;
  }

  private sealedKey(c: DataVersionChannel): string {
    return `${this.prefix}:sealed-version:{${c.platform}:${c.channelId}}`;
  }

  private tailKey(c: DataVersionChannel): string {
    return `${this.prefix}:open-tail:{${c.platform}:${c.channelId}}`;
  }

  /**
   * After a write: per distinct channel one script (data version + sealed state), all in one pipelined
   * round trip; rejects if any failed (the caller retries — a repeat only bumps again).
   */
  async bump(writes: Iterable<ChannelWrite>): Promise<void> {
    const per = new Map<string, { c: DataVersionChannel; min: number; max: number; sealedTo: number; unknown: boolean; rowless: boolean; rows: Array<string | number> }>();
    for (const w of writes) {
      const k = this.key(w);
      let s = per.get(k);
      if (!s) per.set(k, (s = { c: { platform: w.platform, channelId: w.channelId }, min: Infinity, max: -Infinity, sealedTo: -1, unknown: false, rowless: false, rows: [] }));
      if (w.windowStart === undefined) s.unknown = true;
      else {
        if (w.windowStart < s.min) s.min = w.windowStart;
        if (w.windowStart > s.max) s.max = w.windowStart;
        if (w.row) s.rows.push(w.windowStart, w.row.version, JSON.stringify(w.row.columns));
      }
      if (!w.row) s.rowless = true;
      if (w.sealedTo !== undefined && w.sealedTo > s.sealedTo) s.sealedTo = w.sealedTo;
    }
    if (per.size === 0) return;
    const token = `${Date.now().toString(36)}.${crypto.randomBytes(6).toString('hex')}`;
    const pipeline = this.redis.pipeline() as WithBump;
    for (const [k, s] of per) {
      const known = !s.unknown && s.max >= 0;
      const from = known ? floorHour(s.min) : -1;
      const newest = s.max >= 0 ? floorHour(s.max) : -1;
      const reported = s.rowless ? (known ? ['0', s.max] : ['0', -1]) : ['1', s.max];
      pipeline[BUMP_COMMAND](k, this.sealedKey(s.c), this.tailKey(s.c), from, newest, Math.max(newest, s.sealedTo), token, ...reported, ...s.rows);
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

  /** The channel's open tail as reported (null: none kept, or a row that is not a window's WINDOW_COLUMNS of its minute — the reader then asks ClickHouse). */
  async readOpenTail(c: DataVersionChannel): Promise<OpenTail | null> {
    const h = await this.redis.hgetall(this.tailKey(c));
    const endMs = Number(h.end);
    const since = Number(h.since);
    if (!Number.isFinite(endMs) || !Number.isFinite(since) || typeof h.sv !== 'string') return null;
    const windows: OpenTail['windows'] = [];
    for (const [field, value] of Object.entries(h)) {
      const windowStart = Number(field);
      if (!Number.isInteger(windowStart)) continue;
      const bar = value.indexOf('|');
      let columns: unknown;
      try {
        columns = JSON.parse(value.slice(bar + 1));
      } catch {
        return null;
      }
      if (bar < 0 || !Array.isArray(columns) || columns.length !== WINDOW_COLUMN_NAMES.length || columns[0] !== chDateTime(windowStart)) return null;
      windows.push({ windowStart, columns: columns as PartRow });
    }
    windows.sort((a, b) => a.windowStart - b.windowStart);
    return { endMs, sealedVersion: h.sv, fromMs: Math.max(endMs, since), windows };
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
