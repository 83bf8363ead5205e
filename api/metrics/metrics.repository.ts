import { Counter } from 'prom-client';
import type { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import { getOrCreate, metricsRegistry } from '../../shared/metrics/metrics';
import { chDateTime, parseChDateTime, type StreamSessionRecord } from '../../shared/clickhouse/tables';
import { CONNECTION_ALERT_TYPES } from '../../shared/events/channel-audience';
import {
  BUCKET_FROM_PARTS, bucketFromParts, ceilHour, floorHour, HOUR_MS, mergeParts, PART_NAMES, type PartRow, ROLLUP_MERGED_PARTS, ROLLUP_PARTS, SEALED_END,
  WINDOW_COLUMNS as WINDOW_COLUMN_LIST, WINDOW_PARTS, windowPart,
} from '../../shared/clickhouse/rollups';
import type { ChannelVersions, OpenTail, SealedState } from '../../shared/redis/data-version';
import { chInstant, TimeRange } from '../schemas/common.schemas';
import { lowerBound, type ReadSealedHours, type SealedEntry, type SealedHours } from './sealed-hours';

/**
 * The API's read queries over the processors' tables (shared/clickhouse/migrations/0002_metrics.sql).
 *
 * Those tables are ReplacingMergeTree: a replay re-inserts a key with a higher version and merges
 * collapse it some time later, so every read here de-duplicates itself — `ORDER BY key, version DESC
 * LIMIT 1 BY key` in a subquery that filters on the sorting key only — before aggregating. Filtering on
 * a non-key column (a session's ended_at, say) happens after de-duplication, never before, or an
 * outdated version could be picked because the current one was filtered out.
 *
 * Every value is a bound parameter ({name:Type}); the SQL text is constant.
 */

/** The columns the reads below aggregate (shared/clickhouse/rollups.ts, in its order): fewer columns read, less to sort for LIMIT 1 BY. */
const WINDOW_COLUMNS = WINDOW_COLUMN_LIST;

/** metrics_1m of one channel in [from, to), one row per window: the highest version. */
const CHANNEL_WINDOWS = `
  SELECT ${WINDOW_COLUMNS} FROM metrics_1m
  WHERE platform = {platform:String} AND channel_id = {channelId:String}
    AND window_start >= {from:DateTime64(3, 'UTC')} AND window_start < {to:DateTime64(3, 'UTC')}
  ORDER BY window_start, version DESC
  LIMIT 1 BY window_start`;

/**
 * CHANNEL_WINDOWS without the hours the rollup answers (those in [rollFrom, the rollup's end)), the
 * condition inside the de-duplicating subquery so that only the tail's granules are read.
 */
const TAIL_WINDOWS = `
  SELECT ${WINDOW_COLUMNS} FROM metrics_1m
  WHERE platform = {platform:String} AND channel_id = {channelId:String}
    AND window_start >= {from:DateTime64(3, 'UTC')} AND window_start < {to:DateTime64(3, 'UTC')}
    AND (window_start < {rollFrom:DateTime('UTC')} OR window_start >= least({rollTo:DateTime('UTC')}, ${SEALED_END}))
  ORDER BY window_start, version DESC
  LIMIT 1 BY window_start`;

/** metrics_1m of a set of channels ("platform:channelId" keys) in [from, to), de-duplicated. */
const CHANNELS_WINDOWS = `
  SELECT * FROM (
    SELECT platform, channel_id, ${WINDOW_COLUMNS} FROM metrics_1m
    WHERE platform IN {platforms:Array(String)} AND channel_id IN {channelIds:Array(String)}
      AND window_start >= {from:DateTime64(3, 'UTC')} AND window_start < {to:DateTime64(3, 'UTC')}
    ORDER BY platform, channel_id, window_start, version DESC
    LIMIT 1 BY platform, channel_id, window_start
  ) WHERE has({keys:Array(String)}, concat(platform, ':', channel_id))`;

/** stream_sessions of a set of channels, one row per stream (highest version), any time. */
const CHANNELS_SESSIONS = `
  SELECT * FROM (
    SELECT * FROM stream_sessions
    WHERE platform IN {platforms:Array(String)} AND channel_id IN {channelIds:Array(String)}
    ORDER BY platform, channel_id, stream_id, version DESC
    LIMIT 1 BY platform, channel_id, stream_id
  ) WHERE has({keys:Array(String)}, concat(platform, ':', channel_id))`;

/**
 * Aggregates of windows into one bucket; with one window per bucket they are that window's values.
 * Viewer averages are over windows with samples (live snapshots), as in the processors' metrics_1h/1d
 * views, so the API and Grafana agree; null rather than 0 when there were none.
 */
const BUCKET_AGGREGATES = `
  countIf(live = 1) AS liveMinutes,
  sum(samples) AS sampleCount,
  if(countIf(samples > 0) = 0, NULL, avgIf(avg_viewers, samples > 0)) AS avgViewers,
  max(peak_viewers) AS peakViewers,
  if(countIf(samples > 0) = 0, NULL, minIf(min_viewers, samples > 0)) AS minViewers,
  sum(viewer_minutes) AS viewerMinutes,
  argMaxIf(followers, window_start, isNotNull(followers)) AS lastFollowers,
  sum(follower_delta) AS followerDelta,
  sum(chat_messages) AS chatMessages,
  max(unique_chatters) AS uniqueChatters,
  if(countIf(samples > 0) = 0, NULL, avgIf(engagement_rate, samples > 0)) AS engagementRate,
  argMaxIf(paid_subscribers, window_start, isNotNull(paid_subscribers)) AS lastPaidSubscribers,
  if(countIf(isNotNull(paid_subscribers)) = 0, NULL, sum(paid_subscriber_delta)) AS paidSubscriberDelta,
  argMaxIf(subscription_points, window_start, isNotNull(paid_subscribers)) AS lastSubscriptionPoints,
  min(chat_sampling_rate) AS chatSamplingRate`;

export interface SeriesRow extends WindowStatsRow {
  bucket: string;
  sampleCount: number;
  minViewers: number | null;
  lastFollowers: number | null;
  uniqueChatters: number;
  /** Twitch paid subscribers (issue 18.3): null when no window of the bucket knew them (no scope, YouTube). */
  lastPaidSubscribers: number | null;
  paidSubscriberDelta: number | null;
  lastSubscriptionPoints: number | null;
  /** Lowest chat sampling rate of the bucket's windows (1 = all chat read; below 1 the chat figures are a sample, flagged). */
  chatSamplingRate: number;
}

export interface LatestStateRow {
  windows: number;
  lastWindowStart: string | null;
  lastLive: number;
  lastAvgViewers: number;
  lastEngagementRate: number;
  lastFollowers: number | null;
  growth24h: number;
  growth7d: number;
}

/** stream_sessions columns, as the API reads them (shared/clickhouse/tables owns the row). */
export type SessionRow = Omit<StreamSessionRecord, 'user_id' | 'version'>;

export interface WindowStatsRow {
  liveMinutes: number;
  peakViewers: number;
  avgViewers: number | null;
  viewerMinutes: number;
  chatMessages: number;
  engagementRate: number | null;
  followerDelta: number;
}

export interface ChannelTotalsRow extends WindowStatsRow {
  platform: string;
  channel_id: string;
  lastFollowers: number | null;
}

export interface ConcurrencyRow {
  peakConcurrent: number | null;
  avgConcurrent: number | null;
}

export interface ChannelKey {
  platform: string;
  channelId: string;
}

const keyParams = (channels: ChannelKey[]) => ({
  platforms: [...new Set(channels.map((c) => c.platform))],
  channelIds: [...new Set(channels.map((c) => c.channelId))],
  keys: channels.map((c) => `${c.platform}:${c.channelId}`),
});

const rangeParams = (r: TimeRange) => ({ from: chInstant(r.fromMs), to: chInstant(r.toMs) });

/**
 * The series query as one SQL text with parameters: what the CSV/Parquet export wraps (ClickHouse writes
 * those files). Steps of whole hours (1h, 1d) read complete hours from metrics_1h_rollup and the rest from
 * metrics_1m: the hours after the channel's newest rollup hour (the open tail) and the partial hours at
 * the range's edges. Both sides yield the same parts (shared/clickhouse/rollups.ts), combined per bucket
 * by BUCKET_FROM_PARTS. The JSON route reads the same figures more cheaply with `readSeries` below.
 */
export function seriesQuery(c: ChannelKey, range: TimeRange, stepSeconds: number) {
  if (stepSeconds % 3600 !== 0) return windowSeriesQuery(c, range, stepSeconds);
  // Rollup hours lie inside [from, to); the part after the newest rollup hour comes from metrics_1m.
  const rollFrom = ceilHour(range.fromMs);
  const rollTo = Math.max(rollFrom, floorHour(range.toMs));
  return {
    query: `SELECT toStartOfInterval(c_bucket, toIntervalSecond({step:UInt32})) AS bucket, ${BUCKET_FROM_PARTS}
       FROM (
         SELECT bucket_start AS c_bucket, ${ROLLUP_PARTS} FROM (${ROLLUP_ROWS})
         UNION ALL
         SELECT toStartOfHour(window_start) AS c_bucket, ${WINDOW_PARTS}
         FROM (${TAIL_WINDOWS})
         GROUP BY c_bucket
       )
       GROUP BY bucket ORDER BY bucket`,
    params: { platform: c.platform, channelId: c.channelId, step: stepSeconds, rollFrom: chDateTime(rollFrom), rollTo: chDateTime(rollTo), ...rangeParams(range) },
  };
}

/** metrics_1h_rollup of one channel, hours in [rollFrom, rollTo), one row per hour: the highest version. */
const ROLLUP_ROWS = `
  SELECT * FROM metrics_1h_rollup
  WHERE platform = {platform:String} AND channel_id = {channelId:String}
    AND bucket_start >= {rollFrom:DateTime('UTC')} AND bucket_start < {rollTo:DateTime('UTC')}
  ORDER BY bucket_start, version DESC
  LIMIT 1 BY bucket_start`;

/** metrics_1m of one channel: windows in [from, to) before {headTo} or from {tailFrom} on, de-duplicated (plain rows, WINDOW_COLUMNS). */
const EDGE_WINDOWS = `
  SELECT ${WINDOW_COLUMNS} FROM metrics_1m
  WHERE platform = {platform:String} AND channel_id = {channelId:String}
    AND window_start >= {from:DateTime64(3, 'UTC')} AND window_start < {to:DateTime64(3, 'UTC')}
    AND (window_start < {headTo:DateTime('UTC')} OR window_start >= {tailFrom:DateTime('UTC')})
  ORDER BY window_start, version DESC
  LIMIT 1 BY window_start`;

/** The same windows as hour parts (aggregated in ClickHouse). */
const MINUTE_PARTS = `
  SELECT 'm' AS c_src, toStartOfHour(window_start) AS c_bucket, toStartOfInterval(c_bucket, toIntervalSecond({step:UInt32})) AS c_step,
         ${WINDOW_PARTS}
  FROM (${EDGE_WINDOWS})
  GROUP BY c_bucket`;

/** metrics_1h_rollup of one channel, hours in [lo1, hi1) ∪ [lo2, hi2), one row per hour (the highest version): its hour (epoch s), then the parts. */
const SEALED_HOURS = `
  SELECT toUnixTimestamp(bucket_start) AS c_t, ${PART_NAMES.join(', ')} FROM metrics_1h_rollup
  WHERE platform = {platform:String} AND channel_id = {channelId:String}
    AND ((bucket_start >= {lo1:DateTime('UTC')} AND bucket_start < {hi1:DateTime('UTC')})
      OR (bucket_start >= {lo2:DateTime('UTC')} AND bucket_start < {hi2:DateTime('UTC')}))
  ORDER BY bucket_start, version DESC
  LIMIT 1 BY bucket_start`;

/**
 * How much of the tail `readSeries` reads from metrics_1m before it knows where the rollup ends: the
 * last two whole hours of the range (the processors seal an hour once a window of the next one closed,
 * minutes after the hour). A rollup that ends earlier costs a second query for the hours in between.
 */
const SPECULATIVE_TAIL_MS = 2 * HOUR_MS;

/** A row of seriesPartsQuery (JSONCompactEachRow): source ('r' rollup, 'm' metrics_1m), hour, step bucket, then the parts. */
type SeriesPartRow = [src: 'r' | 'm', hour: string, step: string, ...parts: Array<number | string | null>];
const PARTS_AT = 3;

/**
 * The 1h/1d series as `readSeries` reads it: ONE query of parts, no bucket figures — the rollup's hours
 * in [rollFrom, rollTo) as stored (merged per step in ClickHouse when the step is longer than an hour),
 * each with its newest hour `c_bucket`, and the hour parts of metrics_1m's windows of the range's partial
 * first hour and of its last SPECULATIVE_TAIL_MS; the caller combines them (shared/clickhouse/rollups.ts
 * `bucketFromParts`). Few expressions, no scalar subquery, no aggregation over the union: on chDB the
 * analysis and planning of the one-SQL form above cost several times its execution (api/README.md).
 */
export function seriesPartsQuery(c: ChannelKey, range: TimeRange, stepSeconds: number) {
  const rollFrom = ceilHour(range.fromMs);
  const rollTo = Math.max(rollFrom, floorHour(range.toMs));
  const tailFrom = Math.max(rollFrom, rollTo - SPECULATIVE_TAIL_MS);
  const rollup = stepSeconds === 3600
    ? `SELECT 'r' AS c_src, bucket_start AS c_bucket, bucket_start AS c_step, ${ROLLUP_PARTS} FROM (${ROLLUP_ROWS})`
    : `SELECT 'r' AS c_src, max(bucket_start) AS c_bucket, toStartOfInterval(bucket_start, toIntervalSecond({step:UInt32})) AS c_step, ${ROLLUP_MERGED_PARTS}
       FROM (${ROLLUP_ROWS}) GROUP BY c_step`;
  return {
    query: `${rollup}\n  UNION ALL ${MINUTE_PARTS}`,
    params: {
      platform: c.platform, channelId: c.channelId, step: stepSeconds, rollFrom: chDateTime(rollFrom), rollTo: chDateTime(rollTo),
      headTo: chDateTime(rollFrom), tailFrom: chDateTime(tailFrom), ...rangeParams(range),
    },
    rollFrom, rollTo, tailFrom,
  };
}

/** Where a 1h/1d miss took its minute rows from (api/README.md "Open tail"): the reports in Redis, metrics_1m, or none needed (all kept). */
const minuteRowsRead = () =>
  getOrCreate('spacehub_api_series_minute_reads_total', () => new Counter({
    name: 'spacehub_api_series_minute_reads_total', help: "Series misses with sealed hours kept, by where their minute rows came from: open_tail (Redis), clickhouse, kept", labelNames: ['source'], registers: [metricsRegistry],
  }));

/** The channel's open tail as its writers reported it (shared/redis/data-version.ts `readOpenTail`; null: none). */
export type ReadOpenTail = (c: ChannelKey) => Promise<OpenTail | null>;

/** Runs a query in JSONCompactEachRow (the repository's client, or the bench's own). */
export type RunCompactQuery = <T extends unknown[]>(name: string, query: string, params: Record<string, unknown>) => Promise<T[]>;

/**
 * The 1h/1d series with the figures of `seriesQuery`, read as parts (seriesPartsQuery) and combined
 * here. Where the rollup ends is seen in its rows: S = the end of its newest hour in [rollFrom, rollTo).
 * metrics_1m answers the hours before rollFrom (the partial first hour) and from min(rollTo, S) on; if
 * the rollup ends before the speculative tail, one more query reads the hours in between. (A rollup row
 * after rollTo would only say that the hours in [S, rollTo) are complete without windows: metrics_1m
 * has none there either, so reading them from it gives the same.)
 */
export async function readSeries(run: RunCompactQuery, c: ChannelKey, range: TimeRange, stepSeconds: number): Promise<SeriesRow[]> {
  const q = seriesPartsQuery(c, range, stepSeconds);
  const rows = await run<SeriesPartRow>('api.series-parts', q.query, q.params);
  let newest = '';
  for (const r of rows) if (r[0] === 'r' && r[1] > newest) newest = r[1];
  const sealedEnd = newest === '' ? q.rollFrom : Math.min(q.rollTo, parseChDateTime(newest) + HOUR_MS);
  if (sealedEnd < q.tailFrom) {
    // Every window in [max(from, S), tailFrom): the range's own parameters, with both edges of the gap as `headTo`/`tailFrom`.
    const gap = rangeParams({ fromMs: Math.max(range.fromMs, sealedEnd), toMs: q.tailFrom });
    rows.push(...(await run<SeriesPartRow>('api.series-gap', MINUTE_PARTS, { ...q.params, ...gap, headTo: chDateTime(q.tailFrom), tailFrom: chDateTime(q.tailFrom) })));
  }
  const head = chDateTime(q.rollFrom);
  const tail = chDateTime(sealedEnd);
  const buckets = new Map<string, PartRow[]>();
  for (const r of rows) {
    // A minute part of an hour the rollup holds (speculatively read) is dropped; gap parts lie in [S, tailFrom).
    if (r[0] === 'm' && r[1] >= head && r[1] < tail) continue;
    const b = buckets.get(r[2]);
    if (b) b.push(r);
    else buckets.set(r[2], [r]);
  }
  return [...buckets.keys()].sort().map((bucket) => ({ bucket, ...bucketFromParts(buckets.get(bucket)!, PARTS_AT) }));
}

/**
 * The 1h/1d series with the figures of `seriesQuery`, reading from ClickHouse only what is not sealed
 * or not yet kept (api/README.md "Sealed hours"). `sealed` (read from Redis before this, with the data
 * version) says where the channel's sealed rollup ends (S) and under which version; the channel's
 * sealed hours are kept in `cache` while that version holds. Hours [rollFrom, min(S, rollTo)) come from
 * the kept rollup rows — read only where the entry does not reach yet (usually nothing; once an hour
 * the hour sealed since) — and every window of the range before rollFrom (the partial first hour) or
 * from min(S, rollTo) on (the open tail, the partial last hour) from metrics_1m, as plain de-duplicated
 * rows made into parts here (`windowPart`, rendered from the same table as the rollup writer's SQL).
 * The two reads run side by side. If S is behind ClickHouse (a writer's report lost), the hours in
 * between come from metrics_1m: the same figures. With `openTail`, windows at or after the sealed end
 * come from the writers' reports instead, when those go with this sealed state and are complete from
 * the first window needed (api/README.md "Open tail"): a live channel's miss then reads no ClickHouse.
 */
export async function readSeriesSealed(
  run: RunCompactQuery, c: ChannelKey, range: TimeRange, stepSeconds: number, sealed: SealedState, cache: SealedHours, openTail?: ReadOpenTail,
): Promise<SeriesRow[]> {
  const key = `${c.platform}:${c.channelId}`;
  const plan = minutePlan(range, sealed, cache, key);
  const { rollFrom, sealedTo } = plan;
  const readHours = (name: string) => async (intervals: Array<[number, number]>) => {
    const [a = [0, 0], b = [0, 0]] = intervals;
    const rows = await run<Array<number | string | null>>(name, SEALED_HOURS, {
      platform: c.platform, channelId: c.channelId, lo1: chDateTime(a[0]), hi1: chDateTime(a[1]), lo2: chDateTime(b[0]), hi2: chDateTime(b[1]),
    });
    return rows.map((r) => ({ hour: (r[0] as number) * 1000, parts: r.slice(1) }));
  };
  const [read, entry] = await Promise.all([
    readMinutes(plan, run, c, sealed, cache, openTail),
    sealedTo > rollFrom ? cache.cover(key, sealed.version, rollFrom, sealedTo, readHours('api.series-sealed-hours')) : undefined,
  ]);
  // The sealed edge hours: their kept rows, or the rows just read of them (then kept).
  let windows: readonly PartRow[] = read;
  let foot: readonly PartRow[] = [];
  if (plan.footSealed) {
    const edge = takeEdgeHour(windows, plan.rollTo, plan.keptFoot, (rows) => entry && cache.keepWindows(entry, plan.rollTo, rows));
    windows = edge.rest;
    foot = edge.hour.filter((w) => parseChDateTime(w[0] as string) < range.toMs);
  }
  if (plan.headSealed) {
    const edge = takeEdgeHour(windows, plan.headHour, plan.keptHead, (rows) => entry && cache.keepWindows(entry, plan.headHour, rows));
    const fromText = chDateTime(range.fromMs);
    windows = [...edge.hour.filter((w) => (w[0] as string) >= fromText), ...edge.rest];
  }
  if (foot.length) windows = [...windows, ...foot];
  if (entry) readAhead(run, c, key, sealed, cache, entry, plan, readHours(READ_AHEAD_QUERY));
  return bucketsOf(entry, windows, rollFrom, sealedTo, stepSeconds);
}

/** Query name of the read-ahead's minute rows (off the request path). */
export const READ_AHEAD_QUERY = 'api.series-read-ahead';

/**
 * A chart panned a little at a time (a range ending in the past moved back, or on) crosses into a new
 * partial edge hour every hour of movement: that hour's minute rows are read whole (takeEdgeHour), and
 * the sealed hours it leaves or enters extend the entry. When an edge hour's neighbour is kept on one
 * side and not on the other, the range is moving that way: the next hour's minute rows, and the one
 * sealed hour the entry will then lack, are read now, off the request path, so the crossing finds both
 * kept. Sealed hours only (their rows are fixed by the sealed version); concurrent misses share the
 * reads; a failed read costs nothing but the crossing's own read later.
 */
function readAhead(run: RunCompactQuery, c: ChannelKey, key: string, sealed: SealedState, cache: SealedHours, entry: SealedEntry, plan: MinutePlan, readHours: ReadSealedHours): void {
  const kept = (hour: number) => cache.keptWindows(key, sealed.version, hour) !== undefined;
  const ahead: number[] = [];
  let lo = entry.lo;
  let end = entry.end;
  for (const [edge, head] of [[plan.headSealed ? plan.headHour : null, true], [plan.footSealed ? plan.rollTo : null, false]] as const) {
    if (edge === null) continue;
    const back = kept(edge + HOUR_MS) && !kept(edge - HOUR_MS);
    const next = back ? edge - HOUR_MS : kept(edge - HOUR_MS) && !kept(edge + HOUR_MS) ? edge + HOUR_MS : null;
    if (next === null || next + HOUR_MS > sealed.endMs) continue;
    if (!ahead.includes(next)) ahead.push(next);
    // At the crossing a head moved back needs the whole hour it leaves (now its partial first hour), a foot moved on the one it leaves.
    if (head && back) lo = Math.min(lo, edge);
    if (!head && !back) end = Math.max(end, next);
  }
  if (ahead.length === 0) return;
  ahead.sort((x, y) => x - y);
  const first = ahead[0]!;
  const last = ahead[ahead.length - 1]!;
  // One read of both hours: [first, first + 1 h) ∪ [last, last + 1 h).
  const params = {
    platform: c.platform, channelId: c.channelId, ...rangeParams({ fromMs: first, toMs: last + HOUR_MS }),
    headTo: chDateTime(first + HOUR_MS), tailFrom: chDateTime(last),
  };
  const minutes = cache
    .shared(`${key}|${sealed.version}|ahead|${first}|${last}`, () => run<Array<number | string | null>>(READ_AHEAD_QUERY, EDGE_WINDOWS, params))
    .then((rows) => {
      for (const hour of ahead) cache.keepWindows(entry, hour, takeEdgeHour(rows, hour, undefined, () => undefined).hour as PartRow[]);
    });
  const hours = lo < entry.lo || end > entry.end ? cache.cover(key, sealed.version, lo, end, readHours) : Promise.resolve();
  void Promise.all([minutes, hours]).catch(() => undefined);
}

/** Which minute rows a miss of readSeriesSealed needs, and which of them are kept already. */
interface MinutePlan {
  rollFrom: number;
  rollTo: number;
  /** min(S, rollTo), at least rollFrom: the rollup answers [rollFrom, sealedTo). */
  sealedTo: number;
  /** The partial first hour, when sealed; its minute rows, when kept. */
  headHour: number;
  headSealed: boolean;
  keptHead: readonly PartRow[] | undefined;
  /** The partial last hour of a range that ends in the past (rollTo), when sealed; its rows, when kept. */
  footSealed: boolean;
  keptFoot: readonly PartRow[] | undefined;
  /** The minutes to read: [readFrom, headTo) ∪ [sealedTo, readTo) (an edge hour not kept is read whole). */
  readFrom: number;
  headTo: number;
  readTo: number;
}

function minutePlan(range: TimeRange, sealed: SealedState, cache: SealedHours, key: string): MinutePlan {
  const rollFrom = ceilHour(range.fromMs);
  const rollTo = Math.max(rollFrom, floorHour(range.toMs));
  const sealedTo = Math.min(Math.max(sealed.endMs, rollFrom), rollTo);
  const headHour = floorHour(range.fromMs);
  const headSealed = range.fromMs < rollFrom && sealedTo > rollFrom;
  const keptHead = headSealed ? cache.keptWindows(key, sealed.version, headHour) : undefined;
  const footSealed = range.toMs > rollTo && sealed.endMs >= rollTo + HOUR_MS;
  const keptFoot = footSealed ? cache.keptWindows(key, sealed.version, rollTo) : undefined;
  const readFrom = keptHead ? rollFrom : headSealed ? headHour : range.fromMs;
  return {
    rollFrom, rollTo, sealedTo, headHour, headSealed, keptHead, footSealed, keptFoot, readFrom,
    headTo: keptHead ? readFrom : rollFrom,
    readTo: keptFoot ? sealedTo : footSealed ? rollTo + HOUR_MS : range.toMs,
  };
}

/**
 * The plan's minute rows: none (all kept); from the open tail the writers reported, when it goes with
 * this sealed state and reaches back to the first minute needed; else from metrics_1m — shared by
 * concurrent misses when only sealed minutes are read (fixed by the sealed version).
 */
async function readMinutes(p: MinutePlan, run: RunCompactQuery, c: ChannelKey, sealed: SealedState, cache: SealedHours, openTail?: ReadOpenTail): Promise<readonly PartRow[]> {
  const { readFrom, headTo, sealedTo, readTo } = p;
  if (headTo <= readFrom && readTo <= sealedTo) {
    minuteRowsRead().inc({ source: 'kept' });
    return [];
  }
  const lowest = headTo > readFrom ? readFrom : sealedTo;
  const tail = openTail && lowest >= sealed.endMs ? await openTail(c) : null;
  if (tail && tail.endMs === sealed.endMs && tail.sealedVersion === sealed.version && lowest >= tail.fromMs) {
    minuteRowsRead().inc({ source: 'open_tail' });
    return tail.windows.filter((w) => w.windowStart < readTo && (w.windowStart >= sealedTo || (w.windowStart >= readFrom && w.windowStart < headTo))).map((w) => w.columns);
  }
  minuteRowsRead().inc({ source: 'clickhouse' });
  const read = () => run<Array<number | string | null>>('api.series-edge-windows', EDGE_WINDOWS, {
    platform: c.platform, channelId: c.channelId, ...rangeParams({ fromMs: readFrom, toMs: readTo }), headTo: chDateTime(headTo), tailFrom: chDateTime(sealedTo),
  });
  return readTo <= sealed.endMs ? cache.shared(`${c.platform}:${c.channelId}|${sealed.version}|${readFrom}|${headTo}|${sealedTo}|${readTo}`, read) : read();
}

/** A sealed edge hour's rows: the kept ones (and `rows` as they are), or those of `rows` in the hour, taken out of them and kept. */
function takeEdgeHour(rows: readonly PartRow[], hour: number, kept: readonly PartRow[] | undefined, keep: (rows: PartRow[]) => void): { hour: readonly PartRow[]; rest: readonly PartRow[] } {
  if (kept) return { hour: kept, rest: rows };
  const from = chDateTime(hour);
  const to = chDateTime(hour + HOUR_MS);
  const inHour = rows.filter((w) => (w[0] as string) >= from && (w[0] as string) < to);
  keep(inHour);
  return { hour: inHour, rest: rows.filter((w) => (w[0] as string) < from || (w[0] as string) >= to) };
}

/**
 * The series' buckets from the entry's sealed hours in [rollFrom, sealedTo) and the minute rows.
 * Step buckets wholly inside [rollFrom, sealedTo) are the same for every such request (no minute part
 * falls in them): their merged parts and figures are kept with the entry, so a miss builds only its
 * edge buckets.
 */
function bucketsOf(entry: SealedEntry | undefined, windows: readonly PartRow[], rollFrom: number, sealedTo: number, stepSeconds: number): SeriesRow[] {
  const stepMs = stepSeconds * 1000;
  const bucketOf = (ms: number) => Math.floor(ms / stepMs) * stepMs;
  const buckets = new Map<number, PartRow[]>();
  const add = (b: number, part: PartRow) => {
    const list = buckets.get(b);
    if (list) list.push(part);
    else buckets.set(b, [part]);
  };
  const whole = new Map<number, SeriesRow>();
  if (entry) {
    const first = lowerBound(entry.hours, rollFrom);
    const last = lowerBound(entry.hours, sealedTo);
    for (let i = first; i < last; ) {
      const b = bucketOf(entry.hours[i]!);
      let j = i + 1;
      while (j < last && entry.hours[j]! < b + stepMs) j++;
      if (b >= rollFrom && b + stepMs <= sealedTo) {
        const memo = `${stepSeconds}:${b}`;
        let row = entry.figures.get(memo) as SeriesRow | undefined;
        if (!row) {
          let part = entry.merged.get(memo);
          if (!part) entry.merged.set(memo, (part = j - i === 1 ? entry.rows[i]! : mergeParts(entry.rows.slice(i, j))));
          entry.figures.set(memo, (row = { bucket: chDateTime(b), ...bucketFromParts([part]) }));
        }
        whole.set(b, row);
      } else for (let k = i; k < j; k++) add(b, entry.rows[k]!);
      i = j;
    }
  }
  for (const w of windows) add(bucketOf(parseChDateTime(w[0] as string)), windowPart(w));
  for (const [b, parts] of buckets) whole.set(b, { bucket: chDateTime(b), ...bucketFromParts(parts) });
  return [...whole.keys()].sort((x, y) => x - y).map((b) => whole.get(b)!);
}

/** The series straight from metrics_1m (every step; the 1m series, and the "before" of bench/api.bench.ts). */
export function windowSeriesQuery(c: ChannelKey, range: TimeRange, stepSeconds: number) {
  return {
    query: `SELECT toStartOfInterval(window_start, toIntervalSecond({step:UInt32})) AS bucket, ${BUCKET_AGGREGATES}
       FROM (${CHANNEL_WINDOWS})
       GROUP BY bucket ORDER BY bucket`,
    params: { platform: c.platform, channelId: c.channelId, step: stepSeconds, ...rangeParams(range) },
  };
}

/** The sessions query as text and parameters (also what the CSV/Parquet export wraps). */
export function sessionsQuery(c: ChannelKey, range: TimeRange, limit: number) {
  return {
    query: `SELECT platform, channel_id, stream_id, started_at, ended_at, duration_seconds, peak_viewers, avg_viewers,
              hours_watched, followers_gained, paid_subscribers_gained, chat_messages, title, category, status
       FROM (${CHANNELS_SESSIONS})
       WHERE started_at < {to:DateTime64(3, 'UTC')} AND (ended_at IS NULL OR ended_at >= {from:DateTime64(3, 'UTC')})
       ORDER BY started_at DESC, stream_id
       LIMIT {limit:UInt32}`,
    params: { ...keyParams([c]), ...rangeParams(range), limit },
  };
}

export interface AlertRow {
  alertId: string;
  type: string;
  platform: string;
  channelId: string;
  occurredAtMs: number;
  severity: string;
  message: string;
  details: string;
}

export class MetricsRepository {
  /**
   * `sealed`: the channels' sealed hours kept in this process (sealed-hours.ts); without it every 1h/1d read is a full one.
   * `openTail`: the writers' reports of the minutes after the sealed end (Redis); without it a miss reads them from metrics_1m.
   */
  constructor(
    private readonly ch: ClickHouseRepository,
    private readonly o: { sealed?: SealedHours; openTail?: ReadOpenTail } = {},
  ) {}

  /**
   * Alerts in a range, newest first, replayed alerts (same id) once: those of the given channels (a
   * user's channels, whatever user id the rows carry: several users may own a channel), except the
   * connection-scoped types, which count only when they name `userId` (their connection's user).
   */
  alerts(userId: string, channels: ChannelKey[], range: TimeRange, limit: number): Promise<AlertRow[]> {
    return this.ch.query<AlertRow>(
      'api.alerts',
      `SELECT alert_id AS alertId, type, platform, channel_id AS channelId,
              toUnixTimestamp64Milli(occurred_at) AS occurredAtMs, severity, message, details
       FROM alerts
       WHERE occurred_at >= {from:DateTime64(3, 'UTC')} AND occurred_at < {to:DateTime64(3, 'UTC')}
         AND if(has({userTypes:Array(String)}, type), user_id = {userId:String}, has({keys:Array(String)}, concat(platform, ':', channel_id)))
       ORDER BY occurred_at DESC, alert_id, version DESC
       LIMIT 1 BY alert_id
       LIMIT {limit:UInt32}`,
      { userId, keys: channels.map((c) => `${c.platform}:${c.channelId}`), userTypes: [...CONNECTION_ALERT_TYPES], ...rangeParams(range), limit },
    );
  }

  /**
   * Buckets of `stepSeconds` (60, 3600, 86400; aligned to UTC) that have at least one window. `versions`:
   * the channel's versions read before this call; with a known sealed state (and the sealed hours kept
   * here) the 1h/1d series reads only what is not sealed or not yet kept (readSeriesSealed), else all of it.
   */
  series(c: ChannelKey, range: TimeRange, stepSeconds: number, versions?: ChannelVersions): Promise<SeriesRow[]> {
    const run: RunCompactQuery = (name, query, params) => this.ch.queryCompact(name, query, params);
    const sealed = this.o.sealed;
    if (stepSeconds % 3600 === 0 && versions?.sealed && sealed?.enabled) return readSeriesSealed(run, c, range, stepSeconds, versions.sealed, sealed, this.o.openTail);
    if (stepSeconds % 3600 === 0) return readSeries(run, c, range, stepSeconds);
    const q = windowSeriesQuery(c, range, stepSeconds);
    return this.ch.query<SeriesRow>('api.series', q.query, q.params);
  }

  /** The newest window and follower figures over the week up to `nowMs`. */
  async latestState(c: ChannelKey, nowMs: number): Promise<LatestStateRow> {
    const rows = await this.ch.query<LatestStateRow>(
      'api.latest-state',
      `SELECT count() AS windows,
              if(windows = 0, NULL, max(window_start)) AS lastWindowStart,
              argMax(live, window_start) AS lastLive,
              argMax(avg_viewers, window_start) AS lastAvgViewers,
              argMax(engagement_rate, window_start) AS lastEngagementRate,
              argMaxIf(followers, window_start, isNotNull(followers)) AS lastFollowers,
              sumIf(follower_delta, window_start >= {since24h:DateTime64(3, 'UTC')}) AS growth24h,
              sum(follower_delta) AS growth7d
       FROM (${CHANNEL_WINDOWS})`,
      { platform: c.platform, channelId: c.channelId, since24h: chInstant(nowMs - 86400_000), ...rangeParams({ fromMs: nowMs - 7 * 86400_000, toMs: nowMs + 1 }) },
    );
    return rows[0]!;
  }

  /** Aggregates of one channel's windows in a range (a session's span). */
  async windowStats(c: ChannelKey, range: TimeRange): Promise<WindowStatsRow> {
    const rows = await this.ch.query<WindowStatsRow>(
      'api.window-stats',
      `SELECT countIf(live = 1) AS liveMinutes, max(peak_viewers) AS peakViewers,
              if(countIf(samples > 0) = 0, NULL, avgIf(avg_viewers, samples > 0)) AS avgViewers,
              sum(viewer_minutes) AS viewerMinutes, sum(chat_messages) AS chatMessages,
              if(countIf(samples > 0) = 0, NULL, avgIf(engagement_rate, samples > 0)) AS engagementRate,
              sum(follower_delta) AS followerDelta
       FROM (${CHANNEL_WINDOWS})`,
      { platform: c.platform, channelId: c.channelId, ...rangeParams(range) },
    );
    return rows[0]!;
  }

  /** Sessions overlapping [from, to), newest first. */
  sessions(c: ChannelKey, range: TimeRange, limit: number): Promise<SessionRow[]> {
    const q = sessionsQuery(c, range, limit);
    return this.ch.query<SessionRow>('api.sessions', q.query, q.params);
  }

  /** One stream of a channel, in its newest version; null when the channel has no such stream. */
  async session(c: ChannelKey, streamId: string): Promise<SessionRow | null> {
    const rows = await this.ch.query<SessionRow>(
      'api.session',
      `SELECT platform, channel_id, stream_id, started_at, ended_at, duration_seconds, peak_viewers, avg_viewers,
              hours_watched, followers_gained, paid_subscribers_gained, chat_messages, title, category, status
       FROM (${CHANNELS_SESSIONS})
       WHERE stream_id = {streamId:String}
       LIMIT 1`,
      { ...keyParams([c]), streamId },
    );
    return rows[0] ?? null;
  }

  async latestSession(c: ChannelKey): Promise<SessionRow | null> {
    const rows = await this.ch.query<SessionRow>(
      'api.latest-session',
      `SELECT platform, channel_id, stream_id, started_at, ended_at, duration_seconds, peak_viewers, avg_viewers,
              hours_watched, followers_gained, paid_subscribers_gained, chat_messages, title, category, status
       FROM (${CHANNELS_SESSIONS})
       ORDER BY started_at DESC LIMIT 1`,
      keyParams([c]),
    );
    return rows[0] ?? null;
  }

  /** Per-channel totals over a range, for the cross-platform summary. */
  channelTotals(channels: ChannelKey[], range: TimeRange): Promise<ChannelTotalsRow[]> {
    if (channels.length === 0) return Promise.resolve([]);
    return this.ch.query<ChannelTotalsRow>(
      'api.channel-totals',
      `SELECT platform, channel_id,
              countIf(live = 1) AS liveMinutes, max(peak_viewers) AS peakViewers,
              if(countIf(samples > 0) = 0, NULL, avgIf(avg_viewers, samples > 0)) AS avgViewers,
              sum(viewer_minutes) AS viewerMinutes, sum(chat_messages) AS chatMessages,
              if(countIf(samples > 0) = 0, NULL, avgIf(engagement_rate, samples > 0)) AS engagementRate,
              sum(follower_delta) AS followerDelta,
              argMaxIf(followers, window_start, isNotNull(followers)) AS lastFollowers
       FROM (${CHANNELS_WINDOWS})
       GROUP BY platform, channel_id`,
      { ...keyParams(channels), ...rangeParams(range) },
    );
  }

  /**
   * Cross-platform concurrency: per minute, the sum over the creator's live channels; then the peak
   * and the mean over minutes in which at least one channel was live.
   */
  async concurrency(channels: ChannelKey[], range: TimeRange): Promise<ConcurrencyRow> {
    if (channels.length === 0) return { peakConcurrent: null, avgConcurrent: null };
    const rows = await this.ch.query<ConcurrencyRow>(
      'api.concurrency',
      `SELECT if(count() = 0, NULL, max(totalPeak)) AS peakConcurrent, if(count() = 0, NULL, avg(totalAvg)) AS avgConcurrent
       FROM (
         SELECT window_start, sumIf(peak_viewers, live = 1) AS totalPeak, sumIf(avg_viewers, live = 1) AS totalAvg
         FROM (${CHANNELS_WINDOWS})
         GROUP BY window_start
         HAVING countIf(live = 1) > 0
       )`,
      { ...keyParams(channels), ...rangeParams(range) },
    );
    return rows[0]!;
  }

  /** Sessions per channel overlapping the range. */
  sessionCounts(channels: ChannelKey[], range: TimeRange): Promise<Array<{ platform: string; channel_id: string; sessions: number }>> {
    if (channels.length === 0) return Promise.resolve([]);
    return this.ch.query(
      'api.session-counts',
      `SELECT platform, channel_id, count() AS sessions
       FROM (${CHANNELS_SESSIONS})
       WHERE started_at < {to:DateTime64(3, 'UTC')} AND (ended_at IS NULL OR ended_at >= {from:DateTime64(3, 'UTC')})
       GROUP BY platform, channel_id`,
      { ...keyParams(channels), ...rangeParams(range) },
    );
  }
}
