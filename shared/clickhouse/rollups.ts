/**
 * The hourly rollup of metrics_1m (migrations/0110_metrics_1h_rollup.sql): the one definition of its
 * parts, of how hours are (re)computed from the minute windows, and of how parts combine into a bucket.
 * Writers: the processors' flush (processors/sink/rollup.writer.ts) and the backfill (models/history.ts).
 * Reader: the API's 1h/1d series (api/metrics/metrics.repository.ts), which takes complete hours from
 * here and the rest — the open tail, partial hours at the range's edges — from metrics_1m, through the
 * same part definitions, so both sources give the same figures. How parts combine into a bucket is
 * defined once (PART_MERGE_TABLE, FIGURES) and rendered both as SQL (BUCKET_FROM_PARTS, for the export's
 * one query) and as TypeScript (bucketFromParts, for the JSON route, which reads parts and combines them).
 *
 * Invariant the reader relies on: for every channel, every hour before its newest rollup row that has
 * windows has a rollup row computed from its current windows. Writers keep it by sealing contiguously
 * (from the channel's newest rollup hour on, see `sealedThrough`) and by re-sealing any complete hour
 * they write windows into.
 */
import type { ClickHouseRepository } from './clickhouse.repository';
import { chDateTime, type MetricsWindowRecord } from './tables';

export const HOUR_MS = 3_600_000;
export const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;
export const ceilHour = (ms: number) => Math.ceil(ms / HOUR_MS) * HOUR_MS;
const MINUTE_MS = 60_000;

/**
 * The parts, each with how parts of several hours combine into one part (a bucket of hours, or of
 * an hour's windows already summed by WINDOW_PARTS): counts and sums add, peaks/minima take max/min
 * (SQL `min` skips NULL, as `min` below does), and a "last known" value is the one of the part whose
 * minute (`at`) is newest among the parts that knew it (`known`), its minute the newest such minute.
 * This table is the ONE definition of combining parts: the SQL below (ROLLUP_PARTS, ROLLUP_MERGED_PARTS,
 * BUCKET_FROM_PARTS) and the TypeScript (`mergeParts`, `bucketFromParts`) are both rendered from it.
 */
type MergeOf<N extends string> = 'sum' | 'max' | 'min' | { last: N; at: N; known: N } | { newest: N; known: N };
const PART_MERGE_TABLE = {
  windows: 'sum',
  live_windows: 'sum',
  samples: 'sum',
  sampled_windows: 'sum',
  sum_avg_viewers: 'sum',
  peak_viewers: 'max',
  min_viewers: 'min',
  viewer_minutes: 'sum',
  last_followers: { last: 'last_followers', at: 'last_followers_at', known: 'last_followers' },
  last_followers_at: { newest: 'last_followers_at', known: 'last_followers' },
  follower_delta: 'sum',
  chat_messages: 'sum',
  max_unique_chatters: 'max',
  sum_engagement_rate: 'sum',
  last_paid_subscribers: { last: 'last_paid_subscribers', at: 'last_paid_subscribers_at', known: 'last_paid_subscribers' },
  last_paid_subscribers_at: { newest: 'last_paid_subscribers_at', known: 'last_paid_subscribers' },
  last_subscription_points: { last: 'last_subscription_points', at: 'last_paid_subscribers_at', known: 'last_paid_subscribers' },
  paid_subscriber_windows: 'sum',
  paid_subscriber_delta: 'sum',
  min_chat_sampling_rate: 'min',
} as const satisfies Record<string, MergeOf<string>>;
export type PartName = keyof typeof PART_MERGE_TABLE;
type PartMerge = MergeOf<PartName>;
const PART_MERGE: Record<PartName, PartMerge> = PART_MERGE_TABLE;

/** The parts in their order: the column order of ROLLUP_PARTS, ROLLUP_MERGED_PARTS and WINDOW_PARTS. */
export const PART_NAMES = Object.keys(PART_MERGE_TABLE) as PartName[];
const AT = Object.fromEntries(PART_NAMES.map((n, i) => [n, i])) as Record<PartName, number>;

