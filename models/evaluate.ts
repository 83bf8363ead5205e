import { createWorld } from '../platforms/simulator/world';
import { channelKey, type ChannelHistory } from './channel-history';
import { DAY_MS, HOUR_MS, hourOfWeek } from './features';
import { simulatedHistories } from './history';
import { argMax, expectedHitAtK, mae, oracleViewers, round } from './evaluation';
import { bestSlotChances, rankByChance } from './slot-ranking';
import { timingHoldout, trainTimingModel, TIMING_DEFAULTS, TIMING_METHODS, TimingHoldoutRow, TimingMethod } from './timing.model';
import { trainViewerModel, VIEWER_BASELINES, VIEWER_DEFAULTS, ViewerBaseline, viewerHoldoutRows, ViewerHoldoutRow } from './viewers.model';
import { coverage } from './calibration';
import { simulatedCompetitionSamples } from './competition.history';
import { competitionByCategory } from './competition.feature';

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
  /**
   * Noise draws of the holdout week scored (≥ 1): the backfill's own, then fresh session and poll noise
   * on the same world sessions, with the history before the split unchanged — so the trained models are
   * the same and only the holdout grows. One week of ~200 sessions leaves the coverage of an 80 %
   * interval a binomial SD of ~2.8 points and lets a baseline beat the noise floor by sampling luck.
   */
  holdoutDraws: number;
  trainSeed: number;
  /**
   * A world with category competition (platforms/simulator/world.competition.ts: Twitch audiences follow
   * their category's viewers per live channel) and the samples ingest's sampler would have taken of it,
   * every 10 minutes over the whole history (`spacehub backfill --competition`), attached to its Twitch
   * channels' histories. Default off: the world and every figure as without it.
   */
  competition?: boolean;
  /** With `competition`: false keeps the samples from the models (the world without the feature: its gain). Default true. */
  competitionSamples?: boolean;
  epochs?: { viewers?: number; timing?: number };
  onCase?: (c: CaseEvaluation) => void;
}

export interface CaseEvaluation {
  seed: number;
  weeks: number;
  /** The world had category competition, and its samples were the models' (EvaluationOptions.competition). */
  competition: boolean;
  /** The models had the world's competition samples. */
  competitionSamples: boolean;
  viewers: {
    /** Holdout sessions over all noise draws (draws × the week's sessions). */
    sessions: number;
    draws: number;
    mae: number;
    baselines: Record<ViewerBaseline, number>;
    bestBaseline: ViewerBaseline;
    oracle: number;
    /** (best baseline − model) / (best baseline − oracle); NaN when the best baseline is not above the oracle. */
    gapClosed: number;
    served: string;
    servedMae: number;
    interval80Coverage: number;
    /** Sessions inside their 80 % interval (coverage = inside / sessions). */
    interval80Inside: number;
  };
  timing: {
    /** Channels ranked, over all noise draws. */
    channels: number;
    hitAt3: Record<TimingMethod, number>;
    random: number;
    /** Ranking by the simulator's expected viewers: the best hit@3 the noise allows. */
    oracle: number;
    bestBaseline: TimingMethod;
    /** Mean over channels of (oracle's best slot − the model's top slot), in expected viewers, and as a share of the best. */
    regret: number;
    regretShare: number;
    /** The same regret for the best baseline's top slot. */
    baselineRegret: number;
    interval80Coverage: number;
    interval80Inside: number;
    /** Live holdout hours over all draws. */
    hours: number;
  };
  seconds: number;
}

export const EVALUATION_DEFAULTS = { seeds: [1, 2, 3, 4, 5], weeks: [4, 12], channels: 48, noise: 0.2, holdoutDays: 7, holdoutDraws: 4, trainSeed: 1, to: Date.UTC(2026, 10, 20) };

const BASELINE_TIMING: TimingMethod[] = TIMING_METHODS.filter((m) => m !== 'model');

