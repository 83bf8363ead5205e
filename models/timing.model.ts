import { channelKey, type ChannelHistory, type HourRecord } from './channel-history';
import {
  buildVocabulary, channelContext, ChannelContext, featureNames, fitNormalization, HOUR_MS, hourOfWeek, normalize,
  Normalization, SLOTS_PER_WEEK, TIMING_FEATURE_NAMES, timingFeatures, Vocabulary, WEEK_MS, DAY_MS, seasonalSlot, channelProfile, pooledProfilePrior, profilePriorMetrics, type ProfilePrior,
} from './features';
import { profileHour, quietHour, streamDay } from './profile.fit';
import { bestSlotChances, rankByChance, rankNoiseOf, type RankNoise } from './slot-ranking';
import { buildMlp, fitMlp, gaussianNll, predictRows, TrainingOptions, TrainingOutcome } from './mlp';
import { argMax, expectedHitAtK, round } from './evaluation';
import { CALIBRATION_DAYS, conformalQuantile, logBand, logError } from './calibration';
import { InsufficientDataError } from './errors';
import type { tf } from './tf.backend';

/**
 * Optimal streaming time: for one channel, a score for each of the 168 UTC hour-of-week slots — the
 * viewers it can expect while live in that hour, with an uncertainty. Slots are ranked by the median
 * (typical) outcome: ranking by the mean would favour slots only because they are uncertain. One sample per live hour, with
 * features as of the start of its session; the network outputs the mean and log-variance of log((v+1)/(level+1))
 * (Gaussian likelihood), so each slot carries its own spread.
 */
export type TimingTrainingOptions = TrainingOptions;

export const TIMING_DEFAULTS = { epochs: 30, batchSize: 64, maxStepsPerEpoch: 16, learningRate: 0.003, hidden: [8], l2: 0.01 };
export const MIN_TRAIN_HOURS = 100;
/** A holdout hour counts when the channel was live for most of it. */
const MIN_SAMPLE_MINUTES = 45;
/** Channels need this many distinct observed holdout slots to be ranked in the evaluation. */
const MIN_EVAL_SLOTS = 4;
/** The Gaussian 80 % half-width in sigmas: what an artifact without a calibrated width uses. */
export const Z80 = 1.2816;

/** With the profile's pooled prior (features.ts ProfilePrior: weekday effects and labels, competition coefficient). */
export interface TimingScorer extends ProfilePrior {
  model: tf.LayersModel;
  normalization: Normalization;
  vocabulary: Vocabulary;
  /** Half-width of the 80 % interval in predicted sigmas, conformally calibrated (Z80 when uncalibrated). */
  intervalZ?: number;
  /** How much of the net's correction over the profile prior is applied, chosen on the calibration hours (absent: all). */
  residualWeight?: number;
  /**
   * How the log errors of the calibration hours split into a part shared by a stream day's hours and each
   * hour's own (slot-ranking.ts): slots are ranked by their chance of being the best. Absent: by the median.
   */
  rankNoise?: RankNoise;
}

/** Ranking methods scored on the same holdout slots. */
export const TIMING_METHODS = ['model', 'channel-mean', 'same-hour-last-week', 'channel-hour-of-week'] as const;
export type TimingMethod = (typeof TIMING_METHODS)[number];
export type TimingServing = 'timing' | 'baseline:channel-hour-of-week';

/**
 * What a trained timing model serves: the net, or — when it ranked the holdout worse than the
 * channel × hour-of-week baseline (its own prior) — that baseline, named as such.
 */
export interface TimingServingDecision {
  name: TimingServing;
  bestBaseline: Exclude<TimingMethod, 'model'>;
  bestBaselineHitAt3: number;
  modelHitAt3: number;
  channels: number;
  /** Conformal 80 % half-width of the baseline's log-space band (used when the baseline is served). */
  baselineIntervalQ: number;
}

/** One channel's ranking evaluation: the hour-of-week slots it streamed in the holdout, their actual mean viewers and each method's scores. */
export interface TimingHoldoutRow {
  channel: string;
  slots: number[];
  /** Mean actual viewers of the holdout hours in each slot. */
  actual: number[];
  scores: Record<TimingMethod, number[]>;
}

