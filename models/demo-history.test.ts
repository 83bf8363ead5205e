import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { createWorld } from '../platforms/simulator/world';
import { pickDemoChannels } from '../platforms/simulator/demo-seed';
import { ClickHouseRepository, createClickHouse, migrate } from '../shared/clickhouse/clickhouse.repository';
import { createLogger } from '../shared/logging/logger';
import { DataVersions } from '../shared/redis/data-version';
import { createRedis } from '../shared/redis/redis';
import { clickhouseSettingsOf } from '../shared/runtime';
import { testConfig } from '../test/support/stack';
import { latestIsCurrent, MODEL_KINDS } from './artifact.store';
import { ensureDemoHistory } from './demo-history';

/**
 * First start (`npm start` → `spacehub all` in simulator mode): on an empty database the demo channels get
 * SIMULATOR_DEMO_HISTORY_WEEKS of history — a stream live at that moment up to it — and both models are
 * trained before "ready"; a second start writes and trains nothing. Real ClickHouse and Redis, the
 * configuration's defaults (4 weeks, 12 demo channels of the seed-42 world), a fixed "now".
 */
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
// A fixed instant: the same history whatever day the suite runs (a Saturday evening UTC, when channels are live).
const NOW = Date.UTC(2026, 10, 21, 20, 30);

