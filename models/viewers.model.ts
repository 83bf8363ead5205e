import type { ChannelHistory, SessionRecord } from './channel-history';
import {
  buildVocabulary, channelContext, ChannelContext, featureNames, fitNormalization, normalize, Normalization,
  sameHourLastWeek, VIEWER_FEATURE_NAMES, viewerFeatures, Vocabulary,
} from './features';
import { buildMlp, fitMlp, predictRows, TrainingOptions, TrainingOutcome, weightedHuber } from './mlp';
import { mae, mape, round } from './evaluation';
import { InsufficientDataError } from './errors';
import type { tf } from './tf.backend';

/**
 * Viewer potential: the expected average viewers of a stream a channel starts at a given time and runs
 * for a given duration. One sample per ended session, with features as of its start. The network
 * predicts log((avg+1)/(level+1)) — the session relative to the channel's recent level — so big and
 * small channels share what they teach about hours, weekdays and trends.
 */
export type ViewerTrainingOptions = TrainingOptions;

export const VIEWER_DEFAULTS = { epochs: 60, batchSize: 64, learningRate: 0.003, hidden: [8], l2: 0.01 };
export const MIN_TRAIN_SESSIONS = 30;

export interface ViewerScorer {
  model: tf.LayersModel;
  normalization: Normalization;
  vocabulary: Vocabulary;
}

export interface TrainedViewerModel extends ViewerScorer, TrainingOutcome {}

interface Candidate {
  s: SessionRecord;
  ctx: ChannelContext;
}

function candidates(histories: ChannelHistory[]): Candidate[] {
  const out: Candidate[] = [];
  for (const h of histories) {
    for (const s of h.sessions) {
      const r = channelContext(h, s.startedAt);
      if (r.ok) out.push({ s, ctx: r.ctx });
    }
  }
  return out;
}

/** Error weight of a sample: an error in log space costs viewers in proportion to the channel's level. */
const sampleWeight = (level: number): number => level + 1;

export const viewersFromOutput = (ctx: ChannelContext, out: number): number => Math.max(0, (ctx.level + 1) * Math.exp(out) - 1);

/** Expected average viewers for each (context, start, duration) — the serving and evaluation path. */
export function scoreViewers(scorer: ViewerScorer, items: Array<{ ctx: ChannelContext; start: number; durationMs: number; category: string | null }>): number[] {
  const x = normalize(items.map((i) => viewerFeatures(i.ctx, i.start, i.durationMs, i.category, scorer.vocabulary)), scorer.normalization);
  return predictRows(scorer.model, x).map((row, k) => viewersFromOutput(items[k]!.ctx, row[0]!));
}

export async function trainViewerModel(histories: ChannelHistory[], o: ViewerTrainingOptions): Promise<TrainedViewerModel> {
  const all = candidates(histories);
  const train = all.filter((c) => c.s.endedAt <= o.splitAt);
  const holdout = all.filter((c) => c.s.startedAt >= o.splitAt);
  if (train.length < MIN_TRAIN_SESSIONS) {
    throw new InsufficientDataError(`viewers: ${train.length} usable training sessions before the holdout; need at least ${MIN_TRAIN_SESSIONS} (channels need some weeks of history)`, {
      have: train.length, need: MIN_TRAIN_SESSIONS, what: 'training sessions',
    });
  }
  if (holdout.length === 0) throw new InsufficientDataError('viewers: no sessions in the holdout period to evaluate on', { have: 0, need: 1, what: 'holdout sessions' });

  const vocabulary = buildVocabulary(train.map((c) => c.ctx.platform), train.map((c) => c.s.category ?? c.ctx.category));
  const rows = (cs: Candidate[]) => cs.map((c) => viewerFeatures(c.ctx, c.s.startedAt, c.s.endedAt - c.s.startedAt, c.s.category, vocabulary));
  const xTrain = rows(train);
  const normalization = fitNormalization(xTrain);
  const model = buildMlp({ inputDim: xTrain[0]!.length, hidden: o.hidden, outputs: 2, seed: o.seed, l2: o.l2 });
  const fit = await fitMlp(
    model,
    normalize(xTrain, normalization),
    train.map((c) => [Math.log((c.s.avgViewers + 1) / (c.ctx.level + 1)), sampleWeight(c.ctx.level)]),
    { epochs: o.epochs, batchSize: o.batchSize, learningRate: o.learningRate, seed: o.seed, loss: weightedHuber, onEpoch: o.onEpoch },
  );

  const scorer = { model, normalization, vocabulary };
  const score = (cs: Candidate[]) => scoreViewers(scorer, cs.map((c) => ({ ctx: c.ctx, start: c.s.startedAt, durationMs: c.s.endedAt - c.s.startedAt, category: c.s.category })));
  const actual = holdout.map((c) => c.s.avgViewers);
  const predicted = score(holdout);
  // Baselines of the same run: the channel's mean so far, and the same hours one week earlier
  // (falling back to the channel mean when the channel was offline then).
  const channelMean = holdout.map((c) => c.ctx.channelMean);
  const lastWeekRaw = holdout.map((c) => sameHourLastWeek(c.ctx, c.s.startedAt, c.s.endedAt - c.s.startedAt));
  const lastWeek = lastWeekRaw.map((v, i) => v ?? channelMean[i]!);
  const trainActual = train.map((c) => c.s.avgViewers);
  const metrics = {
    mae: round(mae(actual, predicted)),
    mape: round(mape(actual, predicted)),
    baseline_channel_mean_mae: round(mae(actual, channelMean)),
    baseline_channel_mean_mape: round(mape(actual, channelMean)),
    baseline_last_week_mae: round(mae(actual, lastWeek)),
    baseline_last_week_mape: round(mape(actual, lastWeek)),
    baseline_last_week_coverage: round(lastWeekRaw.filter((v) => v !== null).length / holdout.length),
    train_mae: round(mae(trainActual, score(train))),
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
  };
}
