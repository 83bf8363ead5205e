import { EventEmitter } from 'node:events';
import type { ClickHouseRepository } from '../shared/clickhouse/clickhouse.repository';
import type { Logger } from '../shared/logging/logger';
import { latestVersion, LoadedModel, loadArtifact, MODEL_KINDS, ModelKind } from './artifact.store';
import { ChannelHistory, channelKey, ChannelRef } from './channel-history';
import { channelContext, ChannelContext, DAY_MS, LOOKBACK_DAYS, profilePriorOf, SEASONAL_LOOKBACK_DAYS } from './features';
import { loadHistories } from './history.repository';
import { BackendPreference, useBackend } from './tf.backend';
import { baselineSlots, nextWeekSlots, scoreSlots, SlotScore, TimingServing, TimingServingDecision, Z80 } from './timing.model';
import { scoreViewers, servedValue, viewerBaselines, ViewerServing, ViewerServingDecision } from './viewers.model';
import { explainPrediction, explainSlot, holdoutComparison, HoldoutComparison, SlotReason } from './explanations';
import { inflation, INTERVAL_COVERAGE, logBand } from './calibration';
import { InsufficientDataError, ModelArtifactError, ModelInputError, ModelNotReadyError } from './errors';
import { recommendationOrder } from './slot-ranking';

/**
 * Serving: holds the newest version of each model and answers predictions and recommendations from a
 * channel's recent ClickHouse history. Hot reload: every MODELS_RELOAD_INTERVAL_MS it reads
 * MODELS_DIR/<model>/LATEST (a few bytes) and loads a new version when one appears; a corrupt new
 * artifact is logged and the current model keeps serving. A channel with too little history gets an
 * InsufficientDataError — never a made-up number.
 *
 * Used by the API (api/) and the gateway (gateway/): construct once per process, `await start()`,
 * `close()` on shutdown. Listen to 'reloaded' ({ model, version }) to push fresh recommendations.
 */
export interface ModelRegistryOptions {
  modelsDir: string;
  reloadIntervalMs: number;
  backend: BackendPreference;
  logger: Logger;
  now?: () => number;
  /** How long a channel's history is reused between requests. */
  historyCacheMs?: number;
}

export interface ModelInfo {
  model: ModelKind;
  version: string;
  createdAt: string;
  metrics: Record<string, number>;
}

export interface ViewerPrediction {
  channel: ChannelRef;
  startTime: string;
  durationMinutes: number;
  expectedViewers: number;
  /** Calibrated 80 % interval (conformal on the week before the holdout; `coverage` is the target share). Absent for artifacts from before issue 22. */
  interval?: { low: number; high: number; coverage: number };
  /** The baselines the model is evaluated against, for context. */
  baselines: { channelMean: number; sameHourLastWeek: number | null; channelHourOfWeek: number };
  /** What produced the number: the trained net ('viewers'), or the baseline it lost to on its holdout ('baseline:…'). */
  model: { name: ViewerServing; version: string };
  /** The holdout comparison that decided it: the best baseline and how the net did against it. */
  holdout: HoldoutComparison | null;
  explanation: string;
}

/** A top slot carries the reason a creator can check. */
export type RecommendedSlot = SlotScore & { reason: SlotReason };

export interface SlotRecommendation {
  channel: ChannelRef;
  generatedAt: string;
  /** All 168 UTC hour-of-week slots, in hour-of-week order (0 = Monday 00:00 UTC). */
  slots: SlotScore[];
  /**
   * The best `top` slots, best first, each with its reason: the first by median (typical) viewers, the rest by
   * their chance of being the week's best hour (`bestChance`, slot-ranking.ts), which spreads them over days.
   */
  top: RecommendedSlot[];
  /** The trained net ('timing'), or the baseline it lost to on its holdout. */
  model: { name: TimingServing; version: string };
}

const HISTORY_CACHE_MAX = 1000;
const round1 = (x: number) => Math.round(x * 10) / 10;

