import crypto from 'node:crypto';
import type { ClickHouseRepository } from '../shared/clickhouse/clickhouse.repository';
import type { Logger } from '../shared/logging/logger';
import { ModelKind, newVersion, saveArtifact } from './artifact.store';
import { channelKey } from './channel-history';
import { DAY_MS, LOOKBACK_DAYS, profilePriorOf } from './features';
import { loadHistories } from './history.repository';
import { ModelRunsRepository } from './model-runs.repository';
import { BackendPreference, useBackend } from './tf.backend';
import { trainTimingModel, TIMING_DEFAULTS } from './timing.model';
import { trainViewerModel, VIEWER_DEFAULTS } from './viewers.model';
import { InsufficientDataError, UnknownChannelError } from './errors';

/**
 * One training run: read history from ClickHouse, split by time (the last MODELS_HOLDOUT_DAYS are the
 * holdout), train each requested model, evaluate it against the baselines of the same run, save a
 * versioned artifact and record the run in model_runs — failed runs included, with their error.
 */
export interface TrainingProgress {
  begin(model: ModelKind, epochs: number): void;
  epoch(model: ModelKind, epoch: number, loss: number): void;
  end(model: ModelKind): void;
}

export interface TrainOptions {
  models: ModelKind[];
  channels?: Array<{ platform?: string; channelId: string }>;
  /** Epoch ms; default 180 days before now. */
  since?: number;
  until?: number;
  seed: number;
  holdoutDays: number;
  /** Override the default epochs per model (tests keep training short). */
  epochs?: Partial<Record<ModelKind, number>>;
  trigger: 'cli' | 'schedule' | 'test' | 'first-start';
  backend: BackendPreference;
  modelsDir: string;
  progress?: TrainingProgress;
  /** "Now" of the data (default Date.now): the default `since` is 180 days before it. */
  now?: () => number;
}

export interface TrainingSummary {
  model: ModelKind;
  runId: string;
  version: string;
  artifactPath: string;
  backend: string;
  metrics: Record<string, number>;
  /** What the registry serves from this artifact: the net, or the baseline it lost to on the holdout. */
  serving: string;
  trainSamples: number;
  holdoutSamples: number;
  channels: number;
  durationMs: number;
}

