import type { ChannelHistory, SessionRecord } from './channel-history';
import { channelKey } from './channel-history';
import {
  buildVocabulary, channelContext, ChannelContext, DAY_MS, featureNames, fitNormalization, normalize, Normalization,
  pooledProfilePrior, ProfilePrior, profileEstimate, profilePriorMetrics, sameHourLastWeek, seasonalBaseline, VIEWER_FEATURE_NAMES, viewerFeatures, Vocabulary,
} from './features';
import { buildMlp, fitMlp, predictRows, TrainingOptions, TrainingOutcome, weightedHuber } from './mlp';
import { mae, mape, round } from './evaluation';
import { CALIBRATION_DAYS, conformalQuantile, coverage, fitInflation, inflation, logBand, logError } from './calibration';
import { InsufficientDataError } from './errors';
import type { tf } from './tf.backend';

/**
 * Viewer potential: the expected average viewers of a stream a channel starts at a given time and runs
 * for a given duration. One sample per ended session, with features as of its start.
 *
 * The network predicts the *residual* over the channel's fitted audience profile (profile.fit.ts,
 * features.ts `profileEstimate`): log((avg+1)/(profile+1)), stacked with a weight chosen on the
 * calibration week; the channel × hour-of-week baseline and the others enter as features. With nothing
 * to add it is the profile; it can only earn its place by what the other features (duration, weekday,
 * trend, follower momentum, what other channels teach) add. Whether the whole did
 * is decided on the holdout: when the trained net loses to the best baseline there, the artifact says
 * so (`serving`) and the registry serves that baseline, named as such.
 */
export type ViewerTrainingOptions = TrainingOptions & {
  /** Candidate weights of the net's correction, one chosen on the calibration week (default 0, ¼, ½, ¾, 1). */
  residualWeights?: number[];
};

export const VIEWER_DEFAULTS = { epochs: 60, batchSize: 64, maxStepsPerEpoch: 8, learningRate: 0.003, hidden: [8], l2: 0.1 };
export const MIN_TRAIN_SESSIONS = 30;

export const VIEWER_BASELINES = ['channel-mean', 'same-hour-last-week', 'channel-hour-of-week'] as const;
export type ViewerBaseline = (typeof VIEWER_BASELINES)[number];
export type ViewerServing = 'viewers' | `baseline:${ViewerBaseline}`;

/** What a trained viewer model serves and why: the holdout comparison that decided it, and the interval width. */
export interface ViewerServingDecision {
  name: ViewerServing;
  /** The baseline with the lowest holdout MAE, and that MAE. */
  bestBaseline: ViewerBaseline;
  bestBaselineMae: number;
  modelMae: number;
  holdoutSessions: number;
  /**
   * Conformal half-width of the 80 % interval, in log((v+1)) units, for what is served, at a channel
   * seen in many sessions; one seen in n sessions gets intervalQ·√(1 + intervalKappa/n) (calibration.ts).
   */
  intervalQ: number;
  /** Absent (artifacts before it): 0, one width for every channel. */
  intervalKappa?: number;
}

/** With the profile's pooled prior (features.ts ProfilePrior: weekday effects and labels, competition coefficient). */
export interface ViewerScorer extends ProfilePrior {
  model: tf.LayersModel;
  normalization: Normalization;
  vocabulary: Vocabulary;
  /**
   * How much of the net's correction over the profile is applied, chosen on the calibration week
   * (0 = the profile alone; absent: all of it). A net trained on a few weeks of young channel contexts
   * can add more noise than signal; the week after its training data says how much to trust it.
   */
  residualWeight?: number;
}

export interface ViewerHoldoutRow {
  channel: string;
  streamId: string;
  startedAt: number;
  actual: number;
  model: number;
  baselines: Record<ViewerBaseline, number>;
  lastWeekSeen: boolean;
  /** The 80 % interval of what is served. */
  low: number;
  high: number;
}

export interface TrainedViewerModel extends ViewerScorer, TrainingOutcome {
  serving: ViewerServingDecision;
  holdout: ViewerHoldoutRow[];
}

interface Candidate {
  h: ChannelHistory;
  s: SessionRecord;
  ctx: ChannelContext;
}