export async function evaluateCase(seed: number, weeks: number, o: Omit<EvaluationOptions, 'seeds' | 'weeks' | 'onCase'>): Promise<CaseEvaluation> {
  const started = Date.now();
  const competition = o.competition === true;
  const world = createWorld({ seed, channels: o.channels, competition });
  const fromMs = o.to - weeks * 7 * DAY_MS;
  const splitAt = o.to - o.holdoutDays * DAY_MS;
  const noise = { sessionNoise: o.noise, pollNoise: o.noise / 2 };
  const histories: ChannelHistory[] = [];
  const expectedSession = new Map<string, number>();
  const expectedHour = new Map<string, number>();
  /** The session (its start) each hour of the noise-free history belongs to: the hours that share a session's noise factor. */
  const hourSession = new Map<string, number>();
  for (const c of world.channels) {
    // What a backfill writes, and the oracle: the same world and sessions without the backfill's noise.
    const { noisy, clean } = simulatedHistories(world, c.channelId, { fromMs, toMs: o.to, ...noise, seed });
    histories.push(noisy);
    const key = channelKey(clean);
    for (const s of clean.sessions) expectedSession.set(`${key}/${s.streamId}`, s.avgViewers);
    for (const x of clean.hours) {
      expectedHour.set(`${key}/${x.hourStart}`, x.viewers);
      const s = clean.sessions.find((z) => z.startedAt < x.hourStart + HOUR_MS && z.endedAt > x.hourStart);
      if (s) hourSession.set(`${key}/${x.hourStart}`, s.startedAt);
    }
  }
  if (competition && o.competitionSamples !== false) {
    // The samples of the whole history (each context reads only those before its instant); Twitch's directories.
    const samples = competitionByCategory(simulatedCompetitionSamples(world, { fromMs, toMs: o.to }));
    for (const h of histories) if (h.platform === 'twitch') h.competition = samples;
  }
  // The other draws of the holdout week: the same sessions with fresh noise, the history before the split as it was.
  const draws: ChannelHistory[][] = [histories];
  for (let k = 1; k < Math.max(1, o.holdoutDraws); k++) {
    draws.push(histories.map((h) => {
      const { noisy } = simulatedHistories(world, h.channelId, { fromMs: splitAt, toMs: o.to, ...noise, seed: holdoutDrawSeed(seed, weeks, k) });
      return withHoldout(h, noisy, splitAt);
    }));
  }

  const v = await trainViewerModel(histories, { ...VIEWER_DEFAULTS, epochs: o.epochs?.viewers ?? VIEWER_DEFAULTS.epochs, splitAt, seed: o.trainSeed });
  const held: ViewerHoldoutRow[] = [...v.holdout, ...draws.slice(1).flatMap((d) => viewerHoldoutRows(v, d, splitAt))];
  v.model.dispose();
  const actual = held.map((r) => r.actual);
  const baselines = Object.fromEntries(VIEWER_BASELINES.map((b) => [b, mae(actual, held.map((r) => r.baselines[b]))])) as Record<ViewerBaseline, number>;
  const bestBaseline = [...VIEWER_BASELINES].sort((a, b) => baselines[a] - baselines[b])[0]!;
  const oracle = mae(actual, held.map((r) => oracleViewers(expectedSession.get(`${r.channel}/${r.streamId}`)!, o.noise)));
  const modelMae = mae(actual, held.map((r) => r.model));
  // What the registry serves is decided by training on its own holdout (the backfill's draw); here it is scored on every draw.
  const servedBaseline = v.serving.name === 'viewers' ? null : (v.serving.name.slice('baseline:'.length) as ViewerBaseline);
  const servedMae = servedBaseline ? baselines[servedBaseline] : modelMae;
  const viewerInside = Math.round(coverage(actual, held.map((r) => r.low), held.map((r) => r.high)) * held.length);

  const t = await trainTimingModel(histories, { ...TIMING_DEFAULTS, epochs: o.epochs?.timing ?? TIMING_DEFAULTS.epochs, splitAt, seed: o.trainSeed });
  const timingDraws = [{ rows: t.holdout, inside: Math.round(t.metrics.interval80_coverage! * t.holdoutSamples), hours: t.holdoutSamples }, ...draws.slice(1).map((d) => timingHoldout(t, d, splitAt))];
  t.model.dispose();
  const rows: TimingHoldoutRow[] = timingDraws.flatMap((d) => d.rows);
  const timingInside = timingDraws.reduce((a, d) => a + d.inside, 0);
  const timingHours = timingDraws.reduce((a, d) => a + d.hours, 0);
  const hitAt3 = Object.fromEntries(TIMING_METHODS.map((m) => [m, rows.reduce((a, row) => a + expectedHitAtK(row.scores[m], argMax(row.actual)), 0) / rows.length])) as Record<TimingMethod, number>;
  const random = rows.reduce((a, row) => a + Math.min(1, 3 / row.slots.length), 0) / rows.length;
  const bestTiming = [...BASELINE_TIMING].sort((a, b) => hitAt3[b] - hitAt3[a])[0]!;
  // The oracle's view of each holdout slot: mean expected viewers of its holdout hours (the same in every draw).
  const splitHour = Math.floor(splitAt / HOUR_MS) * HOUR_MS;
  const expectedSlots = new Map<string, Map<number, { sum: number; n: number; session: number }>>();
  for (const [k, viewers] of expectedHour) {
    const [ch, hs] = [k.slice(0, k.lastIndexOf('/')), Number(k.slice(k.lastIndexOf('/') + 1))];
    if (hs < splitHour) continue;
    const sums = expectedSlots.get(ch) ?? new Map<number, { sum: number; n: number; session: number }>();
    const b = sums.get(hourOfWeek(hs)) ?? { sum: 0, n: 0, session: hourSession.get(k) ?? hs };
    b.sum += viewers;
    b.n++;
    sums.set(hourOfWeek(hs), b);
    expectedSlots.set(ch, sums);
  }
  let oracleHits = 0;
  let regret = 0;
  let regretShare = 0;
  let baselineRegret = 0;
  for (const row of rows) {
    const sums = expectedSlots.get(row.channel);
    const expected = row.slots.map((s) => (sums?.get(s) ? sums.get(s)!.sum / sums.get(s)!.n : 0));
    // Ranked as the model ranks (slot-ranking.ts), knowing what the noise is: the session factor shared by a
    // session's hours (sd o.noise) and each hour's own poll jitter averaged over its ~120 polls.
    const chances = bestSlotChances(expected.map((e) => Math.log(e + 1)), row.slots.map((s) => sums?.get(s)?.session ?? s), { day: o.noise, hour: noise.pollNoise / Math.sqrt(120) });
    oracleHits += expectedHitAtK(rankByChance(expected.map((e, i) => ({ medianViewers: e, bestChance: chances[i]! }))), argMax(row.actual));
    const best = Math.max(...expected);
    const picked = expected[argMax(row.scores.model)]!;
    regret += best - picked;
    regretShare += best > 0 ? (best - picked) / best : 0;
    baselineRegret += best - expected[argMax(row.scores[bestTiming])]!;
  }
  const n = rows.length;
  return {
    seed,
    weeks,
    competition,
    competitionSamples: competition && o.competitionSamples !== false,
    viewers: {
      sessions: held.length,
      draws: draws.length,
      mae: round(modelMae, 2),
      baselines: Object.fromEntries(Object.entries(baselines).map(([k, x]) => [k, round(x, 2)])) as Record<ViewerBaseline, number>,
      bestBaseline,
      oracle: round(oracle, 2),
      // No gap (the best baseline at or below the oracle on this holdout): NaN — summarize counts it as the oracle beaten.
      gapClosed: baselines[bestBaseline] > oracle ? round((baselines[bestBaseline] - modelMae) / (baselines[bestBaseline] - oracle), 3) : NaN,
      served: v.serving.name,
      servedMae: round(servedMae, 2),
      interval80Coverage: round(viewerInside / held.length),
      interval80Inside: viewerInside,
    },
    timing: {
      channels: n,
      hitAt3: Object.fromEntries(Object.entries(hitAt3).map(([k, x]) => [k, round(x, 3)])) as Record<TimingMethod, number>,
      random: round(random),
      oracle: round(oracleHits / n, 3),
      bestBaseline: bestTiming,
      regret: round(regret / n, 1),
      regretShare: round(regretShare / n, 3),
      baselineRegret: round(baselineRegret / n, 1),
      interval80Coverage: round(timingInside / timingHours),
      interval80Inside: timingInside,
      hours: timingHours,
    },
    seconds: round((Date.now() - started) / 1000, 1),
  };
}

/** Noise seed of holdout draw k ≥ 1 of a history (draw 0 is the backfill's own, seed = the history seed). */
const holdoutDrawSeed = (seed: number, weeks: number, k: number): number => 1_000_003 * k + 1_009 * weeks + seed;

/**
 * `base` with its sessions from `splitAt` on (and their live hours) replaced by `holdout`'s — the same
 * world sessions with other noise. Sessions last less than a day and a channel starts at most one a day,
 * so no hour is shared between a session before the split and one after it.
 */
export function withHoldout(base: ChannelHistory, holdout: ChannelHistory, splitAt: number): ChannelHistory {
  const replaced = new Set(holdout.hours.map((x) => x.hourStart));
  return {
    ...base,
    sessions: [...base.sessions.filter((s) => s.startedAt < splitAt), ...holdout.sessions],
    hours: [...base.hours.filter((x) => !replaced.has(x.hourStart)), ...holdout.hours].sort((a, b) => a.hourStart - b.hourStart),
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