export async function trainModels(deps: { repo: ClickHouseRepository; logger: Logger }, o: TrainOptions): Promise<TrainingSummary[]> {
  const log = deps.logger.child({ module: 'models.trainer' });
  // Wall clock for run times and versions; o.now only moves the default `since` (tests with fixed data).
  const now = Date.now;
  const runs = new ModelRunsRepository(deps.repo);
  const backend = await useBackend(o.backend, log);
  const since = o.since ?? (o.now ?? Date.now)() - 180 * DAY_MS;
  const histories = await loadHistories(deps.repo, { since, until: o.until, channels: o.channels });
  for (const wanted of o.channels ?? []) {
    if (!histories.some((h) => h.channelId === wanted.channelId && (wanted.platform === undefined || h.platform === wanted.platform))) {
      throw new UnknownChannelError(wanted.platform ? `${wanted.platform}:${wanted.channelId}` : wanted.channelId);
    }
  }
  if (histories.length === 0) {
    throw new InsufficientDataError(`no training data: ClickHouse has no ended stream sessions since ${new Date(since).toISOString()} (run \`spacehub backfill\` or let the pipeline collect some weeks)`, {
      have: 0, need: 1, what: 'stream sessions',
    });
  }
  const dataFrom = Math.min(...histories.map((h) => h.sessions[0]!.startedAt));
  const dataTo = Math.max(...histories.map((h) => h.sessions[h.sessions.length - 1]!.endedAt));
  const splitAt = dataTo - o.holdoutDays * DAY_MS;
  const spanDays = (dataTo - dataFrom) / DAY_MS;
  if (splitAt - dataFrom < 14 * DAY_MS) {
    throw new InsufficientDataError(`not enough history: ${spanDays.toFixed(1)} days of sessions; training needs at least ${o.holdoutDays + 14} (14 before the ${o.holdoutDays}-day holdout)`, {
      have: Math.floor(spanDays), need: o.holdoutDays + 14, what: 'days of history',
    });
  }
  log.info({ channels: histories.length, sessions: histories.reduce((a, h) => a + h.sessions.length, 0), from: new Date(dataFrom).toISOString(), to: new Date(dataTo).toISOString(), holdoutFrom: new Date(splitAt).toISOString() }, 'training data loaded');

  const summaries: TrainingSummary[] = [];
  for (const kind of o.models) {
    const runId = crypto.randomUUID();
    const startedAt = now();
    const defaults = kind === 'viewers' ? VIEWER_DEFAULTS : TIMING_DEFAULTS;
    const params = {
      ...defaults,
      epochs: o.epochs?.[kind] ?? defaults.epochs,
      holdoutDays: o.holdoutDays,
      lookbackDays: LOOKBACK_DAYS,
      since: new Date(since).toISOString(),
      until: o.until ? new Date(o.until).toISOString() : null,
      channels: (o.channels ?? []).map((c) => (c.platform ? channelKey(c as { platform: string; channelId: string }) : c.channelId)),
    };
    const base = { runId, model: kind, seed: o.seed, trigger: o.trigger, backend, params, dataFrom, dataTo, holdoutFrom: splitAt, channels: histories.length, startedAt };
    try {
      o.progress?.begin(kind, params.epochs);
      const onEpoch = (e: number, loss: number) => o.progress?.epoch(kind, e, loss);
      const opts = { ...params, splitAt, seed: o.seed, onEpoch };
      const trained = kind === 'viewers' ? await trainViewerModel(histories, opts) : await trainTimingModel(histories, opts);
      o.progress?.end(kind);
      const version = newVersion(new Date(now()), runId);
      const artifactPath = await saveArtifact(o.modelsDir, trained.model, {
        model: kind,
        version,
        runId,
        createdAt: new Date(now()).toISOString(),
        backend,
        seed: o.seed,
        featureNames: trained.featureNames,
        normalization: trained.normalization,
        vocabulary: trained.vocabulary,
        target: kind === 'viewers' ? 'log_ratio_to_session_level' : 'log_ratio_to_hourly_level_gaussian',
        lookbackDays: LOOKBACK_DAYS,
        metrics: trained.metrics,
        serving: trained.serving,
        intervalZ: 'intervalZ' in trained ? trained.intervalZ : undefined,
        ...profilePriorOf(trained),
        residualWeight: trained.residualWeight,
        rankNoise: 'rankNoise' in trained ? trained.rankNoise : undefined,
        dataRange: { from: new Date(dataFrom).toISOString(), to: new Date(dataTo).toISOString(), holdoutFrom: new Date(splitAt).toISOString() },
        params,
      });
      trained.model.dispose();
      const finishedAt = now();
      await runs.record({ ...base, version, status: 'succeeded', metrics: trained.metrics, trainSamples: trained.trainSamples, holdoutSamples: trained.holdoutSamples, finishedAt, artifactPath, error: '' });
      log.info({ model: kind, version, serving: trained.serving.name, metrics: trained.metrics, durationMs: finishedAt - startedAt }, 'model trained');
      if (trained.serving.name !== kind) log.warn({ model: kind, version, serving: trained.serving }, 'the trained net lost to a baseline on its holdout: the registry serves that baseline');
      summaries.push({ model: kind, runId, version, artifactPath, backend, metrics: trained.metrics, serving: trained.serving.name, trainSamples: trained.trainSamples, holdoutSamples: trained.holdoutSamples, channels: histories.length, durationMs: finishedAt - startedAt });
    } catch (err) {
      o.progress?.end(kind);
      await runs
        .record({ ...base, version: '', status: 'failed', metrics: {}, trainSamples: 0, holdoutSamples: 0, finishedAt: now(), artifactPath: '', error: (err as Error).message })
        .catch((e: unknown) => log.warn({ err: e }, 'could not record the failed run'));
      throw err;
    }
  }
  return summaries;
}
