import { gaussian, seededRandom } from './seeded-random';

/**
 * Ranking slots by the chance that each is the best one, not by its typical outcome.
 *
 * The hours of one stream share its audience's swing: the simulator multiplies a whole session by one
 * log-normal factor (σ 0.2), and real streams share a raid, a title or a rival event the same way. So
 * which slot of a week turns out best is decided first by which *day's* stream did well, and only then by
 * the hour within it. Ranking by the median puts the three hours of the best-looking day on top; when
 * that day's stream is the weak one, all three miss together. The chance of each slot being the best,
 * with the hours of a day moving together, puts the best hour of each of the likeliest days on top
 * instead — the top 3 that most often contains the week's best slot (the events "slot j is the best" are
 * disjoint, so ranking by their probabilities maximises the chance that the top k holds the best).
 */

/** How a slot's log error splits: a part shared by every hour of its stream day, and the hour's own. */
export interface RankNoise {
  /** Standard deviation of the part shared by the hours of one stream day (log viewers). */
  day: number;
  /** Standard deviation of each hour's own part (log viewers). */
  hour: number;
}

/** Monte Carlo draws of the chances: at 2,000 the standard error of a chance of 0.3 is 0.01. */
export const BEST_CHANCE_DRAWS = 2000;

/**
 * The day / hour split of log errors, from out-of-sample errors grouped by stream (calibration hours:
 * each as of its stream's start). A channel's level error moves all its slots alike and does not change
 * its ranking, so each channel's mean error is taken out first. Within-stream variance is the hours'
 * own; the variance of stream means around their channel's mean, less what the hours' own variance puts
 * into a mean of n hours, is the day part. Null when there are too few streams with two hours or more.
 */
export function rankNoiseOf(errors: Array<{ channel: string; stream: string; error: number }>): RankNoise | null {
  const channels = new Map<string, Map<string, number[]>>();
  for (const e of errors) {
    if (!Number.isFinite(e.error)) continue;
    let streams = channels.get(e.channel);
    if (!streams) channels.set(e.channel, (streams = new Map()));
    streams.set(e.stream, [...(streams.get(e.stream) ?? []), e.error]);
  }
  let within = 0;
  let withinDf = 0;
  let between = 0;
  let betweenDf = 0;
  let inverseHours = 0;
  let means = 0;
  for (const streams of channels.values()) {
    const streamMeans = [...streams.values()].map((xs) => {
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      within += xs.reduce((a, x) => a + (x - m) ** 2, 0);
      withinDf += xs.length - 1;
      return { m, n: xs.length };
    });
    if (streamMeans.length < 2) continue;
    const c = streamMeans.reduce((a, s) => a + s.m, 0) / streamMeans.length;
    between += streamMeans.reduce((a, s) => a + (s.m - c) ** 2, 0);
    betweenDf += streamMeans.length - 1;
    inverseHours += streamMeans.reduce((a, s) => a + 1 / s.n, 0);
    means += streamMeans.length;
  }
  if (withinDf < 10 || betweenDf < 10) return null;
  const hour = within / withinDf;
  const day = Math.max(0, between / betweenDf - hour * (inverseHours / means));
  return { day: Math.sqrt(day), hour: Math.sqrt(hour) };
}

/**
 * The chance that each slot is the best of `mu` (log typical outcomes), when slots of the same `day`
 * share one normal error of sd `noise.day` and every slot has its own of sd `noise.hour`. Monte Carlo
 * with a fixed seed, so the same inputs always give the same chances; they sum to 1.
 */
export function bestSlotChances(mu: number[], days: number[], noise: RankNoise, draws = BEST_CHANCE_DRAWS, seed = 1): number[] {
  const wins = new Array<number>(mu.length).fill(0);
  if (mu.length === 0) return wins;
  const random = seededRandom(seed);
  const dayIndex = new Map<number, number>();
  const dayOf = days.map((d) => {
    let i = dayIndex.get(d);
    if (i === undefined) dayIndex.set(d, (i = dayIndex.size));
    return i;
  });
  const shared = new Array<number>(dayIndex.size).fill(0);
  for (let k = 0; k < draws; k++) {
    for (let d = 0; d < shared.length; d++) shared[d] = noise.day * gaussian(random);
    let best = 0;
    let bestValue = -Infinity;
    for (let j = 0; j < mu.length; j++) {
      const v = mu[j]! + shared[dayOf[j]!]! + noise.hour * gaussian(random);
      if (v > bestValue) {
        bestValue = v;
        best = j;
      }
    }
    wins[best]!++;
  }
  return wins.map((w) => w / draws);
}

/**
 * The order in which slots are recommended, best first. The first is the slot with the best typical
 * (median) outcome: one pick is best made by what it can be expected to bring. The rest follow by their
 * chance of being the best, which spreads them over the likeliest days instead of the first pick's
 * neighbours; ties, and every slot when there are no chances, by the median.
 */
export function recommendationOrder(slots: Array<{ medianViewers: number; bestChance?: number }>): number[] {
  const byMedian = (a: number, b: number): number => slots[b]!.medianViewers - slots[a]!.medianViewers || a - b;
  const order = slots.map((_, i) => i).sort(byMedian);
  if (order.length === 0) return order;
  const [first, ...rest] = order;
  return [first!, ...rest.sort((a, b) => (slots[b]!.bestChance ?? 0) - (slots[a]!.bestChance ?? 0) || byMedian(a, b))];
}

/** Ranking scores (higher first) in `recommendationOrder`: n for the first slot … 1 for the last. */
export function rankByChance(slots: Array<{ medianViewers: number; bestChance?: number }>): number[] {
  const points = new Array<number>(slots.length).fill(0);
  recommendationOrder(slots).forEach((i, rank) => (points[i] = slots.length - rank));
  return points;
}