/**
 * One part as the reader gets it from ClickHouse in JSONCompactEachRow: the values in PART_NAMES order
 * from index `base` on (what comes before is the reader's own), numbers, NULL as null, DateTime as its
 * text ("2026-12-01 18:00:00", which orders as the instant does; the `_at` of a part that knew no value
 * is 1970-01-01 00:00:00).
 */
export type PartRow = ReadonlyArray<number | string | null>;

/** The metrics_1m columns a window's parts are made of, in the order readers of plain windows select them (WINDOW_COLUMNS). */
export const WINDOW_COLUMN_NAMES = [
  'window_start', 'samples', 'avg_viewers', 'peak_viewers', 'min_viewers', 'viewer_minutes', 'followers', 'follower_delta', 'chat_messages',
  'unique_chatters', 'engagement_rate', 'live', 'paid_subscribers', 'paid_subscriber_delta', 'subscription_points', 'chat_sampling_rate',
] as const;
type WindowColumn = (typeof WINDOW_COLUMN_NAMES)[number];
export const WINDOW_COLUMNS = WINDOW_COLUMN_NAMES.join(', ');
const COL = Object.fromEntries(WINDOW_COLUMN_NAMES.map((n, i) => [n, i])) as Record<WindowColumn, number>;

/** The columns' defaults of a row written without them (migrations 0130/0140): what ClickHouse stores, and a reader gets back. */
const WINDOW_COLUMN_DEFAULTS: Partial<Record<WindowColumn, number | null>> = { paid_subscribers: null, paid_subscriber_delta: 0, subscription_points: null, chat_sampling_rate: 1 };

/**
 * A metrics_1m row as written, as a reader of plain windows gets it back from ClickHouse
 * (JSONCompactEachRow of WINDOW_COLUMNS: window_start as DateTime text, numbers, NULL as null): what a
 * writer reports of its windows to the API's open tail (shared/redis/data-version.ts), so that the API
 * makes the same parts of them (`windowPart`) as of the rows it would read.
 */
export function windowColumnsOf(row: MetricsWindowRecord): PartRow {
  return WINDOW_COLUMN_NAMES.map((n) => {
    const v = row[n];
    return v === undefined ? (WINDOW_COLUMN_DEFAULTS[n] ?? null) : v;
  });
}

/**
 * What ONE window (a de-duplicated metrics_1m row) is as a part: each part is 1 per window (`count`),
 * a column of the window (`col`), or the window's minute (`at`: the minute of a "last known" value),
 * where `if` holds (a window with samples, a live window, a window that knew `known`) — else nothing (0
 * in a sum, skipped by min/max). An hour's (a bucket's) parts are the windows' parts combined by
 * PART_MERGE, so this table with PART_MERGE_TABLE is the ONE definition of how windows become parts:
 * rendered as SQL aggregates (WINDOW_PARTS: the rollup writers' INSERT … SELECT and the export's one
 * SQL) and as TypeScript (`windowPart`: the API's minute rows of the open tail and the range's edges).
 */
type Cond = 'sampled' | 'live' | { known: WindowColumn };
type WindowOf = { count: true; if?: Cond } | { col: WindowColumn; if?: Cond } | { at: true };
const WINDOW_PART_TABLE = {
  windows: { count: true },
  live_windows: { count: true, if: 'live' },
  samples: { col: 'samples' },
  sampled_windows: { count: true, if: 'sampled' },
  sum_avg_viewers: { col: 'avg_viewers', if: 'sampled' },
  peak_viewers: { col: 'peak_viewers' },
  min_viewers: { col: 'min_viewers', if: 'sampled' },
  viewer_minutes: { col: 'viewer_minutes' },
  last_followers: { col: 'followers' },
  last_followers_at: { at: true },
  follower_delta: { col: 'follower_delta' },
  chat_messages: { col: 'chat_messages' },
  max_unique_chatters: { col: 'unique_chatters' },
  sum_engagement_rate: { col: 'engagement_rate', if: 'sampled' },
  last_paid_subscribers: { col: 'paid_subscribers' },
  last_paid_subscribers_at: { at: true },
  last_subscription_points: { col: 'subscription_points' },
  paid_subscriber_windows: { count: true, if: { known: 'paid_subscribers' } },
  paid_subscriber_delta: { col: 'paid_subscriber_delta' },
  min_chat_sampling_rate: { col: 'chat_sampling_rate' },
} as const satisfies Record<PartName, WindowOf>;
const WINDOW_PART: Record<PartName, WindowOf> = WINDOW_PART_TABLE;

