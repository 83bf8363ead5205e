import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { ApiTokenStore } from '../../shared/auth/api-tokens';
import type { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import { startApi, RunningApi } from '../../api/api.service';
import type { TestStack } from '../support/stack';
import { apiHarness, type ApiHarness } from '../support/api.harness';
import type { ConnectionRepository } from '../../platforms/connections/connection.repository';
import { fixtureIdentity, insertAll, T0 } from './api-fixtures';


// Response bodies are asserted field by field; a type per body would restate the schemas.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
/**
 * The REST API against the real stack: rows with known numbers in the test's own ClickHouse database,
 * tokens and connections (the platforms part's ConnectionRepository, as the API is wired in production)
 * in its own Redis prefix, and the API on a free port.
 */
describe('REST API /v1 (real ClickHouse, Redis, Kafka, Schema Registry)', () => {
  let h: ApiHarness;
  let stack: TestStack;
  let api: RunningApi;
  let repo: ClickHouseRepository;
  let redis: Redis;
  let alice: string;
  let bob: string;
  let live: Awaited<ReturnType<typeof insertAll>>;
  let connections: ConnectionRepository;
  const ids: Record<string, string> = {};
  const connect = async (userId: string, platform: string, channelId: string) =>
    (await h.connect(userId, platform, channelId, fixtureIdentity(platform, channelId))).connectionId;

  const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
    fetch(`${api.url}${path}`, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
  const json = async (path: string, token?: string) => {
    const res = await get(path, token);
    return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as Json, headers: res.headers };
  };

  beforeAll(async () => {
    h = await apiHarness({
      env: { API_RATE_LIMIT_PER_MINUTE: '100000', MODELS_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'api-models-')) },
      users: { alice: 'Alice', bob: 'Bob' },
    });
    ({ stack, repo, redis, connections } = h);
    ({ alice, bob } = h.tokenOf as { alice: string; bob: string });
    live = await insertAll(repo, Date.now());
    ids.aliceTw = await connect('alice', 'twitch', '1001');
    ids.aliceYt = await connect('alice', 'youtube', 'UCalice');
    ids.aliceNow = await connect('alice', 'twitch', '1003');
    ids.bobTw = await connect('bob', 'twitch', '2002');
    ids.aliceOld = await connect('alice', 'twitch', '9009');
    await connections.setStatus(ids.aliceOld, 'revoked');
    api = await h.start({ streaming: null }); // the real ModelRegistry, over an empty MODELS_DIR
  });
  afterAll(async () => h?.close());

  const from = new Date(T0).toISOString();
  const to2h = new Date(T0 + 2 * 3600_000).toISOString();

  describe('metrics by range and granularity', () => {
    it('1h buckets carry the exact figures of the de-duplicated windows (an older replayed version is ignored)', async () => {
      const r = await json(`/v1/channels/twitch/1001/metrics?from=${from}&to=${to2h}&granularity=1h`, alice);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ platform: 'twitch', channelId: '1001', granularity: '1h', from: '2026-11-20T10:00:00.000Z', to: '2026-11-20T12:00:00.000Z' });
      expect(r.body.points).toHaveLength(2);
      expect(r.body.points[0]).toEqual({
        start: '2026-11-20T10:00:00.000Z', liveMinutes: 60, samples: 120, avgViewers: 129.5, peakViewers: 169, minViewers: 95,
        viewerMinutes: 7770, followers: 5050, followerDelta: 60, chatMessages: 120, uniqueChatters: 3, engagementRate: expect.closeTo(0.05, 10),
        paidSubscribers: null, paidSubscriberDelta: null, subscriptionPoints: null, // no Twitch paid-subscriber figures in these fixtures
        chatSamplingRate: 1, chatSampled: false, // all of the chat read
      });
      expect(r.body.points[1]).toMatchObject({ start: '2026-11-20T11:00:00.000Z', liveMinutes: 30, avgViewers: 174.5, peakViewers: 199, minViewers: 155, viewerMinutes: 5235, followers: 5110, followerDelta: 30, chatMessages: 60 });
    });

    it('1d folds the day into one bucket; 1m returns single windows', async () => {
      const day = await json(`/v1/channels/twitch/1001/metrics?from=2026-11-20&to=2026-11-21&granularity=1d`, alice);
      expect(day.status).toBe(200);
      expect(day.body.points).toEqual([expect.objectContaining({ start: '2026-11-20T00:00:00.000Z', liveMinutes: 90, avgViewers: 144.5, peakViewers: 199, viewerMinutes: 13005, followers: 5110, followerDelta: 90, chatMessages: 180 })]);
      const minutes = await json(`/v1/channels/twitch/1001/metrics?from=${new Date(T0 + 4 * 60_000).toISOString()}&to=${new Date(T0 + 7 * 60_000).toISOString()}&granularity=1m`, alice);
      expect(minutes.body.points.map((p: Json) => [p.start, p.avgViewers, p.peakViewers, p.chatMessages])).toEqual([
        ['2026-11-20T10:04:00.000Z', 104, 114, 2],
        ['2026-11-20T10:05:00.000Z', 105, 115, 2],
        ['2026-11-20T10:06:00.000Z', 106, 116, 2],
      ]);
    });

    it('epoch-millisecond bounds are accepted and the range is half-open [from, to)', async () => {
      const r = await json(`/v1/channels/twitch/1001/metrics?from=${T0}&to=${T0 + 3600_000}&granularity=1h`, alice);
      expect(r.body.points).toHaveLength(1);
    });
  });

  describe('sessions', () => {
    it('lists each session once, in its newest version, newest first', async () => {
      const r = await json(`/v1/channels/twitch/1001/sessions?from=2026-11-18T00:00:00Z&to=2026-11-21T00:00:00Z`, alice);
      expect(r.status).toBe(200);
      expect(r.body.sessions).toEqual([
        { streamId: 's1', status: 'ended', startedAt: '2026-11-20T10:00:00.000Z', endedAt: '2026-11-20T11:30:00.000Z', durationSeconds: 5400, peakViewers: 199, avgViewers: 144.5, hoursWatched: 216.75, followersGained: 90, paidSubscribersGained: null, chatMessages: 180, title: 'Speedrun', category: 'Celeste' },
        expect.objectContaining({ streamId: 's0', durationSeconds: 3600, title: 'Older' }),
      ]);
    });

    it('filters on the newest version: a session that ended before `from` is not revived by its older open version', async () => {
      const r = await json(`/v1/channels/twitch/1001/sessions?from=2026-11-20T11:45:00Z&to=2026-11-20T12:00:00Z`, alice);
      expect(r.body.sessions).toEqual([]);
    });

    it('honours limit', async () => {
      const r = await json(`/v1/channels/twitch/1001/sessions?from=2026-11-18T00:00:00Z&to=2026-11-21T00:00:00Z&limit=1`, alice);
      expect(r.body.sessions.map((s: Json) => s.streamId)).toEqual(['s1']);
    });
  });

  describe('creators/me/summary', () => {
    it('adds up the caller\'s channels across platforms, with per-minute cross-platform concurrency', async () => {
      const r = await json(`/v1/creators/me/summary?from=${from}&to=${to2h}`, alice);
      expect(r.status).toBe(200);
      expect(r.body.totals).toEqual({
        channels: 3, liveMinutes: 120, hoursWatched: 241.75, peakConcurrentViewers: 209, avgConcurrentViewers: expect.closeTo(14505 / 90, 9),
        chatMessages: 210, followersGained: 90, followers: 5310, sessions: 1,
      });
      const byId = Object.fromEntries(r.body.channels.map((c: Json) => [c.channelId, c]));
      expect(byId['1001']).toMatchObject({ connectionId: ids.aliceTw, liveMinutes: 90, hoursWatched: 216.75, avgViewers: 144.5, peakViewers: 199, chatMessages: 180, followersGained: 90, followers: 5110, sessions: 1 });
      expect(byId.UCalice).toMatchObject({ liveMinutes: 30, hoursWatched: 25, avgViewers: 50, peakViewers: 70, chatMessages: 30, followers: 200, sessions: 0 });
      expect(byId['1003']).toMatchObject({ liveMinutes: 0, hoursWatched: 0, avgViewers: null, sessions: 0 });
      expect(byId['9009']).toBeUndefined(); // revoked
    });

    it('another user sees only their own channels', async () => {
      const r = await json(`/v1/creators/me/summary?from=${from}&to=${to2h}`, bob);
      expect(r.body.totals).toMatchObject({ channels: 1, liveMinutes: 10, hoursWatched: 70 / 60 });
      expect(r.body.channels.map((c: Json) => c.channelId)).toEqual(['2002']);
    });
  });

  describe('current view (StreamingMetricsService.getStreamMetrics)', () => {
    it('describes a channel live now: viewers, followers and growth, session, engagement; models not trained yet', async () => {
      const r = await json('/v1/channels/twitch/1003', alice);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        connectionId: ids.aliceNow, platform: 'twitch', channelId: '1003', live: true, stale: false,
        lastWindowStart: new Date(live.last).toISOString(),
        viewers: { current: 300, peak: 305, average: 155 },
        followers: { current: 1029, growth24h: 30, growth7d: 37 },
        session: { streamId: 'live-1', status: 'live', startedAt: new Date(live.first).toISOString(), endedAt: null, hoursWatched: 77.5, chatMessages: 90, title: 'Live now' },
        engagement: { current: expect.closeTo(2 / 300, 12), sessionAverage: expect.any(Number) },
        predictedPotential: { value: null, reason: expect.stringContaining('no model is trained') },
        bestNextSlot: { value: null, reason: expect.stringContaining('no model is trained') },
      });
      expect(r.body.session.durationSeconds).toBeGreaterThanOrEqual(29 * 60);
      const same = await json(`/v1/connections/${ids.aliceNow}/metrics`, alice);
      expect(same.body).toMatchObject({ connectionId: ids.aliceNow, viewers: { current: 300, peak: 305, average: 155 } });
    });

    it('a channel without recent windows is not live, and says it is stale', async () => {
      const r = await json('/v1/channels/twitch/1001', alice);
      expect(r.body).toMatchObject({ live: false, stale: true, viewers: { current: null }, session: { streamId: 's1', status: 'ended', durationSeconds: 5400 } });
    });
  });

  describe('authentication and ownership', () => {
    it.each([
      ['no Authorization header', undefined],
      ['an invalid token', 'shub_not-a-real-token'],
      ['a token without the shub_ prefix', 'abc'],
    ] as Array<[string, string | undefined]>)('%s → 401 problem+json with WWW-Authenticate', async (_name, token) => {
      const r = await json('/v1/channels/twitch/1001/metrics', token);
      expect(r.status).toBe(401);
      expect(r.type).toContain('application/problem+json');
      expect(r.headers.get('www-authenticate')).toContain('Bearer');
      expect(r.body).toMatchObject({ type: 'urn:spacehub:problem:unauthorized', status: 401, title: expect.any(String), detail: expect.any(String), instance: '/v1/channels/twitch/1001/metrics' });
    });

    it('a non-Bearer scheme → 401', async () => {
      const res = await get('/v1/creators/me/summary', undefined, { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` });
      expect(res.status).toBe(401);
    });

    it('a revoked token → 401', async () => {
      const tokens = new ApiTokenStore(redis, stack.rt.config.REDIS_KEY_PREFIX);
      const t = await tokens.createToken('alice', 'to-revoke');
      expect((await get(`/v1/connections/${ids.aliceTw}/metrics`, t.token)).status).toBe(200);
      await tokens.revokeToken('alice', t.tokenId);
      expect((await get(`/v1/connections/${ids.aliceTw}/metrics`, t.token)).status).toBe(401);
    });

    it.each([
      '/v1/channels/twitch/2002',
      '/v1/channels/twitch/2002/metrics',
      '/v1/channels/twitch/2002/sessions',
      '/v1/channels/twitch/2002/predictions',
      '/v1/channels/twitch/2002/recommendations',
      '/v1/connections/{bobTw}/metrics',
      '/v1/channels/twitch/9009/metrics', // alice's own, but revoked
      '/v1/channels/youtube/nobody-connected-this',
    ])('another user\'s (or nobody\'s) channel %s → 403', async (template) => {
      const r = await json(template.replace('{bobTw}', ids.bobTw!), alice);
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({ type: 'urn:spacehub:problem:forbidden', status: 403 });
    });

    it('bob reads his own channel', async () => {
      const r = await json(`/v1/channels/twitch/2002/metrics?from=${from}&to=${to2h}`, bob);
      expect(r.status).toBe(200);
      expect(r.body.points[0]).toMatchObject({ liveMinutes: 10, avgViewers: 7 });
    });
  });

  describe('validation (400 problem+json naming the field)', () => {
    it.each([
      ['from', '?from=yesterday'],
      ['to', '?to=2026-13-45T99:00:00Z'],
      ['granularity', '?granularity=5m'],
      ['from', `?from=${to2h}&to=${from}`],
      ['from', '?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&granularity=1m'],
      ['evil', '?evil=1'],
      ['from', '?from=a&from=b'],
    ])('%s is named for %s', async (field, qs) => {
      const r = await json(`/v1/channels/twitch/1001/metrics${qs}`, alice);
      expect(r.status).toBe(400);
      expect(r.type).toContain('application/problem+json');
      expect(r.body.type).toBe('urn:spacehub:problem:validation-error');
      expect(r.body.invalidParams.map((p: Json) => p.name)).toContain(field);
      expect(r.body.detail).toContain(field);
    });

    it('an unknown platform and a malformed channel id are path errors', async () => {
      const r = await json('/v1/channels/myspace/1001/metrics', alice);
      expect(r.status).toBe(400);
      expect(r.body.invalidParams).toEqual([expect.objectContaining({ name: 'platform', in: 'path' })]);
      const r2 = await json('/v1/channels/twitch/a%20b/sessions', alice);
      expect(r2.body.invalidParams).toEqual([expect.objectContaining({ name: 'channelId', in: 'path' })]);
    });

    it('limit outside 1..1000 is refused', async () => {
      const r = await json('/v1/channels/twitch/1001/sessions?limit=0', alice);
      expect(r.body.invalidParams[0]).toMatchObject({ name: 'limit', in: 'query' });
    });
  });

  describe('injection attempts never alter SQL', () => {
    const payloads = ["1001' OR '1'='1", "1001; DROP TABLE metrics_1m", "{channelId:String}", "1001)--", "' UNION SELECT * FROM system.users --", "1001\\'", "1001%00", "😀"];
    const targets = (p: string) => {
      const e = encodeURIComponent(p);
      return [
        `/v1/channels/twitch/${e}/metrics`,
        `/v1/channels/${e}/1001/metrics`,
        `/v1/channels/twitch/1001/metrics?from=${e}`,
        `/v1/channels/twitch/1001/metrics?to=${e}`,
        `/v1/channels/twitch/1001/metrics?granularity=${e}`,
        `/v1/channels/twitch/1001/sessions?limit=${e}`,
        `/v1/channels/twitch/${e}/sessions`,
        `/v1/creators/me/summary?from=${e}`,
        `/v1/connections/${e}/metrics`,
        `/v1/channels/twitch/1001/predictions?startAt=${e}`,
        `/v1/channels/twitch/1001/recommendations?count=${e}`,
        `/v1/channels/twitch/${e}`,
      ];
    };

    it('every string parameter answers 400 (or 403/404 for an id that is merely unknown), and the tables are intact', async () => {
      const before = await repo.query<{ c: number }>('count', 'SELECT count() AS c FROM metrics_1m');
      for (const p of payloads) {
        for (const path of targets(p)) {
          const res = await get(path, alice);
          if (![400, 403, 404].includes(res.status)) throw new Error(`${path} answered ${res.status}`);
          expect(res.headers.get('content-type')).toContain('application/problem+json');
        }
      }
      const after = await repo.query<{ c: number }>('count', 'SELECT count() AS c FROM metrics_1m');
      expect(after[0]!.c).toBe(before[0]!.c);
    });

    it('a stored channel id that looks like SQL is only ever a bound value: the summary returns zeros for it', async () => {
      const weird = await connect('alice', 'twitch', "x' OR '1'='1");
      try {
        const r = await json(`/v1/creators/me/summary?from=${from}&to=${to2h}`, alice);
        expect(r.status).toBe(200);
        expect(r.body.channels.find((c: Json) => c.connectionId === weird)).toMatchObject({ liveMinutes: 0, hoursWatched: 0, sessions: 0 });
        expect(r.body.totals.liveMinutes).toBe(120); // unchanged: no other channel's rows leaked in
      } finally {
        await connections.setStatus(weird, 'revoked');
      }
    });
  });

  describe('a degraded process: tight rate limit, ClickHouse unreachable', () => {
    let degraded: RunningApi;
    let t1: string;
    let t2: string;
    beforeAll(async () => {
      // Fresh tokens: the limiter counts per token in Redis, shared by every API process.
      const tokens = new ApiTokenStore(redis, stack.rt.config.REDIS_KEY_PREFIX);
      t1 = (await tokens.createToken('bob', 'rl-1')).token;
      t2 = (await tokens.createToken('bob', 'rl-2')).token;
      // The API builds its (read-only) ClickHouse settings from config: both point at a dead port.
      const rt = { ...stack.rt, config: { ...stack.rt.config, API_RATE_LIMIT_PER_MINUTE: 3, CLICKHOUSE_URL: 'http://127.0.0.1:9' }, clickhouseSettings: { ...stack.rt.clickhouseSettings, url: 'http://127.0.0.1:9' } };
      degraded = await startApi(rt, { port: 0, streaming: null, predictions: null });
    });
    afterAll(() => degraded?.close());
    const hit = (path: string, token?: string) => fetch(`${degraded.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

    it('/readyz → 503 problem+json naming the failing service', async () => {
      const res = await hit('/readyz');
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const body = (await res.json()) as Json;
      expect(body).toMatchObject({ type: 'urn:spacehub:problem:not-ready', failing: ['clickhouse'], checks: { clickhouse: { ok: false }, kafka: { ok: true }, redis: { ok: true }, schemaRegistry: { ok: true } } });
      expect(body.detail).toContain('clickhouse');
    });

    it('a route whose query cannot reach ClickHouse → 503 problem+json; the 4th request in a minute → 429 with Retry-After', async () => {
      const first = await hit(`/v1/creators/me/summary?from=${from}&to=${to2h}`, t1);
      expect(first.status).toBe(503);
      expect(((await first.json()) as Json).type).toBe('urn:spacehub:problem:unavailable');
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await hit('/v1/connections', t1)).status);
      expect(statuses).toEqual([503, 503, 429]);
      const limited = await hit('/v1/connections', t1);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(limited.headers.get('ratelimit-limit')).toBe('3');
      expect(((await limited.json()) as Json)).toMatchObject({ type: 'urn:spacehub:problem:rate-limited', status: 429, retryAfterSeconds: expect.any(Number) });
      // per token: another token of the same user has its own budget
      expect((await hit('/v1/connections', t2)).status).toBe(503);
    });
  });

  describe('models, errors, documents, probes', () => {
    it.each(['predictions', 'recommendations'])('%s → 404 problem "no model is trained" until a model exists (real ModelRegistry)', async (what) => {
      const r = await json(`/v1/channels/twitch/1001/${what}`, alice);
      expect(r.status).toBe(404);
      expect(r.body).toMatchObject({ type: 'urn:spacehub:problem:model-not-trained', title: 'No model is trained', detail: expect.stringContaining('no model is trained') });
    });

    it('connection routes answer 503 problem+json in a process without platform integration', async () => {
      const r = await json('/v1/connections', alice);
      expect(r.status).toBe(503);
      expect(r.body.type).toBe('urn:spacehub:problem:platforms-unavailable');
    });

    it('an oversize body → 413 problem+json; malformed JSON → 400', async () => {
      const big = await fetch(`${api.url}/v1/connections`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}` }, body: JSON.stringify({ x: 'a'.repeat(64 * 1024) }) });
      expect(big.status).toBe(413);
      expect(big.headers.get('content-type')).toContain('application/problem+json');
      expect(((await big.json()) as Json).type).toBe('urn:spacehub:problem:payload-too-large');
      const bad = await fetch(`${api.url}/v1/connections`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":' });
      expect(bad.status).toBe(400);
    });

    it('unknown routes are 404 problem+json', async () => {
      const r = await json('/v1/nothing-here', alice);
      expect(r.status).toBe(404);
      expect(r.type).toContain('application/problem+json');
    });

    it('/openapi.json is generated from the validating schemas', async () => {
      const r = await json('/openapi.json');
      expect(r.status).toBe(200);
      expect(r.body.openapi).toBe('3.1.0');
      const op = r.body.paths['/v1/channels/{platform}/{channelId}/metrics'].get;
      const param = (n: string) => op.parameters.find((p: Json) => p.name === n);
      expect(param('granularity')).toMatchObject({ in: 'query', required: false, schema: { enum: ['1m', '1h', '1d'], default: '1h' } });
      expect(param('channelId')).toMatchObject({ in: 'path', required: true, schema: { pattern: expect.any(String) } });
      expect(param('platform').schema.enum).toEqual(['twitch', 'youtube']);
      expect(op.responses['200'].content['application/json'].schema.properties.points.type).toBe('array');
      expect(op.responses['403'].content['application/problem+json'].schema.$ref).toBe('#/components/schemas/Problem');
      expect(op.security).toEqual([{ bearer: [] }]);
      for (const p of ['/v1/auth/{platform}/authorize', '/v1/auth/{platform}/callback', '/v1/connections', '/v1/connections/{id}', '/v1/channels/{platform}/{channelId}/sessions', '/v1/creators/me/summary', '/v1/channels/{platform}/{channelId}/predictions', '/v1/channels/{platform}/{channelId}/recommendations', '/healthz', '/readyz']) {
        expect(r.body.paths[p]).toBeDefined();
      }
    });

    it('/healthz, /readyz (all four services) and / answer without a token; /metrics is on METRICS_PORT only', async () => {
      expect((await json('/healthz')).body).toEqual({ status: 'ok' });
      const ready = await json('/readyz');
      expect(ready.status).toBe(200);
      expect(Object.keys(ready.body.checks).sort()).toEqual(['clickhouse', 'kafka', 'redis', 'schemaRegistry']);
      expect((await get('/metrics')).status).toBe(404);
      const text = await (await fetch(api.metricsUrl!)).text();
      expect(text).toContain('spacehub_api_http_request_duration_seconds_bucket');
      expect(text).toContain('route="/v1/channels/:platform/:channelId/metrics"');
      expect((await get('/')).status).toBe(200);
      // the dashboard folder also holds its TypeScript tests; they are not served
      expect((await get('/dashboard.browser.test.ts')).status).toBe(404);
    });
  });
});