/** Every session (starting at or after `from`) with the channel's context as of its start. */
function candidates(histories: ChannelHistory[], from = -Infinity): Candidate[] {
  const out: Candidate[] = [];
  for (const h of histories) {
    for (const s of h.sessions) {
      if (s.startedAt < from) continue;
      const r = channelContext(h, s.startedAt);
      if (r.ok) out.push({ h, s, ctx: r.ctx });
    }
  }
  return out;
}

/**
 * Error weight of a sample: an error in log space costs viewers in proportion to the channel's level, but
 * full weight would let the one or two biggest channels of a small history be the whole training set.
 */
const sampleWeight = (level: number): number => Math.sqrt(level + 1);

/** The three baselines of a planned stream, from the channel's history as of its start. */
export function viewerBaselines(ctx: ChannelContext, start: number, durationMs: number): { values: Record<ViewerBaseline, number>; lastWeekSeen: boolean } {
  const lastWeek = sameHourLastWeek(ctx, start, durationMs);
  return {
    values: { 'channel-mean': ctx.channelMean, 'same-hour-last-week': lastWeek ?? ctx.channelMean, 'channel-hour-of-week': seasonalBaseline(ctx, start, durationMs) },
    lastWeekSeen: lastWeek !== null,
  };
}

/**
 * The anchor of the viewer net: the profile's median, exp(fit) − 1, not its mean (× the log-bias scale).
 * Served numbers are scored by absolute error, whose optimum is the conditional median; the net's
 * log-space loss targets the median too. Chosen on tuning seeds 11–15 (models/README.md): mean share of
 * the gap closed 0.696 → 0.720, worst 0.517 → 0.537.
 */
export const VIEWER_POINT = 'median' as const;
export const viewersFromOutput = (anchor: number, out: number): number => Math.max(0, (anchor + 1) * Math.exp(out) - 1);

/** Expected average viewers for each (context, start, duration) — the serving and evaluation path. */
export function scoreViewers(scorer: ViewerScorer, items: Array<{ ctx: ChannelContext; start: number; durationMs: number; category: string | null }>): number[] {
  const x = normalize(items.map((i) => viewerFeatures(i.ctx, i.start, i.durationMs, i.category, scorer.vocabulary, scorer)), scorer.normalization);
  const w = scorer.residualWeight ?? 1;
  return predictRows(scorer.model, x).map((row, k) => viewersFromOutput(profileEstimate(items[k]!.ctx, items[k]!.start, items[k]!.durationMs, scorer, VIEWER_POINT), w * row[0]!));
}

/** What `serving` names, for one planned stream: the net's number or the named baseline's. */
export function servedValue(serving: ViewerServing, model: () => number, baselines: Record<ViewerBaseline, number>): number {
  return serving === 'viewers' ? model() : baselines[serving.slice('baseline:'.length) as ViewerBaseline];
}

const MIN_CALIBRATION_SESSIONS = 10;
const RESIDUAL_WEIGHTS = [0, 0.25, 0.5, 0.75, 1];

/** The weight of the net's correction with the lowest MAE on `sessions` (ties: the smaller weight). */
function chooseResidualWeight(scorer: ViewerScorer, sessions: Candidate[], weights: number[]): number {
  const items = sessions.map((c) => ({ ctx: c.ctx, start: c.s.startedAt, durationMs: c.s.endedAt - c.s.startedAt, category: c.s.category }));
  const actual = sessions.map((c) => c.s.avgViewers);
  let best = { w: weights[0]!, mae: Infinity };
  for (const w of weights) {
    const m = mae(actual, scoreViewers({ ...scorer, residualWeight: w }, items));
    if (m < best.mae - 1e-9) best = { w, mae: m };
  }
  return best.w;
}