const condSql = (c: Cond) => (c === 'sampled' ? 'samples > 0' : c === 'live' ? 'live = 1' : `isNotNull(${c.known})`);
/** The window column a part is (for a "last known" part: the value's column; for its minute: window_start). */
const windowColOf = (n: PartName): string => {
  const w = WINDOW_PART[n];
  return 'col' in w ? w.col : 'window_start';
};

/** One part over a bucket's windows in SQL: the part's merge (PART_MERGE) of what each window is (WINDOW_PART). */
function windowPartSql(name: PartName): string {
  const w = WINDOW_PART[name];
  const m = PART_MERGE[name];
  if (typeof m !== 'string') {
    const known = `isNotNull(${windowColOf(m.known)})`;
    return 'last' in m ? `argMaxIf(${windowColOf(m.last)}, window_start, ${known})` : `maxIf(window_start, ${known})`;
  }
  if ('count' in w) {
    if (m !== 'sum') throw new Error(`${name}: a count is summed`);
    return w.if ? `countIf(${condSql(w.if)})` : 'count()';
  }
  if (!('col' in w)) throw new Error(`${name}: a minute part is a "last known" part's`);
  if (!w.if) return `${m}(${w.col})`;
  const c = condSql(w.if);
  // min/max of no window is NULL (as the rollup's nullable min_viewers keeps it), not the type's default.
  return m === 'sum' ? `sumIf(${w.col}, ${c})` : `if(countIf(${c}) = 0, NULL, ${m}If(${w.col}, ${c}))`;
}

/**
 * The parts of one bucket over de-duplicated metrics_1m rows (columns window_start, samples, …), with
 * `c_` names so no alias shadows a column it aggregates, in PART_NAMES order; rendered from
 * WINDOW_PART_TABLE and PART_MERGE_TABLE. Viewer averages and the engagement rate are over windows with
 * samples (live snapshots), as the API and the processors' views define them. The chat sampling rate is
 * the lowest of the bucket's windows (1 = all chat read; migrations 0140/0141).
 */
export const WINDOW_PARTS = `\n  ${PART_NAMES.map((n) => `${windowPartSql(n)} AS c_${n}`).join(',\n  ')}`;

const EPOCH_TEXT = '1970-01-01 00:00:00';
const WINDOW_PART_LIST = PART_NAMES.map((n) => {
  const w = WINDOW_PART[n];
  const m = PART_MERGE[n];
  const known = typeof m !== 'string' ? COL[(WINDOW_PART[m.known] as { col: WindowColumn }).col] : -1;
  return { w, m, known, col: 'col' in w ? COL[w.col] : -1 };
});
const condOf = (c: Cond | undefined, row: PartRow, base: number): boolean =>
  c === undefined ? true : c === 'sampled' ? (row[base + COL.samples] as number) > 0 : c === 'live' ? row[base + COL.live] === 1 : row[base + COL[c.known]] !== null;

/**
 * The same in TypeScript: one window (a row of WINDOW_COLUMNS values from index `base`, window_start as
 * DateTime text) as a part, in PART_NAMES order. Parts of windows merge (mergeParts) with each other and
 * with rollup parts as the SQL aggregates above compute them.
 */
export function windowPart(row: PartRow, base = 0): Array<number | string | null> {
  const ws = row[base + COL.window_start] as string;
  return WINDOW_PART_LIST.map(({ w, m, known, col }) => {
    if ('at' in w) return row[base + known] === null ? EPOCH_TEXT : ws;
    const ok = condOf(w.if, row, base);
    if ('count' in w) return ok ? 1 : 0;
    if (ok) return row[base + col] as number | null;
    return m === 'sum' ? 0 : null;
  });
}

