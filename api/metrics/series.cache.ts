import type { ChannelVersions, DataVersionChannel, DataVersions } from '../../shared/redis/data-version';
import type { TimeRange } from '../schemas/common.schemas';
import type { ChannelKey, SeriesRow } from './metrics.repository';
import { type PointsJson, pointsJsonOf } from './series.points';

/** What the service reads a series from: the repository itself, or this cache in front of it. */
export interface SeriesSource {
  /** `versions`: the channel's data and sealed versions, when the caller already read them (in its one Redis round trip). */
  series(c: ChannelKey, range: TimeRange, stepSeconds: number, versions?: ChannelVersions): Promise<SeriesRow[]>;
  /** The same series' points as JSON (series.points.ts), when the source keeps them serialized. */
  seriesJson?(c: ChannelKey, range: TimeRange, stepSeconds: number, versions?: ChannelVersions): Promise<PointsJson>;
}

export interface SeriesCacheOptions {
  /** Bound on the rows held over all entries (each entry counts its rows + 1) (a result larger than this is not cached); 0 disables the cache. */
  maxRows: number;
  /** Backstop: an entry older than this is recomputed even if the version is unchanged (a Redis reset). */
  maxAgeMs: number;
  clock?: () => number;
}

const MINUTE_MS = 60_000;
const ceilMinute = (ms: number) => Math.ceil(ms / MINUTE_MS) * MINUTE_MS;

/**
 * The range a series is computed and cached for. metrics_1m holds 1-minute windows (window_start on
 * the minute) and the series takes those with `from ≤ window_start < to`, so rounding both ends up to
 * the minute selects exactly the same windows: `to = now` (and `from = now − 30 d`) give one key per
 * minute instead of one per millisecond, with the same figures. The open minute is not in metrics_1m
 * (a window is written when it closes); when it closes, its flush bumps the channel's version.
 */
export const cacheRange = (r: TimeRange): TimeRange => ({ fromMs: ceilMinute(r.fromMs), toMs: ceilMinute(r.toMs) });

/** An entry's share of the bound: its rows, + 1 so that empty results count too. */
const cost = (e: Entry) => e.rows.length + 1;

interface Entry {
  version: string;
  rows: SeriesRow[];
  at: number;
  /** The points' JSON, made on the first request that needs it and kept with the rows. */
  json?: PointsJson;
}

/**
 * Series results, never stale (api/README.md "Series cache"). Before each read the channel's data
 * version is read from Redis (one GET, shared/redis/data-version.ts); a cached result is served only
 * under the same version, else the source is queried and the result cached under the version read
 * *before* the query — a write that lands during the query bumps the version after it, so the next
 * read misses. Keys are user-independent (platform, channel, from, to, step): the route checks the
 * caller's access to the channel before it gets here, on every request.
 *
 * LRU over a Map (insertion order; a hit moves the entry to the end), bounded by the total row count.
 * Concurrent misses of one key under one version share one query. An entry also keeps its points'
 * JSON once a request asked for it (seriesJson), so a hit sends kept bytes (api/http/json-body.ts).
 */
export class SeriesCache implements SeriesSource {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, { version: string; entry: Promise<Entry> }>();
  private heldRows = 0;
  readonly stats = { hits: 0, misses: 0 };

  constructor(
    private readonly source: SeriesSource,
    private readonly versions: Pick<DataVersions, 'readVersions'>,
    private readonly o: SeriesCacheOptions,
  ) {}

  /** Entries and their cost (rows + 1 each, ≤ maxRows). */
  get size(): { entries: number; rows: number } {
    return { entries: this.entries.size, rows: this.heldRows };
  }

  async series(c: ChannelKey, range: TimeRange, stepSeconds: number, versions?: ChannelVersions): Promise<SeriesRow[]> {
    return (await this.entry(c, range, stepSeconds, versions)).rows;
  }

  /** The points' JSON of the same entry: serialized once per cached result, so a hit does no JSON work. */
  async seriesJson(c: ChannelKey, range: TimeRange, stepSeconds: number, versions?: ChannelVersions): Promise<PointsJson> {
    const e = await this.entry(c, range, stepSeconds, versions);
    return (e.json ??= pointsJsonOf(e.rows));
  }

  /**
   * The entry for the request, cached or computed. `known` is the channel's versions if the caller read
   * them already (before this call, so before the query, which is what makes the result safe to cache);
   * else both are read here in one round trip. The source gets them (its sealed hours: sealed-hours.ts).
   */
  private async entry(c: ChannelKey, range: TimeRange, stepSeconds: number, known?: ChannelVersions): Promise<Entry> {
    const r = cacheRange(range);
    if (this.o.maxRows <= 0) return { version: '', rows: await this.source.series(c, r, stepSeconds), at: 0 };
    const key = JSON.stringify([c.platform, c.channelId, r.fromMs, r.toMs, stepSeconds]);
    const channel: DataVersionChannel = { platform: c.platform, channelId: c.channelId };
    const versions = known ?? (await this.versions.readVersions(channel));
    const version = versions.data;
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.version === version && now - hit.at <= this.o.maxAgeMs) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      this.stats.hits++;
      return hit;
    }
    this.stats.misses++;
    const pending = this.loading.get(key);
    if (pending && pending.version === version) return pending.entry;
    const entry = this.source.series(c, r, stepSeconds, versions).then((rows): Entry => ({ version, rows, at: now }));
    this.loading.set(key, { version, entry });
    try {
      const result = await entry;
      this.put(key, result);
      return result;
    } finally {
      if (this.loading.get(key)?.entry === entry) this.loading.delete(key);
    }
  }

  private put(key: string, e: Entry): void {
    const old = this.entries.get(key);
    if (old) {
      // A newer version may already be there (a later request finished first): keep that one.
      if (Number(old.version) > Number(e.version)) return;
      this.entries.delete(key);
      this.heldRows -= cost(old);
    }
    if (cost(e) > this.o.maxRows) return;
    this.entries.set(key, e);
    this.heldRows += cost(e);
    for (const [k, v] of this.entries) {
      if (this.heldRows <= this.o.maxRows) break;
      this.entries.delete(k);
      this.heldRows -= cost(v);
    }
  }

  private now(): number {
    return (this.o.clock ?? Date.now)();
  }
}
