import type { ChannelHistory, HourRecord } from './channel-history';
import {
  buildVocabulary, channelContext, ChannelContext, featureNames, fitNormalization, HOUR_MS, hourOfWeek, normalize,
  Normalization, SLOTS_PER_WEEK, TIMING_FEATURE_NAMES, timingFeatures, Vocabulary, WEEK_MS,
} from './features';
import { buildMlp, fitMlp, gaussianNll, predictRows, TrainingOptions, TrainingOutcome } from './mlp';
import { argMax, expectedHitAtK, round } from './evaluation';
import { InsufficientDataError } from './errors';
import type { tf } from './tf.backend';

/**
 * Optimal streaming time: for one channel, a score for each of the 168 UTC hour-of-week slots — the
 * viewers it can expect while live in that hour, with an uncertainty. Slots are ranked by the median
 * (typical) outcome: ranking by the mean would favour slots only because they are uncertain. One sample per live hour, with
 * features as of that hour; the network outputs the mean and log-variance of log((v+1)/(level+1))
 * (Gaussian likelihood), so each slot carries its own spread.
 */
export type TimingTrainingOptions = TrainingOptions;

export const TIMING_DEFAULTS = { epochs: 30, batchSize: 64, learningRate: 0.003, hidden: [8], l2: 0.01 };
export const MIN_TRAIN_HOURS = 100;
/** A holdout hour counts when the channel was live for most of it. */
const MIN_SAMPLE_MINUTES = 45;
/** Channels need this many distinct observed holdout slots to be ranked in the evaluation. */
const MIN_EVAL_SLOTS = 4;
const Z80 = 1.2816;

export interface TimingScorer {
  model: tf.LayersModel;
  normalization: Normalization;
  vocabulary: Vocabulary;
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
}

export interface TrainedTimingModel extends TimingScorer, TrainingOutcome {}

interface Candidate {
  x: HourRecord;
  ctx: ChannelContext;
}

function candidates(h: ChannelHistory): Candidate[] {
  const out: Candidate[] = [];
  for (const x of h.hours) {
    if (x.liveMinutes < MIN_SAMPLE_MINUTES) continue;
    const r = channelContext(h, x.hourStart);
    if (r.ok) out.push({ x, ctx: r.ctx });
  }
  return out;
}

/**
 * The seasonal prior of a slot: the channel's own history at this hour of the week, else at this hour of
 * the day, else its level. The network learns the correction on top of it (trend, weekday, followers,
 * what other channels teach), so with little signal it falls back to the channel's profile.
 */
export function slotPrior(ctx: ChannelContext, slotStart: number): number {
  const how = hourOfWeek(slotStart);
  return ctx.howProfile[how] ?? ctx.hodProfile[how % 24] ?? 0;
}

/** Scores of (context, hour start) pairs in one batch — the serving and evaluation path. */
export function scoreHours(scorer: TimingScorer, items: Array<{ ctx: ChannelContext; t: number }>): SlotScore[] {
  const x = normalize(items.map((i) => timingFeatures(i.ctx, i.t, scorer.vocabulary)), scorer.normalization);
  return predictRows(scorer.model, x).map(([correction, rawLogVar], i) => {
    const { ctx, t } = items[i]!;
    const mu = correction! + slotPrior(ctx, t);
    const logVar = Math.min(5, Math.max(-7, rawLogVar!));
    const sigma = Math.exp(logVar / 2);
    const base = ctx.hourlyLevel + 1;
    // Log-normal: mean = exp(mu + sigma²/2), sigma² = exp(logVar).
    const expected = base * Math.exp(mu + sigma * sigma / 2);
    return {
      hourOfWeek: hourOfWeek(t),
      startsAt: new Date(t).toISOString(),
      expectedViewers: Math.max(0, expected - 1),
      medianViewers: Math.max(0, base * Math.exp(mu) - 1),
      stdViewers: expected * Math.sqrt(Math.max(0, Math.exp(sigma * sigma) - 1)),
      low: Math.max(0, base * Math.exp(mu - Z80 * sigma) - 1),
      high: Math.max(0, base * Math.exp(mu + Z80 * sigma) - 1),
    };
  });
}

/** Scores of the given slot starts for one channel context. */
export function scoreSlots(scorer: TimingScorer, ctx: ChannelContext, slotStarts: number[]): SlotScore[] {
  return scoreHours(scorer, slotStarts.map((t) => ({ ctx, t })));
}

/** The 168 slot starts of the week after `asOf` (the next occurrence of every hour of the week). */
export function nextWeekSlots(asOf: number): number[] {
  const first = Math.ceil(asOf / HOUR_MS) * HOUR_MS;
  return Array.from({ length: SLOTS_PER_WEEK }, (_, k) => first + k * HOUR_MS);
}

