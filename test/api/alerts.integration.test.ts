import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { ApiTokenStore } from '../../shared/auth/api-tokens';
import { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import { createRedis } from '../../shared/redis/redis';
import { startApi, RunningApi } from '../../api/api.service';
import { testStack, TestStack } from '../support/stack';
import { ConnectionRepository } from '../../platforms/connections/connection.repository';
import { TokenCipher } from '../../platforms/tokens/token-cipher';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const ch = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** GET /v1/creators/me/alerts: the alert history the web dashboard's feed starts from. */
describe('REST API alert history (real ClickHouse, Redis)', () => {
  let stack: TestStack;
  let api: RunningApi;
  let repo: ClickHouseRepository;
  let redis: Redis;
  let alice: string;
  let bob: string;
  const now = Date.now();

  beforeAll(async () => {
    stack = await testStack({ API_RATE_LIMIT_PER_MINUTE: '100000', MODELS_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'api-alerts-')) });
    repo = new ClickHouseRepository(stack.rt.clickhouseSettings);
    const row = (alertId: string, userId: string, type: string, atMs: number, version: number, details = '{}') => ({
      alert_id: alertId, type, user_id: userId, platform: 'twitch', channel_id: userId === 'alice' ? '1001' : '2002',
      occurred_at: ch(atMs), severity: 'info', message: `${type} ${alertId}`, details, version,
    });
    await repo.insert('alerts fixture', 'alerts', [
      row('a1', 'alice', 'stream_started', now - 3 * 3600_000, 1),
      row('a1', 'alice', 'stream_started', now - 3 * 3600_000, 2), // a replay: same id, newer version
      row('a2', 'alice', 'stream_ended', now - 2 * 3600_000, 1, '{"durationSeconds":3600,"peakViewers":42}'),
      row('a3', 'alice', 'viewer_spike', now - 3600_000, 1),
      row('a-old', 'alice', 'follower_milestone', now - 30 * 86400_000, 1),
      row('b1', 'bob', 'stream_started', now - 3600_000, 1),
    ]);
    redis = createRedis(stack.rt.config.REDIS_URL);
    const tokens = new ApiTokenStore(redis, stack.rt.config.REDIS_KEY_PREFIX);
    await tokens.createUser('Alice', 'alice');
    await tokens.createUser('Bob', 'bob');
    alice = (await tokens.createToken('alice')).token;
    bob = (await tokens.createToken('bob')).token;
    // History is of the channels a user owns now (issue 16): each connected the channel of their alerts.
    const connections = new ConnectionRepository(redis, stack.rt.config.REDIS_KEY_PREFIX, TokenCipher.fromKeyRing(stack.rt.config.TOKEN_ENCRYPTION_KEYS));
    for (const [userId, channelId] of [['alice', '1001'], ['bob', '2002']] as const) {
      await connections.upsert({ userId, platform: 'twitch', channelId, login: channelId, displayName: channelId, scopes: [] }, { accessToken: 'a', refreshToken: 'r', expiresAt: null, scopes: [] });
    }
    api = await startApi(stack.rt, { port: 0, streaming: null });
  });
  afterAll(async () => {
    await api?.close();
    await repo?.close();
    redis?.disconnect();
    await stack?.cleanup();
  });

  const json = async (p: string, token?: string) => {
    const res = await fetch(`${api.url}${p}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, body: (await res.json()) as Json };
  };

  it("returns only the caller's alerts of the last 7 days, newest first, a replayed alert once, details parsed", async () => {
    const r = await json('/v1/creators/me/alerts', alice);
    expect(r.status).toBe(200);
    expect(r.body.alerts.map((a: Json) => a.alertId)).toEqual(['a3', 'a2', 'a1']);
    expect(r.body.alerts[1]).toMatchObject({ type: 'stream_ended', platform: 'twitch', channelId: '1001', details: { durationSeconds: 3600, peakViewers: 42 } });
    expect(r.body.alerts[2].occurredAt).toBe(new Date(Math.floor((now - 3 * 3600_000))).toISOString());
    const b = await json('/v1/creators/me/alerts', bob);
    expect(b.body.alerts.map((a: Json) => a.alertId)).toEqual(['b1']);
  });

  it('honours from/to and limit; bad parameters are 400 naming the field; no token is 401', async () => {
    const from = new Date(now - 40 * 86400_000).toISOString();
    expect((await json(`/v1/creators/me/alerts?from=${from}`, alice)).body.alerts.map((a: Json) => a.alertId)).toEqual(['a3', 'a2', 'a1', 'a-old']);
    expect((await json('/v1/creators/me/alerts?limit=1', alice)).body.alerts.map((a: Json) => a.alertId)).toEqual(['a3']);
    const bad = await json('/v1/creators/me/alerts?limit=0', alice);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('limit');
    const inj = await json(`/v1/creators/me/alerts?from=${encodeURIComponent("2026-01-01' OR 1=1 --")}`, alice);
    expect(inj.status).toBe(400);
    expect((await json('/v1/creators/me/alerts')).status).toBe(401);
  });
});