/** One part's merge in SQL over rows whose columns are `col(name)`. */
function mergeSql(name: PartName, col: (n: PartName) => string): string {
  const m: PartMerge = PART_MERGE[name];
  if (typeof m === 'string') return `${m}(${col(name)})`;
  if ('last' in m) return `argMaxIf(${col(m.last)}, ${col(m.at)}, isNotNull(${col(m.known)}))`;
  return `maxIf(${col(m.newest)}, isNotNull(${col(m.known)}))`;
}

/** The stored rollup columns under the same `c_` names (a row of metrics_1h_rollup as parts). */
export const ROLLUP_PARTS = PART_NAMES.map((n) => `${n} AS c_${n}`).join(', ');

/** Stored rollup rows (columns as in metrics_1h_rollup) merged into one part per group, as `c_` columns. */
export const ROLLUP_MERGED_PARTS = PART_NAMES.map((n) => `${mergeSql(n, (x) => x)} AS c_${n}`).join(',\n  ');

/** Parts (each from index `base` of its row) merged in TypeScript, as the SQL renderings of PART_MERGE merge them; in PART_NAMES order. */
export function mergeParts(parts: readonly PartRow[], base = 0): Array<number | string | null> {
  const out: Array<number | string | null> = new Array(PART_NAMES.length);
  PART_NAMES.forEach((name, i) => {
    const m = PART_MERGE[name];
    let acc: number | string | null = null;
    if (typeof m === 'string') {
      for (const p of parts) {
        const v = p[base + i] as number | null;
        if (v === null) continue; // SQL aggregates skip NULL (only min_viewers is nullable)
        acc = acc === null ? v : m === 'sum' ? (acc as number) + v : m === 'max' ? Math.max(acc as number, v) : Math.min(acc as number, v);
      }
      if (acc === null && m === 'sum') acc = 0;
    } else {
      const at = base + AT['last' in m ? m.at : m.newest];
      const known = base + AT[m.known];
      let best: PartRow | null = null;
      for (const p of parts) if (p[known] !== null && (best === null || (p[at] as string) > (best[at] as string))) best = p;
      acc = 'last' in m ? (best ? best[base + AT[m.last]]! : null) : best ? best[at]! : '1970-01-01 00:00:00';
    }
    out[i] = acc;
  });
  return out;
}

/**
 * A bucket's figures from its (merged) parts, under the API's SeriesRow names: the average as Σ/count
 * over windows with samples, null (not 0) when no window had samples; paid-subscriber change null when
 * no window knew the count. Each figure is a part, or a part unless `none` (a part) is 0, or a ratio.
 */
type Figure = { part: PartName; unlessNone?: PartName } | { ratio: PartName; over: PartName };
const FIGURES = {
  liveMinutes: { part: 'live_windows' },
  sampleCount: { part: 'samples' },
  avgViewers: { ratio: 'sum_avg_viewers', over: 'sampled_windows' },
  peakViewers: { part: 'peak_viewers' },
  minViewers: { part: 'min_viewers', unlessNone: 'sampled_windows' },
  viewerMinutes: { part: 'viewer_minutes' },
  lastFollowers: { part: 'last_followers' },
  followerDelta: { part: 'follower_delta' },
  chatMessages: { part: 'chat_messages' },
  uniqueChatters: { part: 'max_unique_chatters' },
  engagementRate: { ratio: 'sum_engagement_rate', over: 'sampled_windows' },
  lastPaidSubscribers: { part: 'last_paid_subscribers' },
  paidSubscriberDelta: { part: 'paid_subscriber_delta', unlessNone: 'paid_subscriber_windows' },
  lastSubscriptionPoints: { part: 'last_subscription_points' },
  chatSamplingRate: { part: 'min_chat_sampling_rate' },
} as const satisfies Record<string, Figure>;

