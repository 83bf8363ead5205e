import { createWorld } from '../platforms/simulator/world';
import { channelKey, type ChannelHistory } from './channel-history';
import { DAY_MS, HOUR_MS, hourOfWeek } from './features';
import { simulatedHistories } from './history';
import { argMax, expectedHitAtK, mae, round } from './evaluation';
import { trainTimingModel, TIMING_DEFAULTS, TIMING_METHODS, TimingMethod } from './timing.model';
import { trainViewerModel, VIEWER_BASELINES, VIEWER_DEFAULTS, ViewerBaseline } from './viewers.model';

/**
 * The honest evaluation (`spacehub models evaluate`, bench/models-eval.bench.ts): for each history seed
 * × history length, simulator history as a backfill writes it (world seed = noise seed = the history
 * seed, like `spacehub backfill --seed S`), a time split (the last 7 days are the holdout), both models
 * trained and scored next to every baseline on the same holdout — and next to the **noise floor**: the
 * simulator knows each session's expected viewers before the backfill's session and poll noise (the
 * same world without noise), so the MAE of that oracle is the best any model could do. The headline is
 * the share of the gap between the best baseline and the oracle that the model closes.
 *
 * History is generated in memory (models/history.ts `simulatedHistories`: what a backfill writes and history.repository.ts reads),
 * so the evaluation needs no ClickHouse and each seed is independent.
 */
export interface EvaluationOptions {
  seeds: number[];
  weeks: number[];
  channels: number;
  /** Session noise sigma (polls get half), as `spacehub backfill --noise`. */
  noise: number;
  /** End of every history (epoch ms). */
  to: number;
  holdoutDays: number;
  trainSeed: number;
  epochs?: { viewers?: number; timing?: number };
  onCase?: (c: CaseEvaluation) => void;
}

export interface CaseEvaluation {
  seed: number;
  weeks: number;
  viewers: {
    sessions: number;
    mae: number;
    baselines: Record<ViewerBaseline, number>;
    bestBaseline: ViewerBaseline;
    oracle: number;
    /** (best baseline − model) / (best baseline − oracle); NaN when the best baseline is not above the oracle. */
    gapClosed: number;
    served: string;
    servedMae: number;
    interval80Coverage: number;
  };
  timing: {
    channels: number;
    hitAt3: Record<TimingMethod, number>;
    random: number;
    /** Ranking by the simulator's expected viewers: the best hit@3 the noise allows. */
    oracle: number;
    bestBaseline: TimingMethod;
    /** Mean over channels of (oracle's best slot − the model's top slot), in expected viewers, and as a share of the best. */
    regret: number;
    regretShare: number;
    interval80Coverage: number;
  };
  seconds: number;
}

export const EVALUATION_DEFAULTS = { seeds: [1, 2, 3, 4, 5], weeks: [4, 12], channels: 48, noise: 0.2, holdoutDays: 7, trainSeed: 1, to: Date.UTC(2026, 10, 20) };

const BASELINE_TIMING: TimingMethod[] = TIMING_METHODS.filter((m) => m !== 'model');

