import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createWorld } from '../platforms/simulator/world';
import { ClickHouseRepository, createClickHouse, migrate } from '../shared/clickhouse/clickhouse.repository';
import { createLogger } from '../shared/logging/logger';
import { clickhouseSettingsOf } from '../shared/runtime';
import { eventually, testConfig } from '../test/support/stack';
import { latestVersion } from './artifact.store';
import { backfillHistory } from './history';
import { ModelRegistry } from './model.registry';
import { trainModels, TrainingSummary } from './trainer';
import { InsufficientDataError } from './errors';

/**
 * The acceptance run of issue 8 against the real ClickHouse: eight weeks of noisy simulator history
 * for 24 channels → train both models → they beat their baselines → the run is in model_runs → the
 * registry serves predictions and recommendations and hot-reloads a retrained version.
 * Models need ClickHouse only, so this suite uses an isolated database (testConfig) without Kafka.
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// A fixed end of history: results are the same whatever day the suite runs.
const TO = Date.UTC(2026, 10, 20);
const WEEKS = 8;

describe('models on simulator history (real ClickHouse)', () => {
  const config = testConfig();
  const settings = clickhouseSettingsOf(config);
  const logger = createLogger(config.LOG_LEVEL);
  const modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spacehub-models-'));
  const world = createWorld({ seed: 42, channels: 24 });
  let repo: ClickHouseRepository;
  let registry: ModelRegistry;
  let first: TrainingSummary[];

  const train = (models: Array<'viewers' | 'timing'>) =>
    trainModels({ repo, logger }, { models, seed: 42, holdoutDays: 7, trigger: 'test', backend: 'auto', modelsDir, since: TO - 70 * DAY, now: () => TO, epochs: { viewers: 40, timing: 20 } });

  beforeAll(async () => {
    await migrate(settings);
    repo = new ClickHouseRepository(settings);
    const r = await backfillHistory(repo, world, { fromMs: TO - WEEKS * 7 * DAY, toMs: TO, sessionNoise: 0.2, pollNoise: 0.1, seed: 1 });
    expect(r.channels).toBe(24);
    first = await train(['viewers', 'timing']);
    // 24 channels × 8 weeks written and both models trained: minutes on a loaded 2-core machine.
  }, 600_000);

  afterAll(async () => {
    await registry?.close();
    await repo?.close();
    const admin = createClickHouse(settings, undefined);
    await admin.command({ query: 'DROP DATABASE IF EXISTS {db:Identifier}', query_params: { db: config.CLICKHOUSE_DATABASE } }).catch(() => undefined);
    await admin.close();
    fs.rmSync(modelsDir, { recursive: true, force: true });
  });

  it('what the viewer model serves is never worse than the best baseline on the time-split holdout, and says which it is', () => {
    const v = first.find((s) => s.model === 'viewers')!;
    const m = v.metrics;
    const best = Math.min(m.baseline_channel_mean_mae!, m.baseline_last_week_mae!, m.baseline_channel_hour_of_week_mae!);
    expect(m.best_baseline_mae).toBeCloseTo(best, 3);
    expect(m.served_mae).toBeLessThanOrEqual(best + 1e-6);
    // The net is served only when it beat the best baseline; otherwise the baseline is, by name.
    if (m.mae! <= best) expect(v.serving).toBe('viewers');
    else expect(v.serving).toMatch(/^baseline:/);
    expect(m.mape).toBeGreaterThan(0);
  });

  it("the timing model's top-3 hit rate is clearly above random (≥ 1.5×) on the holdout", () => {
    const m = first.find((s) => s.model === 'timing')!.metrics;
    expect(m.channels_evaluated).toBeGreaterThanOrEqual(20);
    expect(m.hit_rate_at_3).toBeGreaterThanOrEqual(1.5 * m.random_hit_rate_at_3!);
    // A baseline that cannot tell slots apart scores exactly the random rate.
    expect(m.baseline_channel_mean_hit_rate_at_3).toBeCloseTo(m.random_hit_rate_at_3!, 6);
  });

  it('each run is recorded in ClickHouse model_runs with params, metrics, data range and duration', async () => {
    const rows = await repo.query<{ run_id: string; model: string; status: string; metrics: Record<string, number>; params: string; data_from: string; holdout_from: string; duration_ms: number; version: string; channels: number }>(
      'test runs',
      'SELECT run_id, model, status, metrics, params, data_from, holdout_from, duration_ms, version, channels FROM model_runs FINAL ORDER BY model',
    );
    expect(rows.map((r) => [r.model, r.status])).toEqual([['timing', 'succeeded'], ['viewers', 'succeeded']]);
    const viewers = rows.find((r) => r.model === 'viewers')!;
    expect(viewers.metrics.mae).toBeCloseTo(first.find((s) => s.model === 'viewers')!.metrics.mae!, 3);
    expect(JSON.parse(viewers.params)).toMatchObject({ epochs: 40, holdoutDays: 7 });
    expect(viewers.duration_ms).toBeGreaterThan(0);
    expect(viewers.channels).toBe(24);
    expect(Date.parse(viewers.holdout_from + 'Z')).toBeGreaterThan(Date.parse(viewers.data_from + 'Z'));
    expect(latestVersion(modelsDir, 'viewers')).toBe(viewers.version);
    // The weekday labelling the profiles used is recorded with the run and stored in the artifact the registry serves from:
    // on this world, whose audiences follow their local week and peak at 20:00 local, local days with that peak hour.
    for (const s of first) {
      const meta = JSON.parse(fs.readFileSync(path.join(s.artifactPath, 'meta.json'), 'utf8')) as { localPeakHour: number | null };
      expect(meta.localPeakHour).toBe(20);
      expect(s.metrics.weekday_local_peak_hour).toBe(20);
      expect(rows.find((r) => r.model === s.model)!.metrics.weekday_local_peak_hour).toBe(20);
    }
  });

  it('the registry predicts viewers and ranks all 168 slots with uncertainty for a channel with history', async () => {
    registry = new ModelRegistry(repo, { modelsDir, reloadIntervalMs: 200, backend: 'auto', logger, now: () => TO });
    await registry.start();
    const c = world.channels[3]!;
    const channel = { platform: c.platform, channelId: c.channelId };
    const p = await registry.predictViewers(channel, TO + 20 * HOUR, { durationMinutes: 180 });
    expect(p.expectedViewers).toBeGreaterThan(0);
    expect(p.model.version).toBe(first.find((s) => s.model === 'viewers')!.version);
    expect(p.model.name).toBe(first.find((s) => s.model === 'viewers')!.serving);
    expect(p.interval!.low).toBeLessThanOrEqual(p.expectedViewers);
    expect(p.interval!.high).toBeGreaterThanOrEqual(p.expectedViewers);
    expect(p.holdout!.sessions).toBeGreaterThan(0);
    expect(p.explanation).toMatch(/held-out streams/);
    const rec = await registry.recommendSlots(channel);
    expect(rec.slots).toHaveLength(168);
    expect(rec.slots.map((s) => s.hourOfWeek)).toEqual(Array.from({ length: 168 }, (_, i) => i));
    expect(rec.top).toHaveLength(3);
    for (const t of rec.top) expect(t.reason.text).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d:00 UTC: /);
    expect(rec.model.name).toMatch(/^(timing|baseline:channel-hour-of-week)$/);
    for (const s of rec.slots) {
      // Log-normal outcome: low ≤ median ≤ high and mean ≥ median.
      expect(s.low).toBeLessThanOrEqual(s.medianViewers);
      expect(s.medianViewers).toBeLessThanOrEqual(s.high);
      expect(s.expectedViewers).toBeGreaterThanOrEqual(s.medianViewers);
      expect(s.stdViewers).toBeGreaterThan(0);
    }
    // The first pick is the best typical outcome of the week; the next by their chance of being the best hour.
    expect(rec.top[0]!.medianViewers).toBe(Math.max(...rec.slots.map((s) => s.medianViewers)));
    if (rec.model.name === 'timing') {
      const chances = rec.slots.map((s) => s.bestChance!);
      // They sum to 1 before rounding to 3 digits (168 slots: at most 168 × 0.0005 off).
      expect(Math.abs(chances.reduce((a, b) => a + b, 0) - 1)).toBeLessThanOrEqual(168 * 0.0005);
      expect(rec.top[1]!.bestChance!).toBeGreaterThanOrEqual(rec.top[2]!.bestChance!);
      const others = rec.slots.filter((s) => !rec.top.some((t) => t.hourOfWeek === s.hourOfWeek)).map((s) => s.bestChance!);
      expect(rec.top[2]!.bestChance!).toBeGreaterThanOrEqual(Math.max(...others));
    }
  });

  it('a channel with too little history gets InsufficientDataError, never a number', async () => {
    await expect(registry.predictViewers({ platform: 'twitch', channelId: 'no-such-channel' }, TO + HOUR)).rejects.toBeInstanceOf(InsufficientDataError);
    // Two short sessions in the last days: below the minimum of three.
    const sessions = [TO - 3 * DAY, TO - 2 * DAY].map((t, i) => ({
      platform: 'twitch', channel_id: 'tiny', user_id: 'u', stream_id: `tiny-${i}`, started_at: new Date(t).toISOString(), ended_at: new Date(t + 2 * HOUR).toISOString(),
      duration_seconds: 7200, peak_viewers: 5, avg_viewers: 4, hours_watched: 8, followers_gained: 0, chat_messages: 0, title: 't', category: 'Art', status: 'ended', version: 1,
    }));
    await repo.insert('test tiny sessions', 'stream_sessions', sessions);
    const err = await registry.recommendSlots({ platform: 'twitch', channelId: 'tiny' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsufficientDataError);
    expect((err as InsufficientDataError).message).toMatch(/insufficient data for twitch:tiny: 2 stream sessions/);
  });

  it('retraining with the same seed reproduces the metrics exactly, and the registry hot-reloads each new version', async () => {
    // Short runs keep the suite fast; determinism does not depend on the number of epochs.
    const short = () => trainModels({ repo, logger }, { models: ['viewers'], seed: 7, holdoutDays: 7, trigger: 'test', backend: 'auto', modelsDir, since: TO - 70 * DAY, epochs: { viewers: 8 } });
    const [a] = await short();
    await eventually(async () => registry.current().viewers?.version, (v) => v === a!.version, 10_000, 100);
    const reloaded = new Promise<{ model: string; version: string }>((resolve) => registry.once('reloaded', resolve));
    const [b] = await short();
    expect(b!.version).not.toBe(a!.version);
    expect(b!.metrics.mae).toBe(a!.metrics.mae);
    expect(b!.metrics.train_loss).toBe(a!.metrics.train_loss);
    expect(await reloaded).toEqual({ model: 'viewers', version: b!.version });
    const p = await registry.predictViewers({ platform: world.channels[0]!.platform, channelId: world.channels[0]!.channelId }, TO + 20 * HOUR);
    expect(p.model.version).toBe(b!.version);
  }, 600_000);
});
