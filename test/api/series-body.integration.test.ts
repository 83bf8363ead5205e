import { DataVersions } from '../../shared/redis/data-version';
import { SeriesRow, windowSeriesQuery } from '../../api/metrics/metrics.repository';
import { isoOf } from '../../api/schemas/common.schemas';
import { apiHarness, type ApiHarness } from '../support/api.harness';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 20, 10);
const ch = { platform: 'twitch', channelId: 'etag1' };

/**
 * The series route answers with bytes the series cache keeps (api/http/json-body.ts): the same body a
 * freshly serialized answer has, a strong ETag derived from the content, 304 for a matching
 * If-None-Match — and never a 304 or a body once the channel's data changed, nor before the token and
 * the ownership are checked.
 */
describe('series answers: kept JSON bytes, ETag and 304 (real ClickHouse, Redis)', () => {
  let h: ApiHarness;
  let versions: DataVersions;
  const path = `/v1/channels/twitch/etag1/metrics?from=${new Date(T0).toISOString()}&to=${new Date(T0 + 3 * HOUR).toISOString()}&granularity=1h`;
  const get = (token: string | undefined, headers: Record<string, string> = {}) =>
    fetch(`${h.api.url}${path}`, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
  /** Minutes [from, to) of etag1 with `viewers`, written as a writer would, then its version bumped. */
  const write = async (from: number, to: number, viewers: number, version: number) => {
    await h.repo.command(
      'test windows',
      `INSERT INTO metrics_1m (platform, channel_id, user_id, window_start, samples, avg_viewers, peak_viewers, min_viewers, viewer_minutes,
                              followers, follower_delta, chat_messages, unique_chatters, engagement_rate, live, version)
       SELECT 'twitch', 'etag1', 'alice', toDateTime({t0:UInt32}, 'UTC') + toIntervalMinute(number), 2, {v:Float64}, {v:Float64}, {v:Float64}, {v:Float64},
              NULL, 0, 1, 1, 0.01, 1, {version:UInt64}
       FROM numbers({from:UInt32}, {n:UInt32})`,
      { t0: T0 / 1000, v: viewers, version, from, n: to - from },
    );
    await versions.bump([ch]);
  };
  const direct = async () => {
    const q = windowSeriesQuery(ch, { fromMs: T0, toMs: T0 + 3 * HOUR }, 3600);
    return (await h.repo.query<SeriesRow>('test direct', q.query, q.params)).map((r) => ({ start: isoOf(r.bucket), avgViewers: r.avgViewers, liveMinutes: r.liveMinutes }));
  };

  beforeAll(async () => {
    h = await apiHarness({ users: { alice: 'Alice', bob: 'Bob' } });
    versions = new DataVersions(h.redis, h.stack.rt.config.REDIS_KEY_PREFIX);
    await h.connect('alice', 'twitch', 'etag1');
    await write(0, 90, 100, 1);
    await h.start({ predictions: null, metricsPort: null });
  }, 120_000);
  afterAll(() => h?.close());

  it('a cached answer has the same body and ETag as the first; If-None-Match with it gets 304 and no body', async () => {
    const first = await get(h.tokenOf.alice);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(first.headers.get('cache-control')).toBe('private, no-cache');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const body = (await first.json()) as { platform: string; granularity: string; from: string; to: string; points: Array<{ start: string; avgViewers: number; liveMinutes: number }> };
    expect(body).toMatchObject({ platform: 'twitch', channelId: 'etag1', granularity: '1h', from: new Date(T0).toISOString(), to: new Date(T0 + 3 * HOUR).toISOString() });
    expect(body.points.map((p) => ({ start: p.start, avgViewers: p.avgViewers, liveMinutes: p.liveMinutes }))).toEqual(await direct());

    const again = await get(h.tokenOf.alice);
    expect(again.headers.get('etag')).toBe(etag);
    expect(await again.json()).toEqual(body);

    const revalidated = await get(h.tokenOf.alice, { 'if-none-match': etag });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.get('etag')).toBe(etag);
    expect(await revalidated.text()).toBe('');
    expect((await get(h.tokenOf.alice, { 'if-none-match': `"other", W/${etag}` })).status).toBe(304);
    expect((await get(h.tokenOf.alice, { 'if-none-match': '"other"' })).status).toBe(200);
  });

  it('after a write to the channel the old ETag gets 200 with the new figures and a new ETag', async () => {
    const before = await get(h.tokenOf.alice);
    const etag = before.headers.get('etag')!;
    await write(90, 150, 300, 1);
    const after = await get(h.tokenOf.alice, { 'if-none-match': etag });
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).not.toBe(etag);
    const body = (await after.json()) as { points: Array<{ start: string; avgViewers: number; liveMinutes: number }> };
    expect(body.points.map((p) => ({ start: p.start, avgViewers: p.avgViewers, liveMinutes: p.liveMinutes }))).toEqual(await direct());
    expect(body.points.some((p) => p.avgViewers === 300)).toBe(true);
  });

  it('a known ETag is no way around the checks: no token 401, a revoked token 401, another user\'s channel 403', async () => {
    const etag = (await get(h.tokenOf.alice)).headers.get('etag')!;
    expect((await get(undefined, { 'if-none-match': etag })).status).toBe(401);
    expect((await get(h.tokenOf.bob, { 'if-none-match': etag })).status).toBe(403);
    const spare = await h.tokens.createToken('alice', 'spare');
    expect((await get(spare.token, { 'if-none-match': etag })).status).toBe(304);
    expect(await h.tokens.revokeToken('alice', spare.tokenId)).toBe(true);
    expect((await get(spare.token, { 'if-none-match': etag })).status).toBe(401);
  });
});
