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
import { createRetrainClients } from './models.module';
import { RetrainScheduler, retrainSchedule } from './retrain.scheduler';

/** Scheduled retraining through a real BullMQ job scheduler on the real Redis, training from the real ClickHouse. */
const DAY = 86_400_000;

describe('scheduled retraining (BullMQ, Redis, ClickHouse)', () => {
  const modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spacehub-retrain-'));
  const config = testConfig({ MODELS_DIR: modelsDir });
  const settings = clickhouseSettingsOf(config);
  let scheduler: RetrainScheduler | undefined;

  afterAll(async () => {
    await scheduler?.unschedule().catch(() => undefined);
    await scheduler?.obliterate().catch(() => undefined);
    await scheduler?.close();
    const admin = createClickHouse(settings, undefined);
    await admin.command({ query: 'DROP DATABASE IF EXISTS {db:Identifier}', query_params: { db: config.CLICKHOUSE_DATABASE } }).catch(() => undefined);
    await admin.close();
    fs.rmSync(modelsDir, { recursive: true, force: true });
  });

  it('is off by default, and configurable by cron pattern or interval', () => {
    expect(retrainSchedule({ MODELS_RETRAIN_CRON: undefined, MODELS_RETRAIN_EVERY_MINUTES: 0 })).toBeNull();
    expect(retrainSchedule({ MODELS_RETRAIN_CRON: '0 4 * * *', MODELS_RETRAIN_EVERY_MINUTES: 0 })).toEqual({ pattern: '0 4 * * *' });
    expect(retrainSchedule({ MODELS_RETRAIN_CRON: undefined, MODELS_RETRAIN_EVERY_MINUTES: 30 })).toEqual({ every: 1_800_000 });
  });

  it('a scheduled run trains both models, saves versions and records trigger=schedule in model_runs', async () => {
    await migrate(settings);
    const repo = new ClickHouseRepository(settings);
    try {
      const to = Math.floor(Date.now() / 3_600_000) * 3_600_000;
      await backfillHistory(repo, createWorld({ seed: 11, channels: 10 }), { fromMs: to - 28 * DAY, toMs: to, sessionNoise: 0.2, seed: 1 });
      scheduler = new RetrainScheduler(config, createLogger('silent'), createRetrainClients(config), { schedule: { every: 60_000 }, epochs: { viewers: 3, timing: 2 } });
      expect(await scheduler.start()).toBe(true);
      const runs = await eventually(
        () => repo.query<{ model: string; status: string; trigger: string; error: string }>('scheduled runs', 'SELECT model, status, trigger, error FROM model_runs FINAL ORDER BY model'),
        (r) => r.length >= 2,
        90_000,
        500,
      );
      expect(runs.slice(0, 2)).toEqual([
        { model: 'timing', status: 'succeeded', trigger: 'schedule', error: '' },
        { model: 'viewers', status: 'succeeded', trigger: 'schedule', error: '' },
      ]);
      expect(latestVersion(modelsDir, 'viewers')).not.toBeNull();
      expect(latestVersion(modelsDir, 'timing')).not.toBeNull();
    } finally {
      await repo.close();
    }
  });
});