export async function trainViewerModel(histories: ChannelHistory[], o: ViewerTrainingOptions): Promise<TrainedViewerModel> {
  const all = candidates(histories);
  // Time split: train | calibrate the interval (the last CALIBRATION_DAYS before the holdout) | holdout.
  // A history too short to spare the week trains on all of it and calibrates in-sample (calibration_sessions = 0).
  let calibrateFrom = o.splitAt - CALIBRATION_DAYS * DAY_MS;
  if (all.filter((c) => c.s.endedAt <= calibrateFrom).length < MIN_TRAIN_SESSIONS) calibrateFrom = o.splitAt;
  const train = all.filter((c) => c.s.endedAt <= calibrateFrom);
  const calibration = all.filter((c) => c.s.startedAt >= calibrateFrom && c.s.endedAt <= o.splitAt);
  const holdout = all.filter((c) => c.s.startedAt >= o.splitAt);
  if (train.length < MIN_TRAIN_SESSIONS) {
    throw new InsufficientDataError(`viewers: ${train.length} usable training sessions before the calibration week and holdout; need at least ${MIN_TRAIN_SESSIONS} (channels need some weeks of history)`, {
      have: train.length, need: MIN_TRAIN_SESSIONS, what: 'training sessions',
    });
  }
  if (holdout.length === 0) throw new InsufficientDataError('viewers: no sessions in the holdout period to evaluate on', { have: 0, need: 1, what: 'holdout sessions' });

  const vocabulary = buildVocabulary(train.map((c) => c.ctx.platform), train.map((c) => c.s.category ?? c.ctx.category));
  // Pooled from what every channel had seen when training data ends (nothing of the calibration week or holdout).
  const asOfTraining = histories.flatMap((h) => {
    const r = channelContext(h, calibrateFrom);
    return r.ok ? [r.ctx] : [];
  });
  const prior = pooledProfilePrior(asOfTraining);
  const rows = (cs: Candidate[]) => cs.map((c) => viewerFeatures(c.ctx, c.s.startedAt, c.s.endedAt - c.s.startedAt, c.s.category, vocabulary, prior));
  const xTrain = rows(train);
  const normalization = fitNormalization(xTrain);
  const model = buildMlp({ inputDim: xTrain[0]!.length, hidden: o.hidden, outputs: 2, seed: o.seed, l2: o.l2 });
  const fit = await fitMlp(
    model,
    normalize(xTrain, normalization),
    train.map((c) => [Math.log((c.s.avgViewers + 1) / (profileEstimate(c.ctx, c.s.startedAt, c.s.endedAt - c.s.startedAt, prior, VIEWER_POINT) + 1)), sampleWeight(c.ctx.level)]),
    { epochs: o.epochs, batchSize: o.batchSize, maxStepsPerEpoch: o.maxStepsPerEpoch, learningRate: o.learningRate, seed: o.seed, loss: weightedHuber, onEpoch: o.onEpoch },
  );

  const scorer: ViewerScorer = { model, normalization, vocabulary, ...prior };
  const calibrating = calibration.length >= MIN_CALIBRATION_SESSIONS ? calibration : train;
  // Stacking weight of the net over the profile, on the calibration week only (none: the profile alone).
  const weights = o.residualWeights ?? RESIDUAL_WEIGHTS;
  scorer.residualWeight = calibration.length >= MIN_CALIBRATION_SESSIONS || weights.length === 1 ? chooseResidualWeight(scorer, calibration, weights) : 0;
  const evaluate = (cs: Candidate[]) => scoreCandidates(scorer, cs);
  const held = evaluate(holdout);
  const actual = held.map((r) => r.actual);
  const maeOf = (pick: (r: (typeof held)[number]) => number) => mae(actual, held.map(pick));
  const baselineMae = Object.fromEntries(VIEWER_BASELINES.map((b) => [b, maeOf((r) => r.values[b])])) as Record<ViewerBaseline, number>;
  const bestBaseline = [...VIEWER_BASELINES].sort((a, b) => baselineMae[a] - baselineMae[b])[0]!;
  const modelMae = maeOf((r) => r.model);
  // The net is served only if it is at least as good as every baseline on its own holdout.
  const name: ViewerServing = modelMae <= baselineMae[bestBaseline] ? 'viewers' : `baseline:${bestBaseline}`;
  const served = (r: (typeof held)[number]) => servedValue(name, () => r.model, r.values);

  // Interval: normalised split conformal (calibration.ts). Calibrated on every session before the
  // holdout whose served number is out of sample — the profile and the baselines are fitted as of each
  // session's start, so when the net's correction is not applied (weight 0) or a baseline is served
  // that is every earlier session; otherwise the calibration week only (the net saw the training
  // sessions), or the training sessions when that week has too few.
  const outOfSample = name !== 'viewers' || scorer.residualWeight === 0;
  const calibrated = evaluate(outOfSample ? [...train, ...calibration] : calibrating);
  const scores = calibrated.map((r) => logError(r.actual, served(r)));
  const intervalKappa = fitInflation(scores, calibrated.map((r) => r.c.ctx.profileSessions));
  const intervalQ = conformalQuantile(scores.map((e, i) => e / inflation(intervalKappa, calibrated[i]!.c.ctx.profileSessions)));
  const decision = { name, intervalQ, intervalKappa };
  const holdoutRows = held.map((r) => holdoutRow(decision, r));

  const trainActual = train.map((c) => c.s.avgViewers);
  const metrics = {
    mae: round(modelMae),
    mape: round(mape(actual, held.map((r) => r.model))),
    baseline_channel_mean_mae: round(baselineMae['channel-mean']),
    baseline_channel_mean_mape: round(mape(actual, held.map((r) => r.values['channel-mean']))),
    baseline_last_week_mae: round(baselineMae['same-hour-last-week']),
    baseline_last_week_mape: round(mape(actual, held.map((r) => r.values['same-hour-last-week']))),
    baseline_last_week_coverage: round(held.filter((r) => r.lastWeekSeen).length / held.length),
    baseline_channel_hour_of_week_mae: round(baselineMae['channel-hour-of-week']),
    baseline_channel_hour_of_week_mape: round(mape(actual, held.map((r) => r.values['channel-hour-of-week']))),
    best_baseline_mae: round(baselineMae[bestBaseline]),
    model_vs_best_baseline: round(modelMae / baselineMae[bestBaseline]),
    serves_baseline: name === 'viewers' ? 0 : 1,
    served_mae: round(maeOf(served)),
    interval80_q: round(intervalQ),
    interval80_kappa: round(intervalKappa),
    interval80_calibration_sessions: calibrated.length,
    interval80_coverage: round(coverage(actual, holdoutRows.map((b) => b.low), holdoutRows.map((b) => b.high))),
    calibration_sessions: calibration.length,
    residual_weight: scorer.residualWeight,
    ...profilePriorMetrics(scorer),
    train_mae: round(mae(trainActual, evaluate(train).map((r) => r.model))),
    train_loss: round(fit.finalLoss, 6),
    samples_per_second: round((fit.samples * fit.epochs) / Math.max(0.001, fit.trainMs / 1000), 1),
  };
  return {
    ...scorer,
    featureNames: featureNames(VIEWER_FEATURE_NAMES, vocabulary),
    metrics,
    fit,
    trainSamples: train.length,
    holdoutSamples: holdout.length,
    channels: histories.length,
    serving: { name, bestBaseline, bestBaselineMae: round(baselineMae[bestBaseline], 2), modelMae: round(modelMae, 2), holdoutSessions: holdout.length, intervalQ, intervalKappa },
    holdout: holdoutRows,
  };
}

