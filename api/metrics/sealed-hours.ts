import type { PartRow } from '../../shared/clickhouse/rollups';

export interface SealedHoursOptions {
  /** Bound on the rollup rows held over all channels (about 0.3 KB each); 0 disables it (every miss reads its sealed hours). */
  maxRows: number;
  /** Backstop: an entry older than this is read again even under the same sealed version. */
  maxAgeMs: number;
  clock?: () => number;
}

/**
 * One channel's sealed hours [lo, end) as read from metrics_1h_rollup: every rollup row of those hours
 * (hours without windows have none), ascending. Immutable: an extension makes a new entry.
 */
export interface SealedEntry {
  /** The channel's sealed version (shared/redis/data-version.ts) read before these rows were. */
  readonly version: string;
  readonly lo: number;
  readonly end: number;
  /** Each row's hour (epoch ms), ascending. */
  readonly hours: readonly number[];
  /** Each row's parts, in PART_NAMES order from index 0. */
  readonly rows: readonly PartRow[];
  readonly at: number;
  /** Merged parts of step buckets lying wholly inside [lo, end), by `${step}:${bucketMs}` (shared by the entry's extensions). */
  readonly merged: Map<string, PartRow>;
  /**
   * The de-duplicated metrics_1m rows of a few sealed hours, by hour (shared by the entry's extensions):
   * the hours of ranges' partial first hours and of the partial last hours of ranges that end in the past,
   * each read whole once, so the next misses read only the open tail.
   */
  readonly windows: Map<number, PartRow[]>;
  /** The figures of those step buckets (readSeriesSealed), by the same key: a miss builds only its edge buckets. */
  readonly figures: Map<string, unknown>;
}

/**
 * Sealed hours whose minute rows an entry keeps: the partial first and last hours of the ranges asked
 * lately, and those of a panned range (metrics.repository.ts readAhead) — two edges, each with the hour it
 * left (which tells the direction) and the one read ahead of it.
 */
const KEPT_WINDOW_HOURS = 6;

/** Reads the rollup rows of the given hour intervals [from, to), ascending by hour. */
export type ReadSealedHours = (intervals: Array<[number, number]>) => Promise<Array<{ hour: number; parts: PartRow }>>;

/**
 * The API's memory of each channel's sealed hours (api/README.md "Sealed hours"), valid while the
 * channel's sealed version in Redis is unchanged: the writers change it only when they rewrite an
 * hour before the sealed end (a reseal), not when they seal new hours after it, so a series miss reads
 * from ClickHouse only the hours sealed since the entry's end (usually none) and the minutes after the
 * sealed end — never the sealed history again. A restart, another version or an entry older than
 * `maxAgeMs` is a full read of the range's sealed hours.
 *
 * LRU by channel (a Map in use order), bounded by the rows held. Reads that extend one channel's entry
 * run one at a time (the next one usually finds what it needs), so concurrent misses of a channel whose
 * entry is empty read its history once.
 */
export class SealedHours {
  private readonly entries = new Map<string, SealedEntry>();
  private readonly filling = new Map<string, Promise<SealedEntry>>();
  private readonly flights = new Map<string, Promise<unknown>>();
  private heldRows = 0;
  readonly stats = { hits: 0, reads: 0, rowsRead: 0 };

  constructor(private readonly o: SealedHoursOptions) {}

  get size(): { channels: number; rows: number } {
    return { channels: this.entries.size, rows: this.heldRows };
  }

  get enabled(): boolean {
    return this.o.maxRows > 0;
  }

  /** An entry of `key` under `version` that holds every sealed hour of [lo, hi), reading what it lacks. */
  async cover(key: string, version: string, lo: number, hi: number, read: ReadSealedHours): Promise<SealedEntry> {
    for (;;) {
      const e = this.current(key, version);
      if (e && e.lo <= lo && e.end >= hi) {
        this.stats.hits++;
        return e;
      }
      const busy = this.filling.get(key);
      if (busy) {
        await busy.catch(() => undefined);
        continue;
      }
      const p = this.extend(key, version, e, lo, hi, read);
      this.filling.set(key, p);
      try {
        return await p;
      } finally {
        if (this.filling.get(key) === p) this.filling.delete(key);
      }
    }
  }