/** A bucket's figures (the API's SeriesRow without its bucket). */
export type BucketFigures = { -readonly [K in keyof typeof FIGURES]: K extends 'avgViewers' | 'minViewers' | 'lastFollowers' | 'engagementRate' | 'lastPaidSubscribers' | 'paidSubscriberDelta' | 'lastSubscriptionPoints' ? number | null : number };

/**
 * Parts (rows with the `c_` columns) combined into one bucket, in SQL (an aggregation over the parts'
 * rows): PART_MERGE's merge of each part, then FIGURES. The export's one-query series uses it.
 */
export const BUCKET_FROM_PARTS = Object.entries(FIGURES as Record<string, Figure>).map(([name, f]) => {
  const merged = (n: PartName) => mergeSql(n, (x) => `c_${x}`);
  if ('ratio' in f) return `if(${merged(f.over)} = 0, NULL, ${merged(f.ratio)} / ${merged(f.over)}) AS ${name}`;
  return f.unlessNone ? `if(${merged(f.unlessNone)} = 0, NULL, ${merged(f.part)}) AS ${name}` : `${merged(f.part)} AS ${name}`;
}).join(',\n  ');

const FIGURE_LIST = Object.entries(FIGURES as Record<string, Figure>);

/** The same in TypeScript: the figures of one bucket from all its parts (at least one; each from index `base` of its row). */
export function bucketFromParts(parts: readonly PartRow[], base = 0): BucketFigures {
  const [m, at] = parts.length === 1 ? [parts[0]!, base] : [mergeParts(parts, base), 0];
  const v = (n: PartName) => m[at + AT[n]] as number | null;
  const out: Record<string, number | null> = {};
  for (const [name, f] of FIGURE_LIST) {
    if ('ratio' in f) out[name] = v(f.over) === 0 ? null : (v(f.ratio) as number) / (v(f.over) as number);
    else out[name] = f.unlessNone && v(f.unlessNone) === 0 ? null : v(f.part);
  }
  return out as BucketFigures;
}

/**
 * End of a channel's newest rollup hour at or after {rollFrom} (1970-01-01 01:00 when there is none), as a
 * scalar subquery. Restricting it to the range changes nothing the reader uses (a newer row lies in the
 * range too; with none there, the range has no rollup rows) and reads only the range's granules.
 */
export const SEALED_END = `(SELECT max(bucket_start) + INTERVAL 1 HOUR FROM metrics_1h_rollup
  WHERE platform = {platform:String} AND channel_id = {channelId:String} AND bucket_start >= {rollFrom:DateTime('UTC')})`;

const RESEAL = `
  INSERT INTO metrics_1h_rollup (platform, channel_id, bucket_start, windows, live_windows, samples, sampled_windows,
    sum_avg_viewers, peak_viewers, min_viewers, viewer_minutes, last_followers, last_followers_at, follower_delta,
    chat_messages, max_unique_chatters, sum_engagement_rate, last_paid_subscribers, last_paid_subscribers_at,
    last_subscription_points, paid_subscriber_windows, paid_subscriber_delta, min_chat_sampling_rate, source_version, version)
  SELECT platform, channel_id, toStartOfHour(window_start) AS c_bucket, ${WINDOW_PARTS},
         max(version) AS c_source_version, max(version) * 2048 + count() AS c_version
  FROM (
    SELECT platform, channel_id, window_start, samples, avg_viewers, peak_viewers, min_viewers, viewer_minutes, followers,
           follower_delta, chat_messages, unique_chatters, engagement_rate, live, paid_subscribers, paid_subscriber_delta,
           subscription_points, chat_sampling_rate, version
    FROM metrics_1m
    WHERE platform IN {platforms:Array(String)} AND channel_id IN {channelIds:Array(String)}
      AND window_start >= {from:DateTime('UTC')} AND window_start < {to:DateTime('UTC')}
    ORDER BY platform, channel_id, window_start, version DESC
    LIMIT 1 BY platform, channel_id, window_start
  )
  WHERE has({keys:Array(String)}, concat(platform, ':', channel_id))
  GROUP BY platform, channel_id, c_bucket`;