export interface SlotScore {
  /** 0 = Monday 00:00 UTC … 167 = Sunday 23:00 UTC. */
  hourOfWeek: number;
  /** The next start of this slot after the recommendation was made (ISO, UTC). */
  startsAt: string;
  expectedViewers: number;
  /** The typical (median) outcome: half of such hours do better. */
  medianViewers: number;
  /** Standard deviation of viewers in the slot (model uncertainty + noise). */
  stdViewers: number;
  /** 80 % interval. */
  low: number;
  high: number;
  /**
   * The chance that this slot is the best of the slots scored together (the week's hours), with the hours
   * of one stream day moving together (slot-ranking.ts). Absent when the model ranks by the median.
   */
  bestChance?: number;
}

export interface TrainedTimingModel extends TimingScorer, TrainingOutcome {
  holdout: TimingHoldoutRow[];
  serving: TimingServingDecision;
}

interface Candidate {
  x: HourRecord;
  ctx: ChannelContext;
  /** The channel and the instant its context is as of (its stream's first hour): which hours share a stream. */
  channel: string;
  stream: number;
}

/**
 * One sample per live hour, with the channel's context as of the start of the hour its session began
 * in (an hour of no ended session: as of the hour itself). As when a recommendation is made, nothing
 * of the stream being scored is known yet — the earlier hours of the same session, which share its
 * audience swing, are not features of the later ones — and a session's hours share one context, so
 * training builds a context per session instead of per hour.
 */
function candidates(h: ChannelHistory, from = -Infinity): Candidate[] {
  const out: Candidate[] = [];
  const contexts = new Map<number, ReturnType<typeof channelContext>>();
  let k = 0;
  for (const x of h.hours) {
    if (x.liveMinutes < MIN_SAMPLE_MINUTES || x.hourStart < from) continue;
    while (k < h.sessions.length && h.sessions[k]!.endedAt <= x.hourStart) k++;
    const s = h.sessions[k];
    const asOf = s && s.startedAt < x.hourStart + HOUR_MS ? Math.floor(s.startedAt / HOUR_MS) * HOUR_MS : x.hourStart;
    let r = contexts.get(asOf);
    if (!r) contexts.set(asOf, (r = channelContext(h, asOf)));
    if (r.ok) out.push({ x, ctx: r.ctx, channel: channelKey(h), stream: asOf });
  }
  return out;
}

/**
 * The prior of a slot, relative to the channel's hourly level: the channel's fitted audience profile
 * (profile.fit.ts: a smooth daily curve plus weekday effects shrunk toward the ones all channels share)
 * at that hour. Unlike one slot's own mean, it borrows from every live hour of the channel, so a slot
 * seen once or never is ranked by what the rest of the week says about it. The network learns the
 * correction on top of it (trend, followers, what other channels teach), so with little signal it is
 * the profile.
 */
export function slotPrior(ctx: ChannelContext, slotStart: number, prior: ProfilePrior = {}): number {
  return Math.log((profileHour(channelProfile(ctx, prior), slotStart) + 1) / (ctx.hourlyLevel + 1));
}

/** The channel × hour-of-week baseline as slot scores (served when the net lost to it on the holdout). */
export function baselineSlots(ctx: ChannelContext, slotStarts: number[], q: number): SlotScore[] {
  return slotStarts.map((t) => {
    const v = seasonalSlot(ctx, hourOfWeek(t));
    const band = logBand(v, q);
    return { hourOfWeek: hourOfWeek(t), startsAt: new Date(t).toISOString(), expectedViewers: v, medianViewers: v, stdViewers: (band.high - band.low) / (2 * Z80), low: band.low, high: band.high };
  });
}

/** Scores of (context, hour start) pairs in one batch — the serving and evaluation path. */
export function scoreHours(scorer: TimingScorer, items: Array<{ ctx: ChannelContext; t: number }>): SlotScore[] {
  const z = scorer.intervalZ ?? Z80;
  return predictHours(scorer, items).map(({ mu, sigma }, i) => {
    const { ctx, t } = items[i]!;
    const base = ctx.hourlyLevel + 1;
    // Log-normal: mean = exp(mu + sigma²/2), sigma² = exp(logVar).
    const expected = base * Math.exp(mu + sigma * sigma / 2);
    return {
      hourOfWeek: hourOfWeek(t),
      startsAt: new Date(t).toISOString(),
      expectedViewers: Math.max(0, expected - 1),
      medianViewers: Math.max(0, base * Math.exp(mu) - 1),
      stdViewers: expected * Math.sqrt(Math.max(0, Math.exp(sigma * sigma) - 1)),
      low: Math.max(0, base * Math.exp(mu - z * sigma) - 1),
      high: Math.max(0, base * Math.exp(mu + z * sigma) - 1),
    };
  });
}