  /**
   * `read` run once for concurrent callers with the same `flight` key (which must name everything the
   * read depends on): for reads of sealed minutes only, whose rows the sealed version fixes.
   */
  shared<T>(flight: string, read: () => Promise<T>): Promise<T> {
    const busy = this.flights.get(flight);
    if (busy) return busy as Promise<T>;
    const p = read().finally(() => this.flights.delete(flight));
    this.flights.set(flight, p);
    return p;
  }

  /** Resolves when every read in flight now has settled (tests; a shutdown that wants the read-ahead finished). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.flights.values(), ...this.filling.values()]);
  }

  /** The kept minute rows of a sealed `hour` of `key` under `version`, if any (then the most recently used of the entry's). */
  keptWindows(key: string, version: string, hour: number): PartRow[] | undefined {
    const e = this.entries.get(key);
    if (!e || e.version !== version || this.now() - e.at > this.o.maxAgeMs) return undefined;
    const rows = e.windows.get(hour);
    if (rows) {
      e.windows.delete(hour);
      e.windows.set(hour, rows);
    }
    return rows;
  }

  /** Keeps the minute rows of a sealed hour with the entry (read under the entry's version), the least recently used kept hour out first. */
  keepWindows(e: SealedEntry, hour: number, rows: PartRow[]): void {
    e.windows.delete(hour);
    e.windows.set(hour, rows);
    for (const h of e.windows.keys()) {
      if (e.windows.size <= KEPT_WINDOW_HOURS) break;
      e.windows.delete(h);
    }
  }

  private current(key: string, version: string): SealedEntry | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.version !== version || this.now() - e.at > this.o.maxAgeMs) return undefined;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e;
  }

  /** The entry extended to [min(lo, e.lo), max(hi, e.end)) — contiguous, so it holds every row of its span. */
  private async extend(key: string, version: string, e: SealedEntry | undefined, lo: number, hi: number, read: ReadSealedHours): Promise<SealedEntry> {
    const intervals: Array<[number, number]> = [];
    if (!e) intervals.push([lo, hi]);
    else {
      if (lo < e.lo) intervals.push([lo, e.lo]);
      if (hi > e.end) intervals.push([e.end, hi]);
    }
    const got = await read(intervals);
    this.stats.reads++;
    this.stats.rowsRead += got.length;
    let next: SealedEntry;
    if (!e) next = { version, lo, end: hi, hours: got.map((r) => r.hour), rows: got.map((r) => r.parts), at: this.now(), merged: new Map(), windows: new Map(), figures: new Map() };
    else {
      const below = got.filter((r) => r.hour < e.lo);
      const above = got.filter((r) => r.hour >= e.end);
      next = {
        version, lo: Math.min(lo, e.lo), end: Math.max(hi, e.end), at: e.at, merged: e.merged, windows: e.windows, figures: e.figures,
        hours: [...below.map((r) => r.hour), ...e.hours, ...above.map((r) => r.hour)],
        rows: [...below.map((r) => r.parts), ...e.rows, ...above.map((r) => r.parts)],
      };
    }
    this.put(key, next);
    return next;
  }

  private put(key: string, e: SealedEntry): void {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.heldRows -= old.rows.length + 1;
    }
    if (e.rows.length + 1 > this.o.maxRows) return;
    this.entries.set(key, e);
    this.heldRows += e.rows.length + 1;
    for (const [k, v] of this.entries) {
      if (this.heldRows <= this.o.maxRows) break;
      this.entries.delete(k);
      this.heldRows -= v.rows.length + 1;
    }
  }

  private now(): number {
    return (this.o.clock ?? Date.now)();
  }
}

/** The index of the first of the ascending `xs` that is ≥ x. */
export function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
