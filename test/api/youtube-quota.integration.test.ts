import type { Redis } from 'ioredis';
import { ApiTokenStore } from '../../shared/auth/api-tokens';
import { createRedis } from '../../shared/redis/redis';
import { RunningApi, startApi } from '../../api/api.service';
import { YouTubeQuota } from '../../platforms/http/youtube-quota';
import { quotaPlanKey, type PublishedQuotaPlan } from '../../ingest/scheduler/youtube-quota-plan';
import { planQuota } from '../../ingest/scheduler/quota-planner';
import { testStack, TestStack } from '../support/stack';

/** Issue 18.3: the YouTube quota day over REST — spend by purpose from the shared ledger, the ingest planner's plan. */
describe('REST /v1/platforms/youtube/quota (real Redis)', () => {
  let stack: TestStack;
  let api: RunningApi;
  let redis: Redis;
  let token: string;

  beforeAll(async () => {
    stack = await testStack({ API_RATE_LIMIT_PER_MINUTE: '100000', YOUTUBE_DAILY_QUOTA_UNITS: '10000' });
    redis = createRedis(stack.rt.config.REDIS_URL);
    const store = new ApiTokenStore(redis, stack.rt.config.REDIS_KEY_PREFIX);
    await store.createUser('Dana', 'dana');
    token = (await store.createToken('dana')).token;
    api = await startApi(stack.rt, { port: 0, streaming: null, predictions: null });
  });
  afterAll(async () => {
    await api?.close();
    if (redis) {
      const keys = await redis.keys(`${stack.rt.config.REDIS_KEY_PREFIX}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
    await stack?.cleanup();
  });

  const get = async (t?: string) => {
    const res = await fetch(`${api.url}/v1/platforms/youtube/quota`, { headers: t ? { authorization: `Bearer ${t}` } : {} });
    // Response bodies are asserted field by field; a type per body would restate the schema.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  it('refuses an unauthenticated caller', async () => {
    expect((await get()).status).toBe(401);
  });

  it('reports the budget and spend by purpose before any plan, then the published plan and sampling flag', async () => {
    const c = stack.rt.config;
    const quota = new YouTubeQuota(redis, { prefix: c.REDIS_KEY_PREFIX, clientId: c.YOUTUBE_CLIENT_ID, dailyBudget: 10_000 });
    await quota.charge('liveBroadcasts.list');
    await quota.charge('videos.list');
    await quota.charge('liveChatMessages.list');
    await quota.charge('channels.list');
    await quota.charge('channels.list');
    const before = await get(token);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ budgetUnits: 10_000, usedUnits: 9, remainingUnits: 9991, plannedAt: null, chatSampled: false, otherSpentUnits: 0 });
    expect(before.body.purposes).toEqual({
      goLive: { spentUnits: 1, plannedUnits: null, demandUnits: null, intervalSeconds: null },
      liveRefresh: { spentUnits: 1, plannedUnits: null, demandUnits: null, intervalSeconds: null },
      chat: { spentUnits: 5, plannedUnits: null, demandUnits: null, intervalSeconds: null },
      subscribers: { spentUnits: 2, plannedUnits: null, demandUnits: null, intervalSeconds: null },
    });
    expect(Date.parse(before.body.resetsAt)).toBeGreaterThan(Date.now());

    const plan = planQuota({ remainingUnits: 9991, horizonMs: 86_400_000, creators: 100, live: 15, targetMs: { liveRefresh: 30_000, goLive: 300_000, chat: 5000, subscribers: 180_000 } });
    const published: PublishedQuotaPlan = { ...plan, plannedAt: Date.now(), budgetUnits: 10_000, spentByPurpose: { goLive: 1, liveRefresh: 1, chat: 5, subscribers: 2, other: 0 } };
    await redis.set(quotaPlanKey(c.REDIS_KEY_PREFIX), JSON.stringify(published));
    const after = await get(token);
    expect(after.body).toMatchObject({ creators: 100, live: 15, chatSampled: true, chatSamplingRate: plan.chatSamplingRate });
    expect(after.body.purposes.liveRefresh).toEqual({ spentUnits: 1, plannedUnits: 2880, demandUnits: 2880, intervalSeconds: 30 });
    expect(after.body.purposes.goLive.intervalSeconds).toBe(plan.purposes.goLive.intervalMs / 1000);
  });
});