describe('first start: the demo history and models (real ClickHouse and Redis)', () => {
  const modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spacehub-demo-'));
  const config = testConfig({ PLATFORMS_MODE: 'simulator', MODELS_DIR: modelsDir });
  const settings = clickhouseSettingsOf(config);
  const logger = createLogger(config.LOG_LEVEL);
  const world = createWorld({ seed: config.SIMULATOR_SEED, channels: config.SIMULATOR_CHANNELS });
  const demo = pickDemoChannels(world.channels, config.SIMULATOR_DEMO_CHANNELS);
  let repo: ClickHouseRepository;
  let redis: Redis;
  let versions: DataVersions;
  let first: Awaited<ReturnType<typeof ensureDemoHistory>>;

  const count = async (sql: string) => Number((await repo.query<{ n: string }>('test count', sql, {}))[0]!.n);

  beforeAll(async () => {
    await migrate(settings);
    repo = new ClickHouseRepository(settings);
    redis = createRedis(config.REDIS_URL);
    versions = new DataVersions(redis, config.REDIS_KEY_PREFIX);
    first = await ensureDemoHistory({ config, logger, repo, dataVersions: versions }, { userId: 'demo', now: NOW });
    // 12 channels × 4 weeks written and both models trained: a minute or two on a loaded 2-core machine.
  }, 600_000);

  afterAll(async () => {
    await repo?.close();
    if (redis) {
      const keys = await redis.keys(`${config.REDIS_KEY_PREFIX}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
    const admin = createClickHouse(settings, undefined);
    await admin.command({ query: 'DROP DATABASE IF EXISTS {db:Identifier}', query_params: { db: config.CLICKHOUSE_DATABASE } }).catch(() => undefined);
    await admin.close();
    fs.rmSync(modelsDir, { recursive: true, force: true });
  });

  it("writes the demo channels' weeks of history, their ended sessions owned by the demo user, and nothing of any other channel", async () => {
    expect(config.SIMULATOR_DEMO_HISTORY_WEEKS).toBe(4);
    expect(first.backfill).toMatchObject({ channels: demo.length });
    const rows = await repo.query<{ platform: string; channel_id: string; sessions: string; first: string; users: string }>(
      'test sessions', "SELECT platform, channel_id, count() AS sessions, toUnixTimestamp(min(started_at)) AS first, uniqExact(user_id) AS users FROM stream_sessions_latest WHERE status = 'ended' GROUP BY platform, channel_id", {});
    expect(rows.map((r) => r.channel_id).sort()).toEqual(demo.map((c) => c.channelId).sort());
    for (const r of rows) {
      expect(Number(r.sessions)).toBeGreaterThanOrEqual(4);
      expect(Number(r.first) * 1000).toBeGreaterThanOrEqual(NOW - 4 * 7 * DAY - DAY);
      expect(Number(r.users)).toBe(1);
    }
    expect(await count("SELECT uniqExact(user_id) AS n FROM stream_sessions_latest WHERE user_id != 'demo'")).toBe(0);
    expect(await count(`SELECT count() AS n FROM metrics_1m WHERE window_start >= toDateTime64(${NOW / 1000}, 3, 'UTC')`)).toBe(0);
  });

  it('a demo channel live at that moment has its stream in the history up to the last whole minute, so the dashboard shows it from its start', async () => {
    const live = demo.filter((c) => world.stateAt(c.channelId, NOW).live);
    expect(live.length).toBeGreaterThan(0);
    for (const c of live) {
      const startedAt = world.stateAt(c.channelId, NOW).startedAt!;
      const [r] = await repo.query<{ n: string; last: string }>(
        'test live minutes',
        `SELECT count() AS n, toUnixTimestamp(max(window_start)) AS last FROM metrics_1m_latest
         WHERE channel_id = {id:String} AND live = 1 AND window_start >= toDateTime64(${startedAt / 1000}, 3, 'UTC')`,
        { id: c.channelId });
      expect(Number(r!.last) * 1000).toBe(NOW - MINUTE);
      expect(Number(r!.n)).toBe(Math.floor((NOW - Math.ceil(startedAt / MINUTE) * MINUTE) / MINUTE));
    }
  });

  it("Twitch channels' minutes carry paid subscribers, YouTube's none (it has no such figure)", async () => {
    expect(await count("SELECT count() AS n FROM metrics_1m WHERE platform = 'twitch' AND live = 1 AND paid_subscribers IS NOT NULL")).toBeGreaterThan(0);
    expect(await count("SELECT count() AS n FROM metrics_1m WHERE platform = 'youtube' AND paid_subscribers IS NOT NULL")).toBe(0);
  });

  it("bumps every written channel's data version, so a running API recomputes their cached series", async () => {
    for (const c of demo) expect(await versions.read({ platform: c.platform, channelId: c.channelId })).not.toBe('0');
  });

  it('trains both models of the current artifact format and records the runs as first-start', async () => {
    expect(Array.isArray(first.trained)).toBe(true);
    for (const k of MODEL_KINDS) expect(latestIsCurrent(modelsDir, k)).toBe(true);
    expect(await count("SELECT count() AS n FROM model_runs FINAL WHERE trigger = 'first-start' AND status = 'succeeded'")).toBe(MODEL_KINDS.length);
  });

  it('a second start writes nothing and trains nothing: one count query, the same rows', async () => {
    const before = await count('SELECT count() AS n FROM metrics_1m');
    const again = await ensureDemoHistory({ config, logger, repo, dataVersions: versions }, { userId: 'demo', now: NOW + 10 * MINUTE });
    expect(again).toEqual({ backfill: 'skipped: history exists', trained: 'skipped: models exist' });
    expect(await count('SELECT count() AS n FROM metrics_1m')).toBe(before);
    expect(await count("SELECT count() AS n FROM model_runs FINAL WHERE trigger = 'first-start'")).toBe(MODEL_KINDS.length);
  });

  it('is off outside simulator mode and with SIMULATOR_DEMO_HISTORY_WEEKS=0, without touching ClickHouse', async () => {
    const off = [{ ...config, PLATFORMS_MODE: 'live' as const }, { ...config, SIMULATOR_DEMO_HISTORY_WEEKS: 0 }];
    // A closed client: any query would fail.
    const closed = new ClickHouseRepository(settings);
    await closed.close();
    for (const c of off) expect(await ensureDemoHistory({ config: c, logger, repo: closed }, { userId: 'demo', now: NOW })).toEqual({ backfill: 'off', trained: 'off' });
  });
});
