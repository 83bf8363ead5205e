import type { Redis } from 'ioredis';
import { createRedis } from '../../shared/redis/redis';
import { RateLimiter } from '../../shared/redis/rate-limiter';
import { randomSuffix, testConfig } from '../support/stack';

/** The sliding-window limiter against the real Redis, with a hand-driven clock (no timing assertions). */
describe('RateLimiter (real Redis, manual clock)', () => {
  let redis: Redis;
  const prefix = `t${randomSuffix()}`;
  let now = 0;
  const clock = () => now;

  beforeAll(() => {
    redis = createRedis(testConfig().REDIS_URL);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('allows `limit` requests in a window, refuses the next with a Retry-After, and keeps tokens apart', async () => {
    now = 60_000 * 1000; // the start of a window
    const rl = new RateLimiter(redis, prefix, 3, 60_000, clock);
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await rl.hit('tok-a'));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results[2]!.remaining).toBe(0);
    expect(results[3]!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(results[3]!.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect((await rl.hit('tok-b')).allowed).toBe(true);
  });

  it('weights the previous window by its overlap: half a window later, half of the old count still counts', async () => {
    now = 60_000 * 2000;
    const rl = new RateLimiter(redis, `${prefix}:w`, 4, 60_000, clock);
    for (let i = 0; i < 4; i++) expect((await rl.hit('t')).allowed).toBe(true);
    now += 60_000 + 30_000; // next window, half way: estimate = 4 × 0.5 + n
    expect((await rl.hit('t')).allowed).toBe(true); // 2 + 1
    expect((await rl.hit('t')).allowed).toBe(true); // 2 + 2
    const refused = await rl.hit('t'); // 2 + 3 = 5 > 4
    expect(refused.allowed).toBe(false);
    // the previous window's 4 slide out at 4/60 s⁻¹: the overshoot (5 + 1 − 4 = 2) is gone after 30 s
    expect(refused.retryAfterSeconds).toBe(30);
  });
});