type Scored = ReturnType<typeof scoreCandidates>[number];

/** The net's number and the baselines of each candidate session, as of its start. */
function scoreCandidates(scorer: ViewerScorer, cs: Candidate[]) {
  const predicted = scoreViewers(scorer, cs.map((c) => ({ ctx: c.ctx, start: c.s.startedAt, durationMs: c.s.endedAt - c.s.startedAt, category: c.s.category })));
  return cs.map((c, i) => ({ c, actual: c.s.avgViewers, model: predicted[i]!, ...viewerBaselines(c.ctx, c.s.startedAt, c.s.endedAt - c.s.startedAt) }));
}

/** A scored holdout session with the calibrated 80 % band of what `decision` serves. */
function holdoutRow(decision: Pick<ViewerServingDecision, 'name' | 'intervalQ' | 'intervalKappa'>, r: Scored): ViewerHoldoutRow {
  const band = logBand(servedValue(decision.name, () => r.model, r.values), decision.intervalQ * inflation(decision.intervalKappa ?? 0, r.c.ctx.profileSessions));
  return {
    channel: channelKey(r.c.h), streamId: r.c.s.streamId, startedAt: r.c.s.startedAt, actual: r.actual, model: r.model,
    baselines: r.values, lastWeekSeen: r.lastWeekSeen, low: band.low, high: band.high,
  };
}

/**
 * The holdout rows of a trained model on another history of the same channels: every session starting
 * at or after `splitAt`, scored as training scores its own holdout (same net, stacking weight, serving
 * decision and interval). The evaluation (evaluate.ts) scores fresh noise draws of the holdout week with it.
 */
export function viewerHoldoutRows(trained: ViewerScorer & { serving: ViewerServingDecision }, histories: ChannelHistory[], splitAt: number): ViewerHoldoutRow[] {
  return scoreCandidates(trained, candidates(histories, splitAt)).map((r) => holdoutRow(trained.serving, r));
}