export async function trainTimingModel(histories: ChannelHistory[], o: TimingTrainingOptions): Promise<TrainedTimingModel> {
  const perChannel = histories.map((h) => ({ h, cands: candidates(h) }));
  const all = perChannel.flatMap((p) => p.cands);
  const train = all.filter((c) => c.x.hourStart + HOUR_MS <= o.splitAt);
  const holdout = all.filter((c) => c.x.hourStart >= o.splitAt);
  if (train.length < MIN_TRAIN_HOURS) {
    throw new InsufficientDataError(`timing: ${train.length} usable live hours before the holdout; need at least ${MIN_TRAIN_HOURS}`, {
      have: train.length, need: MIN_TRAIN_HOURS, what: 'training live hours',
    });
  }
  if (holdout.length === 0) throw new InsufficientDataError('timing: no live hours in the holdout period to evaluate on', { have: 0, need: 1, what: 'holdout hours' });

  const vocabulary = buildVocabulary(train.map((c) => c.ctx.platform), train.map((c) => c.ctx.category));
  const xTrain = train.map((c) => timingFeatures(c.ctx, c.x.hourStart, vocabulary));
  const normalization = fitNormalization(xTrain);
  const model = buildMlp({ inputDim: xTrain[0]!.length, hidden: o.hidden, outputs: 2, seed: o.seed, l2: o.l2 });
  const fit = await fitMlp(
    model,
    normalize(xTrain, normalization),
    // The second column is a placeholder: the loss reads the log-variance from the prediction only.
    train.map((c) => [Math.log((c.x.viewers + 1) / (c.ctx.hourlyLevel + 1)) - slotPrior(c.ctx, c.x.hourStart), 0]),
    { epochs: o.epochs, batchSize: o.batchSize, learningRate: o.learningRate, seed: o.seed, loss: gaussianNll, onEpoch: o.onEpoch },
  );
  const scorer: TimingScorer = { model, normalization, vocabulary };

  // Calibration on holdout hours: how often the actual viewers fall inside the 80 % interval.
  const holdoutScores = scoreHours(scorer, holdout.map((c) => ({ ctx: c.ctx, t: c.x.hourStart })));
  const inside = holdout.filter((c, i) => c.x.viewers >= holdoutScores[i]!.low && c.x.viewers <= holdoutScores[i]!.high).length;

  // Ranking: as of the split, rank the slots each channel actually streamed in the holdout; a hit is
  // the actual best slot among the top 3. Random and the baselines are scored on the same slots.
  const hits = { model: 0, random: 0, channelMean: 0, lastWeek: 0, slotMean: 0 };
  let evaluated = 0;
  for (const { h } of perChannel) {
    const r = channelContext(h, o.splitAt);
    if (!r.ok) continue;
    const groups = new Map<number, number[]>();
    for (const x of h.hours) {
      if (x.hourStart < o.splitAt || x.liveMinutes < MIN_SAMPLE_MINUTES) continue;
      const how = hourOfWeek(x.hourStart);
      groups.set(how, [...(groups.get(how) ?? []), x.viewers]);
    }
    if (groups.size < MIN_EVAL_SLOTS) continue;
    const slots = [...groups.keys()].sort((a, b) => a - b);
    const actual = slots.map((s) => groups.get(s)!.reduce((a, b) => a + b, 0) / groups.get(s)!.length);
    const best = argMax(actual);
    const splitHour = Math.floor(o.splitAt / HOUR_MS) * HOUR_MS;
    const starts = slots.map((s) => splitHour + (((s - hourOfWeek(splitHour)) % SLOTS_PER_WEEK) + SLOTS_PER_WEEK) % SLOTS_PER_WEEK * HOUR_MS);
    const modelScores = scoreSlots(scorer, r.ctx, starts).map((s) => s.medianViewers);
    const lastWeekScores = starts.map((t) => r.ctx.hourAt.get(t - WEEK_MS)?.viewers ?? -1);
    const slotMeanScores = slots.map((s) => r.ctx.howProfile[s] ?? -Infinity);
    hits.model += expectedHitAtK(modelScores, best);
    hits.random += Math.min(1, 3 / slots.length);
    hits.channelMean += expectedHitAtK(slots.map(() => r.ctx.channelMean), best);
    hits.lastWeek += expectedHitAtK(lastWeekScores, best);
    hits.slotMean += expectedHitAtK(slotMeanScores, best);
    evaluated++;
  }
  if (evaluated === 0) throw new InsufficientDataError(`timing: no channel streamed in at least ${MIN_EVAL_SLOTS} distinct slots during the holdout`, { have: 0, need: 1, what: 'evaluable channels' });
  const rate = (n: number) => round(n / evaluated);
  const metrics = {
    hit_rate_at_3: rate(hits.model),
    random_hit_rate_at_3: rate(hits.random),
    baseline_channel_mean_hit_rate_at_3: rate(hits.channelMean),
    baseline_last_week_hit_rate_at_3: rate(hits.lastWeek),
    baseline_slot_mean_hit_rate_at_3: rate(hits.slotMean),
    channels_evaluated: evaluated,
    interval80_coverage: round(inside / holdout.length),
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
  };
}
