/**
 * Issue 22.3: the category competition sampler on the real path — simulator (competition on) OAuth →
 * ConnectionRepository → BullMQ job scheduler → TwitchService (app token) → ClickHouse
 * `category_competition` (migration 0160). The rows are the simulator's directories of the creators'
 * categories; a sample stays within its call cap; a replayed slot replaces its rows.
 */
import { IngestService } from '../../ingest/ingest.service';
import { platformPorts } from '../../ingest/platform.ports';
import type { IngestPorts } from '../../ingest/ingest.ports';
import { CompetitionSampler, COMPETITION_SCHEDULER_ID } from '../../ingest/competition/competition.sampler';
import { isCategoryDirectory } from '../../ingest/competition/competition.sample';
import { endpointsAt } from '../../platforms/endpoints';
import { createPlatformServices, type PlatformServices } from '../../platforms/platform-services';
import { seedDemo } from '../../platforms/simulator/demo-seed';
import { startSimulator, type Simulator } from '../../platforms/simulator/simulator.server';
import { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import { readCompetitionSamples } from '../../shared/clickhouse/category-competition';
import { createRedis } from '../../shared/redis/redis';
import { eventually, testStack, type TestStack } from '../support/stack';
import { FAST_INGEST } from './ingest.harness';

const HOUR = 3_600_000;

describe('ingest: category competition samples (real Redis, ClickHouse, simulator with competition)', () => {
  let stack: TestStack;
  let sim: Simulator;
  let platform: PlatformServices;
  let redis: ReturnType<typeof createRedis>;
  let ports: IngestPorts;
  let repo: ClickHouseRepository;
  let svc: IngestService | undefined;
  let categories: string[];

  beforeAll(async () => {
    stack = await testStack({ ...FAST_INGEST, INGEST_COMPETITION_SAMPLE_MINUTES: '1' });
    sim = await startSimulator({ port: 0, seed: 7, channels: 24, competition: true });
    redis = createRedis(stack.rt.config.REDIS_URL);
    platform = createPlatformServices(stack.rt.config, redis, undefined, { endpoints: endpointsAt(sim.url) });
    const conns = await seedDemo({ streaming: platform.streaming, simulatorUrl: sim.url, redirectUri: () => 'http://127.0.0.1/callback' }, { userId: 'alice', channels: 12 });
    categories = [...new Set(conns.filter((c) => c.platform === 'twitch').map((c) => sim.world.channel(c.channelId)!.categoryId))];
    ports = platformPorts(stack.rt.config, undefined, { endpoints: endpointsAt(sim.url) });
    repo = new ClickHouseRepository(stack.rt.clickhouseSettings);
  });
  afterAll(async () => {
    await svc?.close();
    await ports?.close?.();
    await repo?.close();
    await platform?.close();
    redis?.disconnect();
    await sim?.close();
    await stack?.cleanup();
  });

  /** The simulator's directory of a category in the hour of `t`: its market plus the world's live Twitch channels in it. */
  const directory = (categoryId: string, t: number) => {
    const own = sim.world.channels.filter((c) => c.platform === 'twitch' && c.categoryId === categoryId).map((c) => sim.world.stateAt(c.channelId, t)).filter((s) => s.live);
    const m = sim.world.competition!.marketAt(categoryId, t)!;
    return { liveChannels: m.liveChannels + own.length, viewers: m.viewers + own.reduce((s, x) => s + x.viewers, 0) };
  };

  it('samples the creators\' Twitch categories on its job scheduler, with the app token, into category_competition', async () => {
    sim.state.resetCounters();
    svc = await IngestService.start(stack.rt, { ports, metricsPort: null });
    const scheduler = await svc.competition!.queue.getJobScheduler(COMPETITION_SCHEDULER_ID);
    expect(Number(scheduler?.every)).toBe(60_000);
    // The scheduler's first iteration runs at once.
    const rows = await eventually(() => readCompetitionSamples(repo, { platform: 'twitch', fromMs: Date.now() - HOUR, toMs: Date.now() + HOUR }), (r) => r.length >= categories.length, 60_000);
    expect(new Set(rows.map((r) => r.categoryId))).toEqual(new Set(categories));
    for (const r of rows) {
      expect(r.complete).toBe(true);
      expect(r.sampledAt % 60_000).toBe(0);
      // Read within seconds of the slot: the directory of the slot's hour or (across an hour's turn) the next.
      // The market is fixed per hour; the world's own channels' viewers move a little from minute to minute.
      const d = [directory(r.categoryId, r.sampledAt), directory(r.categoryId, r.sampledAt + HOUR)].find((x) => x.liveChannels === r.liveChannels);
      expect(d).toBeDefined();
      expect(Math.abs(r.viewers - d!.viewers)).toBeLessThanOrEqual(0.02 * d!.viewers);
    }
    // Every Helix call of the sampler went to the app token's bucket.
    const buckets = Object.keys(sim.state.counters.maxWindowPoints);
    expect(buckets.some((k) => k.endsWith(':app'))).toBe(true);
    expect(sim.state.counters.requests['/helix/channels']).toBeGreaterThanOrEqual(1);
  });

  it('stays within its call cap (an incomplete sample says so) and a replayed slot replaces its rows', async () => {
    const twitch = ports.adapterFor('twitch');
    if (!isCategoryDirectory(twitch)) throw new Error('TwitchService reads no category directory');
    const conn = createRedis(stack.rt.config.REDIS_URL, { forBullMQ: true });
    const capped = new CompetitionSampler({ connection: conn, prefix: `${stack.rt.config.REDIS_KEY_PREFIX}:capped`, ports, directory: twitch, repo, everyMs: HOUR, maxCalls: 2, worker: false });
    try {
      const slot = Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000;
      const before = sim.state.counters.requests['/helix/streams'] ?? 0;
      const r = await capped.sample(slot);
      // One /helix/channels call for the creators, one page of the directory: the directories are longer than 100.
      expect(r).toMatchObject({ calls: 2, complete: false });
      expect((sim.state.counters.requests['/helix/streams'] ?? 0) - before).toBe(1);
      const full = new CompetitionSampler({ connection: conn, prefix: `${stack.rt.config.REDIS_KEY_PREFIX}:capped`, ports, directory: twitch, repo, everyMs: HOUR, maxCalls: 150, worker: false });
      await full.sample(slot);
      await full.sample(slot);
      await full.close();
      const rows = await readCompetitionSamples(repo, { platform: 'twitch', fromMs: slot, toMs: slot + 60_000 });
      expect(rows).toHaveLength(categories.length);
      expect(rows.every((x) => x.complete)).toBe(true);
      const raw = await repo.query<{ n: number }>('test.final', 'SELECT count() AS n FROM category_competition FINAL WHERE sampled_at = {s:DateTime(\'UTC\')}', { s: new Date(slot).toISOString().slice(0, 19).replace('T', ' ') });
      expect(Number(raw[0]!.n)).toBe(categories.length);
    } finally {
      await capped.close();
      conn.disconnect();
    }
  });
});