export interface RollupChannel {
  platform: string;
  channelId: string;
}

const keyOf = (c: RollupChannel) => `${c.platform}:${c.channelId}`;

/**
 * (Re)computes the rollup of the hours in [fromMs, toMs) (both hour-aligned) of `channels` from their
 * current windows in metrics_1m. Idempotent; hours without windows get no row. The caller asserts the
 * hours are complete (no window of them is still to be written).
 */
export async function resealHours(repo: ClickHouseRepository, channels: RollupChannel[], fromMs: number, toMs: number): Promise<void> {
  if (channels.length === 0 || toMs <= fromMs) return;
  await repo.command('reseal metrics_1h_rollup', RESEAL, {
    platforms: [...new Set(channels.map((c) => c.platform))],
    channelIds: [...new Set(channels.map((c) => c.channelId))],
    keys: channels.map(keyOf),
    from: chDateTime(fromMs),
    to: chDateTime(toMs),
  });
}

/** Per channel ("platform:channelId"), the end of its newest rollup hour in ms; 0 when it has none. */
export async function sealedThrough(repo: ClickHouseRepository, channels: RollupChannel[]): Promise<Map<string, number>> {
  const out = new Map<string, number>(channels.map((c) => [keyOf(c), 0]));
  if (channels.length === 0) return out;
  const rows = await repo.query<{ k: string; sealed: number }>(
    'rollup sealed through',
    `SELECT concat(platform, ':', channel_id) AS k, toUnixTimestamp(max(bucket_start)) * 1000 + ${HOUR_MS} AS sealed
     FROM metrics_1h_rollup
     WHERE platform IN {platforms:Array(String)} AND channel_id IN {channelIds:Array(String)}
     GROUP BY platform, channel_id`,
    { platforms: [...new Set(channels.map((c) => c.platform))], channelIds: [...new Set(channels.map((c) => c.channelId))] },
  );
  for (const r of rows) if (out.has(r.k)) out.set(r.k, Number(r.sealed));
  return out;
}

/**
 * After a batch write of windows in [fromMs, toMs) that are final (the backfill): re-seals, per channel,
 * every complete hour from its newest rollup hour (or the batch's first hour, if earlier; the whole
 * history when it has none) up to the hour of `toMs` — that one too when it was sealed before — so no
 * unsealed or outdated hour is left below a sealed one. Returns, per channel, what the write did as the
 * data versions take it (shared/redis/data-version.ts `bump`): windows from `fromMs` to the last minute
 * before `toMs` (two items; their rows are not reported), the rollup sealed to the end of the hours re-sealed.
 */
export async function sealAfterBatch(repo: ClickHouseRepository, channels: RollupChannel[], fromMs: number, toMs: number): Promise<Array<RollupChannel & { windowStart: number; sealedTo: number }>> {
  const sealed = await sealedThrough(repo, channels);
  const groups = new Map<string, { lo: number; hi: number; channels: RollupChannel[] }>();
  const written: Array<RollupChannel & { windowStart: number; sealedTo: number }> = [];
  for (const c of channels) {
    const s = sealed.get(keyOf(c)) ?? 0;
    const lo = s === 0 ? 0 : Math.min(s, floorHour(fromMs));
    const hi = s >= ceilHour(toMs) ? ceilHour(toMs) : floorHour(toMs);
    const g = groups.get(`${lo}:${hi}`) ?? { lo, hi, channels: [] };
    g.channels.push(c);
    groups.set(`${lo}:${hi}`, g);
    written.push({ platform: c.platform, channelId: c.channelId, windowStart: fromMs, sealedTo: hi });
    // …and to the last minute before `toMs` (without rows: the channel's open tail is incomplete until its end passes that hour).
    if (toMs - MINUTE_MS > fromMs) written.push({ platform: c.platform, channelId: c.channelId, windowStart: toMs - MINUTE_MS, sealedTo: hi });
  }
  for (const g of groups.values()) await resealHours(repo, g.channels, g.lo, g.hi);
  return written;
}
