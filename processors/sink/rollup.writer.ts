import type { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import { floorHour, HOUR_MS, resealHours, RollupChannel, sealedThrough } from '../../shared/clickhouse/rollups';
import type { ClosedWindow } from '../state/window.accumulator';

/**
 * Keeps metrics_1h_rollup up to date from the flush writer (processors/README.md, "Rollups"), after the
 * flush's windows are in metrics_1m. A channel's windows close in event-time order (the shard's
 * watermark), so once a window of hour H is closed every earlier hour of that channel is complete. Per
 * flush and channel the writer therefore recomputes the hours from where the channel's rollup ends —
 * or from the earliest hour this flush rewrote, if earlier (a replay) — up to the hour of its newest
 * window (that one too if it was sealed before), from metrics_1m. A recomputation from the same windows rewrites the same values, so replays,
 * crashes and rebalances are harmless; a crash before this ran only leaves the rollup short, and the
 * API reads everything after a channel's newest rollup hour from metrics_1m.
 *
 * `sealed` caches where each channel's rollup ends (read from ClickHouse on first sight). Being behind
 * the truth only recomputes more hours than needed, so the cache is never invalidated.
 *
 * The flush writer then bumps the channels' versions with the same windows (shared/redis/data-version.ts
 * `bump`), which takes this writer's rule: every hour before the hour of a channel's newest window is
 * sealed now, and a window in an hour before the previous end is a reseal (the API's kept sealed hours
 * of that channel are read again). Change one, change the other.
 */
export class RollupWriter {
  private readonly sealed = new Map<string, number>();

  constructor(private readonly repo: ClickHouseRepository) {}

  async afterWindows(windows: readonly ClosedWindow[]): Promise<void> {
    if (windows.length === 0) return;
    const span = new Map<string, { c: RollupChannel; min: number; max: number }>();
    for (const w of windows) {
      const k = `${w.platform}:${w.channelId}`;
      const s = span.get(k);
      if (!s) span.set(k, { c: { platform: w.platform, channelId: w.channelId }, min: w.windowStart, max: w.windowStart });
      else if (w.windowStart < s.min) s.min = w.windowStart;
      else if (w.windowStart > s.max) s.max = w.windowStart;
    }
    const unknown = [...span].filter(([k]) => !this.sealed.has(k)).map(([, s]) => s.c);
    if (unknown.length) for (const [k, v] of await sealedThrough(this.repo, unknown)) this.sealed.set(k, v);
    const groups = new Map<string, { lo: number; hi: number; channels: RollupChannel[]; keys: string[] }>();
    for (const [k, s] of span) {
      const sealed = this.sealed.get(k) ?? 0;
      // A window rewritten into an hour sealed before (a replay, a backfill racing the live pipeline): that hour again too.
      const hi = sealed > floorHour(s.max) ? floorHour(s.max) + HOUR_MS : floorHour(s.max);
      const lo = Math.min(sealed, floorHour(s.min));
      if (lo >= hi) continue;
      const g = groups.get(`${lo}:${hi}`) ?? { lo, hi, channels: [], keys: [] };
      g.channels.push(s.c);
      g.keys.push(k);
      groups.set(`${lo}:${hi}`, g);
    }
    for (const g of groups.values()) {
      await resealHours(this.repo, g.channels, g.lo, g.hi);
      for (const k of g.keys) this.sealed.set(k, Math.max(this.sealed.get(k) ?? 0, g.hi));
    }
  }
}