/** The net's log-space prediction of each hour: mean mu and sigma of log((v+1)/(hourlyLevel+1)). */
function predictHours(scorer: TimingScorer, items: Array<{ ctx: ChannelContext; t: number }>): Array<{ mu: number; sigma: number }> {
  const x = normalize(items.map((i) => timingFeatures(i.ctx, i.t, scorer.vocabulary)), scorer.normalization);
  return predictRows(scorer.model, x).map(([correction, rawLogVar], i) => ({
    mu: (scorer.residualWeight ?? 1) * correction! + slotPrior(items[i]!.ctx, items[i]!.t, scorer),
    sigma: Math.exp(Math.min(5, Math.max(-7, rawLogVar!)) / 2),
  }));
}

const hourTarget = (c: { x: HourRecord; ctx: ChannelContext }): number => Math.log((c.x.viewers + 1) / (c.ctx.hourlyLevel + 1));

/**
 * Scores of the given slot starts for one channel context. With the scorer's rank noise each slot also
 * carries its chance of being the best of them; the hours of one of the channel's stream days (starting
 * at its least-live hour, so a stream past midnight stays on its day) share that day's swing.
 */
export function scoreSlots(scorer: TimingScorer, ctx: ChannelContext, slotStarts: number[]): SlotScore[] {
  const scores = scoreHours(scorer, slotStarts.map((t) => ({ ctx, t })));
  if (!scorer.rankNoise) return scores;
  const dayStart = quietHour(ctx.seasonal.slots.flat());
  const chances = bestSlotChances(scores.map((s) => Math.log(s.medianViewers + 1)), slotStarts.map((t) => streamDay(t, dayStart)), scorer.rankNoise);
  return scores.map((s, i) => ({ ...s, bestChance: chances[i]! }));
}

/** The 168 slot starts of the week after `asOf` (the next occurrence of every hour of the week). */
export function nextWeekSlots(asOf: number): number[] {
  const first = Math.ceil(asOf / HOUR_MS) * HOUR_MS;
  return Array.from({ length: SLOTS_PER_WEEK }, (_, k) => first + k * HOUR_MS);
}

const RESIDUAL_WEIGHTS = [0, 0.25, 0.5, 0.75, 1];

function chooseResidualWeight(scorer: TimingScorer, hours: Candidate[]): number {
  let best = { w: 0, sse: Infinity };
  for (const w of RESIDUAL_WEIGHTS) {
    const p = predictHours({ ...scorer, residualWeight: w }, hours.map((c) => ({ ctx: c.ctx, t: c.x.hourStart })));
    const sse = hours.reduce((a, c, i) => a + (hourTarget(c) - p[i]!.mu) ** 2, 0);
    if (sse < best.sse - 1e-9) best = { w, sse };
  }
  return best.w;
}