export class ModelRegistry extends EventEmitter {
  private readonly loaded = new Map<ModelKind, LoadedModel>();
  private readonly loadErrors = new Map<ModelKind, Error>();
  private readonly cache = new Map<string, { at: number; history: ChannelHistory | null }>();
  private readonly log: Logger;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private started: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly repo: ClickHouseRepository, private readonly o: ModelRegistryOptions) {
    super();
    this.log = o.logger.child({ module: 'models.registry' });
    this.now = o.now ?? Date.now;
  }

  /** Selects the backend, loads what exists (a missing model is not an error yet) and starts polling. */
  start(): Promise<void> {
    this.started ??= (async () => {
      await useBackend(this.o.backend, this.log);
      await this.reload();
      if (!this.closed) {
        this.timer = setInterval(() => void this.reload(), this.o.reloadIntervalMs);
        this.timer.unref();
      }
    })();
    return this.started;
  }

  waitUntilReady(): Promise<void> {
    return this.start();
  }

  /** Loads any model whose LATEST changed. Concurrent calls share one pass. */
  reload(): Promise<void> {
    this.reloading ??= (async () => {
      try {
        for (const kind of MODEL_KINDS) await this.reloadOne(kind);
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  private async reloadOne(kind: ModelKind): Promise<void> {
    const version = latestVersion(this.o.modelsDir, kind);
    if (!version || this.loaded.get(kind)?.meta.version === version || this.closed) return;
    try {
      const next = await loadArtifact(this.o.modelsDir, kind, version);
      const prev = this.loaded.get(kind);
      this.loaded.set(kind, next);
      this.loadErrors.delete(kind);
      prev?.model.dispose();
      this.log.info({ model: kind, version, previous: prev?.meta.version }, 'model loaded');
      this.emit('reloaded', { model: kind, version });
    } catch (err) {
      // Keep serving the previous version; the error is reported once per bad version.
      if (this.loadErrors.get(kind)?.message !== (err as Error).message) this.log.error({ model: kind, version, err }, 'model artifact rejected');
      this.loadErrors.set(kind, err as Error);
    }
  }

  /** What is being served (null = nothing yet). */
  current(): Record<ModelKind, ModelInfo | null> {
    const info = (kind: ModelKind): ModelInfo | null => {
      const m = this.loaded.get(kind);
      return m ? { model: kind, version: m.meta.version, createdAt: m.meta.createdAt, metrics: m.meta.metrics } : null;
    };
    return { viewers: info('viewers'), timing: info('timing') };
  }

  private need(kind: ModelKind): LoadedModel {
    const m = this.loaded.get(kind);
    if (m) return m;
    const err = this.loadErrors.get(kind);
    if (err instanceof ModelArtifactError) throw err;
    throw new ModelNotReadyError(kind, this.o.modelsDir);
  }

  private async history(channel: ChannelRef): Promise<ChannelHistory | null> {
    const key = channelKey(channel);
    const hit = this.cache.get(key);
    const ttl = this.o.historyCacheMs ?? 60_000;
    if (hit && this.now() - hit.at < ttl) return hit.history;
    // The seasonal baseline's lookback (longer than the levels' and "same hour last week"'s), plus margin.
    const since = this.now() - (Math.max(SEASONAL_LOOKBACK_DAYS, LOOKBACK_DAYS + 7) + 3) * DAY_MS;
    const [history] = await loadHistories(this.repo, { since, channels: [channel] });
    if (this.cache.size >= HISTORY_CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { at: this.now(), history: history ?? null });
    return history ?? null;
  }

  private async context(channel: ChannelRef, asOf: number): Promise<{ ctx: ChannelContext; history: ChannelHistory }> {
    if (!channel || typeof channel.platform !== 'string' || !channel.platform || typeof channel.channelId !== 'string' || !channel.channelId) {
      throw new ModelInputError('channel must be { platform, channelId } with non-empty strings');
    }
    const key = channelKey(channel);
    const history = await this.history(channel);
    if (!history) throw new InsufficientDataError(`insufficient data for ${key}: no stream history in the last ${LOOKBACK_DAYS} days`, { channel: key, have: 0, need: 3, what: 'stream sessions' });
    const r = channelContext(history, asOf);
    if (!r.ok) throw new InsufficientDataError(`insufficient data for ${key}: ${r.have} ${r.what}; at least ${r.need} needed`, { channel: key, have: r.have, need: r.need, what: r.what });
    return { ctx: r.ctx, history };
  }

  /** Expected average viewers if `channel` starts streaming at `startTime` (default duration: its median recent session). */
  async predictViewers(channel: ChannelRef, startTime: Date | number, opts: { durationMinutes?: number } = {}): Promise<ViewerPrediction> {
    const start = startTime instanceof Date ? startTime.getTime() : startTime;
    if (!Number.isFinite(start)) throw new ModelInputError('startTime is not a valid time');
    if (opts.durationMinutes !== undefined && !(opts.durationMinutes > 0 && opts.durationMinutes <= 24 * 60)) throw new ModelInputError('durationMinutes must be between 1 and 1440');
    const loaded = this.need('viewers');
    const { ctx, history } = await this.context(channel, Math.min(this.now(), start));
    const durations = history.sessions.filter((s) => s.endedAt <= ctx.asOf).slice(-15).map((s) => s.endedAt - s.startedAt).sort((a, b) => a - b);
    const durationMs = opts.durationMinutes !== undefined ? opts.durationMinutes * 60_000 : durations[Math.floor(durations.length / 2)]!;
    // Artifacts from before the holdout decision serve the net, uncalibrated (a Gaussian-width band is not known for them).
    const serving = loaded.meta.serving as ViewerServingDecision | undefined;
    const name: ViewerServing = serving?.name ?? 'viewers';
    const b = viewerBaselines(ctx, start, durationMs);
    const expected = servedValue(name, () => scoreViewers({ model: loaded.model, normalization: loaded.meta.normalization, vocabulary: loaded.meta.vocabulary, ...profilePriorOf(loaded.meta), residualWeight: loaded.meta.residualWeight }, [{ ctx, start, durationMs, category: null }])[0]!, b.values);
    const band = serving ? logBand(expected, serving.intervalQ * inflation(serving.intervalKappa ?? 0, ctx.profileSessions)) : null;
    return {
      channel: { platform: channel.platform, channelId: channel.channelId },
      startTime: new Date(start).toISOString(),
      durationMinutes: Math.round(durationMs / 60_000),
      expectedViewers: round1(expected),
      interval: band ? { low: round1(band.low), high: round1(band.high), coverage: INTERVAL_COVERAGE } : undefined,
      baselines: { channelMean: round1(b.values['channel-mean']), sameHourLastWeek: b.lastWeekSeen ? round1(b.values['same-hour-last-week']) : null, channelHourOfWeek: round1(b.values['channel-hour-of-week']) },
      model: { name, version: loaded.meta.version },
      holdout: serving ? holdoutComparison(serving) : null,
      explanation: serving ? explainPrediction(serving, start) : 'model prediction (this artifact predates the holdout comparison; retrain to get it)',
    };
  }

  /** Scores of the 168 hour-of-week slots of the coming week and the top `top` (default 3). */
  async recommendSlots(channel: ChannelRef, opts: { top?: number } = {}): Promise<SlotRecommendation> {
    const top = opts.top ?? 3;
    if (!Number.isInteger(top) || top < 1 || top > 168) throw new ModelInputError('top must be an integer between 1 and 168');
    const loaded = this.need('timing');
    const now = this.now();
    const { ctx } = await this.context(channel, now);
    const serving = loaded.meta.serving as TimingServingDecision | undefined;
    const name: TimingServing = serving?.name ?? 'timing';
    const starts = nextWeekSlots(now);
    const raw = name === 'timing'
      ? scoreSlots({ model: loaded.model, normalization: loaded.meta.normalization, vocabulary: loaded.meta.vocabulary, intervalZ: loaded.meta.intervalZ ?? Z80, ...profilePriorOf(loaded.meta), residualWeight: loaded.meta.residualWeight, rankNoise: loaded.meta.rankNoise }, ctx, starts)
      : baselineSlots(ctx, starts, serving!.baselineIntervalQ);
    const scored = raw.map((s) => ({
      ...s,
      expectedViewers: round1(s.expectedViewers),
      medianViewers: round1(s.medianViewers),
      stdViewers: round1(s.stdViewers),
      low: round1(s.low),
      high: round1(s.high),
      ...(s.bestChance !== undefined ? { bestChance: Math.round(s.bestChance * 1000) / 1000 } : {}),
    }));
    const slots = [...scored].sort((a, b) => a.hourOfWeek - b.hourOfWeek);
    return {
      channel: { platform: channel.platform, channelId: channel.channelId },
      generatedAt: new Date(now).toISOString(),
      slots,
      // In hour-of-week order first, so slots tied on every count go by hour of the week.
      top: recommendationOrder(slots).slice(0, top).map((i) => ({ ...slots[i]!, reason: explainSlot(ctx, slots[i]!.hourOfWeek) })),
      model: { name, version: loaded.meta.version },
    };
  }

  /** Forget cached channel histories (e.g. after a backfill). */
  invalidate(channel?: ChannelRef): void {
    if (channel) this.cache.delete(channelKey(channel));
    else this.cache.clear();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.reloading?.catch(() => undefined);
    for (const m of this.loaded.values()) m.model.dispose();
    this.loaded.clear();
    this.removeAllListeners();
  }
}
