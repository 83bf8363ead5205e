/**
 * The category competition feature (issue 22.3): from `category_competition` samples (ingest's sampler,
 * or `spacehub backfill --competition`), how crowded a creator's category is at each UTC hour of the
 * week — its live channels, its viewers, and above all its **viewers per live channel**, what "best
 * time" tools rank hours by. A creator's audience in an hour rises and falls with it: a league's match
 * night brings many more channels to share the category's viewers; a quiet block leaves them to fewer.
 *
 * As of an instant, from the samples of the COMPETITION_LOOKBACK_DAYS before it only (no look-ahead):
 * per UTC hour of the week, the mean of log(viewers / live channels), as a deviation from its mean
 * over the slots sampled (0 = a typical hour of the category; unsampled
 * slots 0 too). The audience profile (profile.fit.ts) takes the viewers-per-channel index as one more
 * regressor, so both models — which start from the profile — use it. Without samples nothing changes:
 * no index, no regressor, the same numbers as before.
 */
import type { CompetitionSample } from '../shared/clickhouse/category-competition';
import { DAY_MS, hourOfWeek } from './time';

export const COMPETITION_LOOKBACK_DAYS = 28;

/** One category's samples, oldest first (only what the index needs). */
export type CompetitionSeries = ReadonlyArray<Pick<CompetitionSample, 'sampledAt' | 'liveChannels' | 'viewers' | 'complete'>>;

export interface CompetitionIndex {
  /** log(viewers per live channel) of each UTC hour of the week minus its mean over the sampled slots; 0 unsampled. */
  vpc: number[];
  /** Samples the index was computed from. */
  samples: number;
}

function lowerBound(xs: CompetitionSeries, t: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]!.sampledAt < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The index of a category as of `asOf`, from its samples in [asOf − lookback, asOf). Incomplete samples
 * (the directory's page cap stopped the count: live channels a lower bound) and empty directories are
 * left out. null when none is left.
 */
export function competitionIndexAsOf(series: CompetitionSeries, asOf: number, lookbackDays = COMPETITION_LOOKBACK_DAYS): CompetitionIndex | null {
  const vpcSum = new Array<number>(168).fill(0);
  const n = new Array<number>(168).fill(0);
  let samples = 0;
  for (let i = lowerBound(series, asOf - lookbackDays * DAY_MS); i < series.length; i++) {
    const s = series[i]!;
    if (s.sampledAt >= asOf) break;
    if (!s.complete || s.liveChannels < 1) continue;
    const how = hourOfWeek(s.sampledAt);
    vpcSum[how]! += Math.log((s.viewers + 1) / s.liveChannels);
    n[how]!++;
    samples++;
  }
  if (samples === 0) return null;
  const slotMean = (sum: number[]) => sum.map((x, how) => (n[how] ? x / n[how]! : NaN));
  const centred = (means: number[]) => {
    const seen = means.filter((x) => !Number.isNaN(x));
    const m = seen.reduce((a, b) => a + b, 0) / seen.length;
    return means.map((x) => (Number.isNaN(x) ? 0 : x - m));
  };
  return { vpc: centred(slotMean(vpcSum)), samples };
}

/** The index's viewers-per-channel value of the UTC hour containing `hourStart`. */
export const competitionAt = (index: CompetitionIndex, hourStart: number): number => index.vpc[hourOfWeek(hourStart)]!;

/** Samples grouped by category name, each oldest first: what ChannelHistory.competition holds. */
export function competitionByCategory(samples: ReadonlyArray<CompetitionSample>): Map<string, CompetitionSample[]> {
  const out = new Map<string, CompetitionSample[]>();
  for (const s of samples) {
    const list = out.get(s.category) ?? [];
    list.push(s);
    out.set(s.category, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.sampledAt - b.sampledAt);
  return out;
}