export async function trainTimingModel(histories: ChannelHistory[], o: TimingTrainingOptions): Promise<TrainedTimingModel> {
  const perChannel = histories.map((h) => ({ h, cands: candidates(h) }));
  const all = perChannel.flatMap((p) => p.cands);
  // Time split: train | calibrate the interval (CALIBRATION_DAYS before the holdout) | holdout.
  // A history too short to spare the week trains on all of it and calibrates in-sample (calibration_hours = 0).
  let calibrateFrom = o.splitAt - CALIBRATION_DAYS * DAY_MS;
  if (all.filter((c) => c.x.hourStart + HOUR_MS <= calibrateFrom).length < MIN_TRAIN_HOURS) calibrateFrom = o.splitAt;
  const train = all.filter((c) => c.x.hourStart + HOUR_MS <= calibrateFrom);
  const calibration = all.filter((c) => c.x.hourStart >= calibrateFrom && c.x.hourStart + HOUR_MS <= o.splitAt);
  const holdout = all.filter((c) => c.x.hourStart >= o.splitAt);
  if (train.length < MIN_TRAIN_HOURS) {
    throw new InsufficientDataError(`timing: ${train.length} usable live hours before the holdout; need at least ${MIN_TRAIN_HOURS}`, {
      have: train.length, need: MIN_TRAIN_HOURS, what: 'training live hours',
    });
  }
  if (holdout.length === 0) throw new InsufficientDataError('timing: no live hours in the holdout period to evaluate on', { have: 0, need: 1, what: 'holdout hours' });

  const vocabulary = buildVocabulary(train.map((c) => c.ctx.platform), train.map((c) => c.ctx.category));
  // Pooled from what every channel had seen when training data ends (nothing of the calibration week or holdout).
  const asOfTraining = histories.flatMap((h) => {
    const r = channelContext(h, calibrateFrom);
    return r.ok ? [r.ctx] : [];
  });
  const prior = pooledProfilePrior(asOfTraining);
  const xTrain = train.map((c) => timingFeatures(c.ctx, c.x.hourStart, vocabulary));
  const normalization = fitNormalization(xTrain);
  const model = buildMlp({ inputDim: xTrain[0]!.length, hidden: o.hidden, outputs: 2, seed: o.seed, l2: o.l2 });
  const fit = await fitMlp(
    model,
    normalize(xTrain, normalization),
    // The second column is a placeholder: the loss reads the log-variance from the prediction only.
    train.map((c) => [hourTarget(c) - slotPrior(c.ctx, c.x.hourStart, prior), 0]),
    { epochs: o.epochs, batchSize: o.batchSize, maxStepsPerEpoch: o.maxStepsPerEpoch, learningRate: o.learningRate, seed: o.seed, loss: gaussianNll, onEpoch: o.onEpoch },
  );
  const scorer: TimingScorer = { model, normalization, vocabulary, ...prior };
  // Conformal width: |error| / sigma on the calibration hours (in-sample when there are too few).
  const calibrating = calibration.length >= 20 ? calibration : train;
  // Stacking weight of the net over the profile, by squared log error on the calibration hours (none: the profile alone).
  scorer.residualWeight = calibration.length >= 20 ? chooseResidualWeight(scorer, calibration) : 0;
  const calibrated = predictHours(scorer, calibrating.map((c) => ({ ctx: c.ctx, t: c.x.hourStart })));
  scorer.intervalZ = conformalQuantile(calibrating.map((c, i) => Math.abs(hourTarget(c) - calibrated[i]!.mu) / calibrated[i]!.sigma));
  // How those errors split between a stream day and its hours: what ranking by the chance of being best needs.
  const rankNoise = rankNoiseOf(calibrating.map((c, i) => ({ channel: c.channel, stream: String(c.stream), error: hourTarget(c) - calibrated[i]!.mu })));
  if (rankNoise) scorer.rankNoise = rankNoise;

  const { rows, inside, hours: holdoutHours } = timingHoldout(scorer, histories, o.splitAt, holdout);
  const evaluated = rows.length;
  const hits = Object.fromEntries(TIMING_METHODS.map((m) => [m, rows.reduce((a, row) => a + expectedHitAtK(row.scores[m], argMax(row.actual)), 0)])) as Record<TimingMethod, number>;
  const randomHits = rows.reduce((a, row) => a + Math.min(1, 3 / row.slots.length), 0);
  if (evaluated === 0) throw new InsufficientDataError(`timing: no channel streamed in at least ${MIN_EVAL_SLOTS} distinct slots during the holdout`, { have: 0, need: 1, what: 'evaluable channels' });
  const rate = (n: number) => round(n / evaluated);
  const baselines = TIMING_METHODS.filter((m): m is Exclude<TimingMethod, 'model'> => m !== 'model');
  const bestBaseline = [...baselines].sort((a, b) => hits[b] - hits[a])[0]!;
  const baselineIntervalQ = conformalQuantile(calibrating.map((c) => logError(c.x.viewers, seasonalSlot(c.ctx, hourOfWeek(c.x.hourStart)))));
  const serving: TimingServingDecision = {
    name: hits.model >= hits[bestBaseline] ? 'timing' : 'baseline:channel-hour-of-week',
    bestBaseline, bestBaselineHitAt3: rate(hits[bestBaseline]), modelHitAt3: rate(hits.model), channels: evaluated, baselineIntervalQ,
  };
  const metrics = {
    hit_rate_at_3: rate(hits.model),
    random_hit_rate_at_3: rate(randomHits),
    baseline_channel_mean_hit_rate_at_3: rate(hits['channel-mean']),
    baseline_last_week_hit_rate_at_3: rate(hits['same-hour-last-week']),
    baseline_channel_hour_of_week_hit_rate_at_3: rate(hits['channel-hour-of-week']),
    best_baseline_hit_rate_at_3: rate(hits[bestBaseline]),
    serves_baseline: serving.name === 'timing' ? 0 : 1,
    channels_evaluated: evaluated,
    interval80_z: round(scorer.intervalZ),
    interval80_coverage: round(inside / holdoutHours),
    calibration_hours: calibration.length,
    residual_weight: scorer.residualWeight,
    ...(scorer.rankNoise ? { rank_noise_day_sd: round(scorer.rankNoise.day), rank_noise_hour_sd: round(scorer.rankNoise.hour) } : {}),
    ...profilePriorMetrics(scorer),
    train_loss: round(fit.finalLoss, 6),
    samples_per_second: round((fit.samples * fit.epochs) / Math.max(0.001, fit.trainMs / 1000), 1),
  };
  return {
    ...scorer,
    featureNames: featureNames(TIMING_FEATURE_NAMES, vocabulary),
    metrics,
    fit,
    trainSamples: train.length,
    holdoutSamples: holdout.length,
    channels: histories.length,
    holdout: rows,
    serving,
  };
}