export async function evaluateCase(seed: number, weeks: number, o: Omit<EvaluationOptions, 'seeds' | 'weeks' | 'onCase'>): Promise<CaseEvaluation> {
  const started = Date.now();
  const world = createWorld({ seed, channels: o.channels });
  const fromMs = o.to - weeks * 7 * DAY_MS;
  const histories: ChannelHistory[] = [];
  const expectedSession = new Map<string, number>();
  const expectedHour = new Map<string, number>();
  for (const c of world.channels) {
    // What a backfill writes, and the oracle: the same world and sessions without the backfill's noise.
    const { noisy, clean } = simulatedHistories(world, c.channelId, { fromMs, toMs: o.to, sessionNoise: o.noise, pollNoise: o.noise / 2, seed });
    histories.push(noisy);
    const key = channelKey(clean);
    for (const s of clean.sessions) expectedSession.set(`${key}/${s.streamId}`, s.avgViewers);
    for (const x of clean.hours) expectedHour.set(`${key}/${x.hourStart}`, x.viewers);
  }
  const splitAt = o.to - o.holdoutDays * DAY_MS;

  const v = await trainViewerModel(histories, { ...VIEWER_DEFAULTS, epochs: o.epochs?.viewers ?? VIEWER_DEFAULTS.epochs, splitAt, seed: o.trainSeed });
  v.model.dispose();
  const actual = v.holdout.map((r) => r.actual);
  const baselines = Object.fromEntries(VIEWER_BASELINES.map((b) => [b, mae(actual, v.holdout.map((r) => r.baselines[b]))])) as Record<ViewerBaseline, number>;
  const bestBaseline = [...VIEWER_BASELINES].sort((a, b) => baselines[a] - baselines[b])[0]!;
  const oracle = mae(actual, v.holdout.map((r) => expectedSession.get(`${r.channel}/${r.streamId}`)!));
  const modelMae = mae(actual, v.holdout.map((r) => r.model));

  const t = await trainTimingModel(histories, { ...TIMING_DEFAULTS, epochs: o.epochs?.timing ?? TIMING_DEFAULTS.epochs, splitAt, seed: o.trainSeed });
  t.model.dispose();
  const hitAt3 = Object.fromEntries(TIMING_METHODS.map((m) => [m, t.holdout.reduce((a, row) => a + expectedHitAtK(row.scores[m], argMax(row.actual)), 0) / t.holdout.length])) as Record<TimingMethod, number>;
  const bestTiming = [...BASELINE_TIMING].sort((a, b) => hitAt3[b] - hitAt3[a])[0]!;
  // The oracle's view of each holdout slot: mean expected viewers of its holdout hours.
  const splitHour = Math.floor(splitAt / HOUR_MS) * HOUR_MS;
  let oracleHits = 0;
  let regret = 0;
  let regretShare = 0;
  for (const row of t.holdout) {
    const sums = new Map<number, { sum: number; n: number }>();
    for (const [k, viewers] of expectedHour) {
      const [ch, hs] = [k.slice(0, k.lastIndexOf('/')), Number(k.slice(k.lastIndexOf('/') + 1))];
      if (ch !== row.channel || hs < splitHour) continue;
      const how = hourOfWeek(hs);
      const b = sums.get(how) ?? { sum: 0, n: 0 };
      b.sum += viewers;
      b.n++;
      sums.set(how, b);
    }
    const expected = row.slots.map((s) => (sums.get(s) ? sums.get(s)!.sum / sums.get(s)!.n : 0));
    oracleHits += expectedHitAtK(expected, argMax(row.actual));
    const best = Math.max(...expected);
    const picked = expected[argMax(row.scores.model)]!;
    regret += best - picked;
    regretShare += best > 0 ? (best - picked) / best : 0;
  }
  const n = t.holdout.length;
  return {
    seed,
    weeks,
    viewers: {
      sessions: v.holdout.length,
      mae: round(modelMae, 2),
      baselines: Object.fromEntries(Object.entries(baselines).map(([k, x]) => [k, round(x, 2)])) as Record<ViewerBaseline, number>,
      bestBaseline,
      oracle: round(oracle, 2),
      // No gap (the best baseline is at or below the oracle on this holdout, by sampling luck): undefined, NaN.
      gapClosed: baselines[bestBaseline] > oracle ? round((baselines[bestBaseline] - modelMae) / (baselines[bestBaseline] - oracle), 3) : NaN,
      served: v.serving.name,
      servedMae: round(v.metrics.served_mae!, 2),
      interval80Coverage: v.metrics.interval80_coverage!,
    },
    timing: {
      channels: n,
      hitAt3: Object.fromEntries(Object.entries(hitAt3).map(([k, x]) => [k, round(x, 3)])) as Record<TimingMethod, number>,
      random: t.metrics.random_hit_rate_at_3!,
      oracle: round(oracleHits / n, 3),
      bestBaseline: bestTiming,
      regret: round(regret / n, 1),
      regretShare: round(regretShare / n, 3),
      interval80Coverage: t.metrics.interval80_coverage!,
    },
    seconds: round((Date.now() - started) / 1000, 1),
  };
}

export async function evaluateModels(o: EvaluationOptions): Promise<CaseEvaluation[]> {
  const out: CaseEvaluation[] = [];
  for (const weeks of o.weeks) {
    for (const seed of o.seeds) {
      const c = await evaluateCase(seed, weeks, o);
      o.onCase?.(c);
      out.push(c);
    }
  }
  return out;
}
