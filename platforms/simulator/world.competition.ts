/**
 * Category competition (issue 22.3): the rest of Twitch's directory in each of the world's categories —
 * how many other channels are live and how many viewers watch them — as a pure function of (seed,
 * category, UTC hour), like the world itself. Opt-in (`WorldOptions.competition`): with it off the
 * world's figures are exactly those of before.
 *
 * Shape (what "best time" tools measure, and what a model can learn from samples of it):
 * - **demand**, the category's viewers, follows a broad daily curve in UTC (the global audience peaks in
 *   the European evening / American afternoon), higher at weekends;
 * - **supply**, its live channels, follows its own daily curve, peaking a few hours off demand;
 * - on top, each category has a few **weekly events** (a 4-hour block of a weekday: a league's match
 *   night, a weekly release) when many more channels go live — or a few **quiet blocks** when many stay
 *   away. These repeat every week (± a little), so last weeks' samples foretell next week's;
 * - a creator's viewers in a slot scale with the **viewers per live channel** there, relative to the
 *   category's mean over the week: `(vpc / mean vpc)^ELASTICITY`. The events are per weekday × block,
 *   so a creator's own daily curve and weekday effects cannot describe them: the samples can.
 */
import { hashString, mix, unit } from './world.hash';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** How strongly a creator's audience follows the category's viewers per live channel. */
export const COMPETITION_ELASTICITY = 0.7;
/** Bounds of the creator's factor: competition moves an audience, it does not make or erase it. */
const FACTOR_MIN = 0.45;
const FACTOR_MAX = 1.9;

export interface CategoryMarket {
  /** Other channels live in the category during that UTC hour (not the world's own channels). */
  liveChannels: number;
  /** Their viewers, summed. */
  viewers: number;
}

interface MarketShape {
  pool: number;
  demand: number;
  demandPeakUtc: number;
  supplyPeakUtc: number;
  /** Supply multiplier per (UTC weekday, 4-hour block): 1 outside events. */
  blocks: number[];
  meanVpc: number;
}

/** 1970-01-01 was a Thursday: Sunday-first UTC weekday of an instant. */
const utcWeekday = (tMs: number) => (((Math.floor(tMs / DAY) + 4) % 7) + 7) % 7;
const utcHourOf = (tMs: number) => ((Math.floor(tMs / HOUR) % 24) + 24) % 24;

export interface Competition {
  readonly seed: number;
  /** The market of `categoryId` during the UTC hour that contains `tMs`; null for an unknown category. */
  marketAt(categoryId: string, tMs: number): CategoryMarket | null;
  /** A creator's audience multiplier in that hour (1 for an unknown category). */
  factorAt(categoryId: string, tMs: number): number;
  /** The viewers of the market's i-th biggest live channel then (i < liveChannels), summing to its viewers. */
  channelViewers(categoryId: string, tMs: number, i: number): number;
}

export function createCompetition(seed: number, categoryIds: readonly string[]): Competition {
  const known = new Set(categoryIds);
  const shapes = new Map<string, MarketShape>();
  const weights = new Map<number, Float64Array>();

  const shapeOf = (categoryId: string): MarketShape | undefined => {
    if (!known.has(categoryId)) return undefined;
    let s = shapes.get(categoryId);
    if (s) return s;
    const h = hashString(`${seed}:competition:${categoryId}`);
    const blocks = Array.from({ length: 42 }, (_, b) => {
      const u = unit(mix(h, 100 + b));
      // About one block in seven an event (×1.8–2.8 channels), one in ten quiet (×0.45–0.65).
      if (u < 0.14) return 1.8 + unit(mix(h, 200 + b));
      if (u > 0.9) return 0.45 + 0.2 * unit(mix(h, 300 + b));
      return 1;
    });
    s = {
      pool: 80 + (mix(h, 1) % 420),
      demand: Math.round(3_000 + 60_000 * unit(mix(h, 2)) ** 2),
      demandPeakUtc: 17 + (mix(h, 3) % 6),
      supplyPeakUtc: 14 + (mix(h, 4) % 10),
      blocks,
      meanVpc: 0,
    };
    shapes.set(categoryId, s);
    // The category's mean viewers per live channel over a reference week (no weekly jitter).
    let sum = 0;
    for (let hw = 0; hw < 168; hw++) {
      const m = marketOf(s, h, hw * HOUR + 4 * DAY /* a Sunday 00:00 UTC */, false);
      sum += m.viewers / m.liveChannels;
    }
    s.meanVpc = sum / 168;
    return s;
  };

  function marketOf(s: MarketShape, h: number, tMs: number, jitter: boolean): CategoryMarket {
    const hour = utcHourOf(tMs);
    const weekday = utcWeekday(tMs);
    const weekend = weekday === 0 || weekday === 6 ? 1.15 : 1;
    const demand = s.demand * (0.55 + 0.45 * Math.cos((2 * Math.PI * (hour - s.demandPeakUtc)) / 24)) * weekend;
    const share = 0.35 + 0.25 * Math.cos((2 * Math.PI * (hour - s.supplyPeakUtc)) / 24);
    // Week-to-week wobble of ±8 %: the hour-of-week shape repeats, not its exact numbers.
    const wobble = jitter ? 0.92 + 0.16 * unit(mix(h, Math.floor(tMs / HOUR) * 3 + 1)) : 1;
    const liveChannels = Math.max(3, Math.round(s.pool * share * s.blocks[weekday * 6 + Math.floor(hour / 4)]! * wobble));
    // An event draws some extra viewers too, never in proportion to the channels it brings.
    const viewers = Math.round(demand * Math.sqrt(s.blocks[weekday * 6 + Math.floor(hour / 4)]!) * (jitter ? 0.96 + 0.08 * unit(mix(h, Math.floor(tMs / HOUR) * 3 + 2)) : 1));
    return { liveChannels, viewers };
  }

  const marketAt = (categoryId: string, tMs: number): CategoryMarket | null => {
    const s = shapeOf(categoryId);
    return s ? marketOf(s, hashString(`${seed}:competition:${categoryId}`), tMs, true) : null;
  };

  /** Zipf weights (1/(i+1)), normalised over the first n: the market's audience is heavy-tailed. */
  const weightsFor = (n: number): Float64Array => {
    let w = weights.get(n);
    if (w) return w;
    w = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) total += 1 / (i + 1);
    for (let i = 0; i < n; i++) w[i] = 1 / (i + 1) / total;
    weights.set(n, w);
    return w;
  };

  return {
    seed,
    marketAt,
    factorAt(categoryId, tMs) {
      const s = shapeOf(categoryId);
      const m = marketAt(categoryId, tMs);
      if (!s || !m) return 1;
      const f = (m.viewers / m.liveChannels / s.meanVpc) ** COMPETITION_ELASTICITY;
      return Math.min(FACTOR_MAX, Math.max(FACTOR_MIN, f));
    },
    channelViewers(categoryId, tMs, i) {
      const m = marketAt(categoryId, tMs);
      if (!m || i < 0 || i >= m.liveChannels) return 0;
      return Math.max(1, Math.round(m.viewers * weightsFor(m.liveChannels)[i]!));
    },
  };
}
