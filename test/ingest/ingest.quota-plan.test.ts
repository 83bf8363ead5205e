import { IngestService } from '../../ingest/ingest.service';
import { platformPorts } from '../../ingest/platform.ports';
import type { IngestPorts } from '../../ingest/ingest.ports';
import { schedulerId } from '../../ingest/jobs/ingest-job';
import { batchSchedulerId } from '../../ingest/scheduler/batch-plan';
import { readQuotaPlan } from '../../ingest/scheduler/youtube-quota-plan';
import { endpointsAt } from '../../platforms/endpoints';
import { createRedis } from '../../shared/redis/redis';
import { metricsRegistry } from '../../shared/metrics/metrics';
import { eventually, testStack, TestStack } from '../support/stack';
import { FAST_INGEST, simulatedPlatforms, TopicCollector } from './ingest.harness';

/**
 * Issue 18.3 on the real path: with YouTube batched, the quota planner sets YouTube's intervals from
 * what is left of a small daily budget, publishes its plan (Redis, for the API) and its metrics, and
 * the schedulers follow it — every creator at the same interval within a purpose.
 */
describe('ingest: the YouTube quota planner drives the schedule (real Redis, Kafka, simulator)', () => {
  let stack: TestStack;
  let platforms: Awaited<ReturnType<typeof simulatedPlatforms>>;
  let ports: IngestPorts;
  let svc: IngestService | undefined;

  beforeAll(async () => {
    stack = await testStack({ ...FAST_INGEST, INGEST_BATCH_POLLING: 'true', INGEST_BATCH_SHARDS: '1', YOUTUBE_DAILY_QUOTA_UNITS: '2000' });
    platforms = await simulatedPlatforms(stack.rt, 12);
    ports = platformPorts(stack.rt.config, undefined, { endpoints: endpointsAt(platforms.sim.url) });
  });
  afterAll(async () => {
    await svc?.close();
    await ports?.close?.();
    await platforms?.close();
    await stack?.cleanup();
  });

  it('plans a 2,000-unit day across 6 creators (1 live) and schedules each purpose at the planned interval', async () => {
    const world = platforms.sim.world;
    for (const c of world.channels) world.forceLive(c.channelId, false);
    const conns = await platforms.connect('carol', 12);
    const youtube = conns.filter((c) => c.platform === 'youtube');
    expect(youtube).toHaveLength(6);
    world.forceLive(youtube[0]!.channelId, true, Date.now() - 60_000);
    const chat = new TopicCollector(stack.rt, ['chat']);
    await chat.start();
    svc = await IngestService.start(stack.rt, { ports, metricsPort: null });
    const redis = createRedis(stack.rt.config.REDIS_URL);
    try {
      // The live creator is found by its go-live job; then the plan counts it.
      const plan = await eventually(() => readQuotaPlan(redis, stack.rt.config.REDIS_KEY_PREFIX), (p) => p?.creators === 6 && p.live === 1, 60_000);
      expect(plan!.budgetUnits).toBe(2000);
      expect(plan!.remainingUnits).toBeLessThanOrEqual(2000);
      const planned = Object.values(plan!.purposes).reduce((s, x) => s + x.plannedUnits, 0);
      expect(planned).toBeLessThanOrEqual(plan!.remainingUnits + 0.01);
      // A 2,000-unit day cannot poll 5 offline creators every 3 s: go-live detection is stretched, and chat is sampled.
      expect(plan!.purposes.goLive.intervalMs).toBeGreaterThan(3000);
      expect(plan!.chatSamplingRate).toBeLessThan(1);

      // Every creator's go-live and subscriber jobs at the planned interval (±20 %, the re-timing threshold).
      await svc.reconcile();
      const fresh = (await readQuotaPlan(redis, stack.rt.config.REDIS_KEY_PREFIX))!;
      const scheds = new Map((await svc.queues.poll('youtube').getJobSchedulers(0, -1)).map((s) => [s.key, Number(s.every)]));
      for (const c of youtube) {
        expect(scheds.get(schedulerId(c, 'snapshot'))! / fresh.purposes.goLive.intervalMs).toBeGreaterThan(0.79);
        expect(scheds.get(schedulerId(c, 'snapshot'))! / fresh.purposes.goLive.intervalMs).toBeLessThan(1.26);
        // Subscriber counts are read by the shard's job, 50 creators a unit: no per-channel followers job.
        expect(scheds.has(schedulerId(c, 'followers'))).toBe(false);
      }
      // ... so their demand is one call per interval for all 6 creators.
      expect(fresh.purposes.subscribers.demandUnits).toBeCloseTo(fresh.horizonMs / 4000, 0);
      expect(scheds.get(batchSchedulerId('youtube', 0))! / Math.max(2000, fresh.purposes.liveRefresh.intervalMs)).toBeGreaterThan(0.79);

      // Spend by purpose and the plan are Prometheus gauges.
      const text = await metricsRegistry.metrics();
      expect(text).toMatch(/spacehub_youtube_quota_plan_units\{purpose="goLive"\} [\d.]+/);
      expect(text).toMatch(/spacehub_youtube_quota_spent_units\{purpose="goLive"\} [1-9]/);
      expect(text).toMatch(/spacehub_youtube_chat_sampling_rate 0\.\d+/);

      // The live creator's chat records carry the sampling rate the planner achieved when they were read
      // (flagged, not scaled up); a read before the plan counted the creator live was at the full rate.
      const records = await eventually(async () => chat.of<{ channelId: string; samplingRate: number }>('chat').filter((e) => e.value.channelId === youtube[0]!.channelId), (r) => r.some((e) => e.value.samplingRate < 1), 90_000);
      const sampled = records.find((e) => e.value.samplingRate < 1)!.value;
      const now = (await readQuotaPlan(redis, stack.rt.config.REDIS_KEY_PREFIX))!;
      expect(sampled.samplingRate).toBeGreaterThan(0);
      expect(sampled.samplingRate / now.chatSamplingRate).toBeGreaterThan(0.5);
      expect(sampled.samplingRate / now.chatSamplingRate).toBeLessThan(2);
      expect(records.every((e) => e.value.samplingRate > 0 && e.value.samplingRate <= 1)).toBe(true);
    } finally {
      await chat.stop();
      redis.disconnect();
    }
  });
});