/**
 * A trained timing model on the holdout of `histories` (hours from `splitAt` on): how many live hours
 * fall inside their 80 % interval, and one ranking row per channel — as of the split, the slots it
 * actually streamed in the holdout, ranked by every method; a hit is the actual best slot among the top 3.
 * Training scores its own holdout with it; the evaluation (evaluate.ts) fresh noise draws of the holdout week.
 */
export function timingHoldout(scorer: TimingScorer, histories: ChannelHistory[], splitAt: number, holdoutHours?: Candidate[]): { rows: TimingHoldoutRow[]; inside: number; hours: number } {
  const holdout = holdoutHours ?? histories.flatMap((h) => candidates(h, splitAt));
  // How often the actual viewers fall inside the 80 % interval.
  const holdoutScores = scoreHours(scorer, holdout.map((c) => ({ ctx: c.ctx, t: c.x.hourStart })));
  const inside = holdout.filter((c, i) => c.x.viewers >= holdoutScores[i]!.low && c.x.viewers <= holdoutScores[i]!.high).length;

  // Ranking: as of the split, rank the slots each channel actually streamed in the holdout; a hit is
  // the actual best slot among the top 3. Random and the baselines are scored on the same slots.
  const rows: TimingHoldoutRow[] = [];
  for (const h of histories) {
    const r = channelContext(h, splitAt);
    if (!r.ok) continue;
    const groups = new Map<number, number[]>();
    for (const x of h.hours) {
      if (x.hourStart < splitAt || x.liveMinutes < MIN_SAMPLE_MINUTES) continue;
      const how = hourOfWeek(x.hourStart);
      groups.set(how, [...(groups.get(how) ?? []), x.viewers]);
    }
    if (groups.size < MIN_EVAL_SLOTS) continue;
    const slots = [...groups.keys()].sort((a, b) => a - b);
    const actual = slots.map((s) => groups.get(s)!.reduce((a, b) => a + b, 0) / groups.get(s)!.length);
    const splitHour = Math.floor(splitAt / HOUR_MS) * HOUR_MS;
    const starts = slots.map((s) => splitHour + (((s - hourOfWeek(splitHour)) % SLOTS_PER_WEEK) + SLOTS_PER_WEEK) % SLOTS_PER_WEEK * HOUR_MS);
    rows.push({
      channel: channelKey(h),
      slots,
      actual,
      scores: {
        model: rankByChance(scoreSlots(scorer, r.ctx, starts)),
        'channel-mean': slots.map(() => r.ctx.channelMean),
        'same-hour-last-week': starts.map((t) => r.ctx.hourAt.get(t - WEEK_MS)?.viewers ?? -1),
        'channel-hour-of-week': slots.map((s) => seasonalSlot(r.ctx, s)),
      },
    });
  }
  return { rows, inside, hours: holdout.length };
}
