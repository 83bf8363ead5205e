import type { Redis } from 'ioredis';
import { ApiTokenStore } from '../../shared/auth/api-tokens';
import { createRedis } from '../../shared/redis/redis';
import { startApi, RunningApi } from '../../api/api.service';
import { startSimulator, Simulator } from '../../platforms/simulator/simulator.server';
import { testStack, TestStack } from '../support/stack';

/**
 * Issue 21: OAUTH_STATE_TTL_SECONDS decides how long a started authorisation lives — the state in
 * Redis and the browser's binding cookie alike — and each state is one record (platforms' OAuth state
 * store), holding the platform binding and the client binding the API adds, not one record per part.
 */
describe('OAuth state: one record per state, living OAUTH_STATE_TTL_SECONDS', () => {
  let sim: Simulator;
  let stack: TestStack;
  let api: RunningApi;
  let redis: Redis;
  let token: string;
  const TTL = 45;

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 5, channels: 2 });
    stack = await testStack({
      PLATFORMS_MODE: 'simulator', OAUTH_STATE_TTL_SECONDS: String(TTL),
      TWITCH_AUTH_BASE_URL: sim.url, TWITCH_API_BASE_URL: sim.url, GOOGLE_AUTH_BASE_URL: sim.url, GOOGLE_TOKEN_BASE_URL: sim.url, YOUTUBE_API_BASE_URL: sim.url,
    });
    redis = createRedis(stack.rt.config.REDIS_URL);
    const tokens = new ApiTokenStore(redis, stack.rt.config.REDIS_KEY_PREFIX);
    await tokens.createUser('Carol', 'carol');
    token = (await tokens.createToken('carol')).token;
    api = await startApi(stack.rt, { port: 0, predictions: null });
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    const keys = redis ? await redis.keys(`${stack.rt.config.REDIS_KEY_PREFIX}:*`) : [];
    if (keys.length) await redis.del(...keys);
    redis?.disconnect();
    await stack?.cleanup();
    await sim?.close();
  });

  const authorize = async (client: 'browser' | 'headless') => {
    const res = await fetch(`${api.url}/v1/auth/twitch/authorize?client=${client}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    return { state: (await res.json() as { state: string }).state, setCookie: res.headers.getSetCookie() };
  };

  it('the browser flow: the state expires and the binding cookie has Max-Age after OAUTH_STATE_TTL_SECONDS', async () => {
    const { state, setCookie } = await authorize('browser');
    expect(setCookie.find((c) => c.startsWith('spacehub_oauth_twitch='))).toMatch(new RegExp(`Max-Age=${TTL}(;|$)`));
    const key = `${stack.rt.config.REDIS_KEY_PREFIX}:oauth:state:${state}`;
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(TTL - 10);
    expect(ttl).toBeLessThanOrEqual(TTL);
    // One record: the platform's binding (user, platform, redirect URI, PKCE) and the browser's.
    const record = JSON.parse((await redis.get(key))!) as Record<string, unknown>;
    expect(record).toMatchObject({ userId: 'carol', platform: 'twitch', binding: { client: 'browser' } });
    expect(typeof (record.binding as { nonceHash?: unknown }).nonceHash).toBe('string');
    expect(await redis.keys(`${stack.rt.config.REDIS_KEY_PREFIX}:*${state}*`)).toEqual([key]);
  });

  it('the headless flow: the same single record and expiry, bound to no cookie', async () => {
    const { state, setCookie } = await authorize('headless');
    expect(setCookie.filter((c) => c.startsWith('spacehub_oauth_'))).toEqual([]);
    const key = `${stack.rt.config.REDIS_KEY_PREFIX}:oauth:state:${state}`;
    expect(await redis.ttl(key)).toBeLessThanOrEqual(TTL);
    expect(JSON.parse((await redis.get(key))!)).toMatchObject({ userId: 'carol', platform: 'twitch', binding: { client: 'headless' } });
    expect(await redis.keys(`${stack.rt.config.REDIS_KEY_PREFIX}:*${state}*`)).toEqual([key]);
  });
});
