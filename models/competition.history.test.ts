import { execFile } from 'node:child_process';
import path from 'node:path';
import { createWorld } from '../platforms/simulator/world';
import { ClickHouseRepository, createClickHouse, migrate } from '../shared/clickhouse/clickhouse.repository';
import { readCompetitionSamples } from '../shared/clickhouse/category-competition';
import { clickhouseSettingsOf } from '../shared/runtime';
import { REPO_ROOT } from '../shared/paths';
import { createRedis } from '../shared/redis/redis';
import { deleteRedisKeys, testConfig } from '../test/support/stack';
import { simulatedCompetitionSamples } from './competition.history';
import { loadHistories } from './history.repository';
import { competitionByCategory } from './competition.feature';

/**
 * Issue 22.3, step 4: `spacehub backfill --competition` writes the competition samples of the history
 * (what ingest's sampler would have taken every 10 minutes) into category_competition, so the models
 * have them; without the flag it writes none and the world is the one of before.
 */
const DAY = 86_400_000;
const TO = Date.UTC(2026, 10, 20);

describe('competition samples of a simulated history', () => {
  const config = testConfig();
  const settings = clickhouseSettingsOf(config);
  const run = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      // eslint-disable-next-line no-restricted-properties
      const env = { ...process.env, CLICKHOUSE_URL: config.CLICKHOUSE_URL, CLICKHOUSE_DATABASE: config.CLICKHOUSE_DATABASE, REDIS_KEY_PREFIX: config.REDIS_KEY_PREFIX, LOG_LEVEL: 'error', SPACEHUB_DEV: '1' };
      execFile(path.join(REPO_ROOT, 'bin', 'spacehub'), args, { env, cwd: REPO_ROOT, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  let repo: ClickHouseRepository;
  beforeAll(async () => {
    await migrate(settings);
    repo = new ClickHouseRepository(settings);
  });
  afterAll(async () => {
    await repo.close();
    const admin = createClickHouse(settings, undefined);
    await admin.command({ query: 'DROP DATABASE IF EXISTS {db:Identifier}', query_params: { db: config.CLICKHOUSE_DATABASE } }).catch(() => undefined);
    await admin.close();
    // The backfill bumped the written channels' data versions under the test's prefix.
    const redis = createRedis(config.REDIS_URL);
    await deleteRedisKeys(redis, config.REDIS_KEY_PREFIX).finally(() => redis.disconnect());
  });

  it('are the directories the sampler would have read: market + the world\'s live Twitch channels, per category, every 10 minutes', () => {
    const world = createWorld({ seed: 3, channels: 8, competition: true });
    const samples = simulatedCompetitionSamples(world, { fromMs: TO - DAY, toMs: TO });
    const categories = new Set(world.channels.filter((c) => c.platform === 'twitch').map((c) => c.categoryId));
    expect(samples).toHaveLength(144 * categories.size);
    for (const s of samples.filter((_, i) => i % 37 === 0)) {
      const own = world.channels.filter((c) => c.platform === 'twitch' && c.categoryId === s.categoryId).map((c) => world.stateAt(c.channelId, s.sampledAt)).filter((x) => x.live);
      const m = world.competition!.marketAt(s.categoryId, s.sampledAt)!;
      expect(s).toMatchObject({ liveChannels: m.liveChannels + own.length, viewers: m.viewers + own.reduce((a, x) => a + x.viewers, 0), complete: true });
      expect(s.sampledAt % 600_000).toBe(0);
    }
    expect(simulatedCompetitionSamples(createWorld({ seed: 3, channels: 8 }), { fromMs: TO - DAY, toMs: TO })).toEqual([]);
  });

  it('spacehub backfill --competition writes them into category_competition; without the flag none', async () => {
    const plain = await run('backfill', '--weeks', '1', '--channels', '4', '--seed', '3', '--noise', '0', '--to', new Date(TO).toISOString(), '--json');
    expect(plain.code).toBe(0);
    expect(await readCompetitionSamples(repo, { platform: 'twitch', fromMs: TO - 7 * DAY, toMs: TO })).toEqual([]);
    // No samples: the models' histories carry none (the competition feature is off).
    expect((await loadHistories(repo, { since: TO - 7 * DAY })).filter((h) => h.competition)).toEqual([]);
    const r = await run('backfill', '--weeks', '1', '--channels', '4', '--seed', '3', '--noise', '0', '--to', new Date(TO).toISOString(), '--competition', '--json');
    expect(r.code).toBe(0);
    const expected = simulatedCompetitionSamples(createWorld({ seed: 3, channels: 4, competition: true }), { fromMs: TO - 7 * DAY, toMs: TO });
    expect(JSON.parse(r.stdout)).toMatchObject({ competitionSamples: expected.length });
    const got = await readCompetitionSamples(repo, { platform: 'twitch', fromMs: TO - 7 * DAY, toMs: TO });
    expect(got).toEqual([...expected].sort((a, b) => a.sampledAt - b.sampledAt || a.categoryId.localeCompare(b.categoryId)));
    // The models read them with the history: every Twitch channel's history has its platform's samples by category name.
    const histories = await loadHistories(repo, { since: TO - 7 * DAY, until: TO });
    expect(histories.filter((h) => h.platform === 'twitch').length).toBeGreaterThan(0);
    for (const h of histories) expect(h.competition).toEqual(h.platform === 'twitch' ? competitionByCategory(got) : undefined);
  });
});
