import { parseRateLimitHeaders, RateLimitBuckets } from './rate-limit.bucket';

describe('in-process Ratelimit bucket (pure logic)', () => {
  it('parses Twitch headers (reset in epoch seconds → ms) and ignores answers without them', () => {
    expect(parseRateLimitHeaders({ 'ratelimit-limit': '800', 'ratelimit-remaining': '799', 'ratelimit-reset': '1700000000' })).toEqual({ limit: 800, remaining: 799, resetAtMs: 1_700_000_000_000 });
    expect(parseRateLimitHeaders({})).toBeNull();
  });

  it('sends one probe while the window is unknown, then as many as the answer says remain', async () => {
    const b = new RateLimitBuckets({ defaultLimit: 800 });
    const started: number[] = [];
    const waits = Array.from({ length: 5 }, (_, i) => b.acquire('k').then(() => started.push(i)));
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0]); // the probe
    b.complete('k', undefined, { limit: 800, remaining: 2, resetAtMs: Date.now() + 60_000 });
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]); // two points left → two more, the rest wait for the reset
    expect(b.snapshot('k')).toMatchObject({ remaining: 2, inFlight: 2, waiting: 2, known: true });
    b.close(); // releases waiters
    await Promise.all(waits);
  });

  it('within a window keeps the lowest remaining (answers arrive out of order)', () => {
    const b = new RateLimitBuckets({ defaultLimit: 800 });
    const reset = Date.now() + 60_000;
    void b.acquire('k');
    b.complete('k', undefined, { limit: 800, remaining: 10, resetAtMs: reset });
    b.complete('k', undefined, { limit: 800, remaining: 12, resetAtMs: reset });
    expect(b.snapshot('k').remaining).toBe(10);
    b.close();
  });
});
