import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chDateTime64 } from '../../shared/clickhouse/tables';
import { apiHarness, type ApiHarness } from '../support/api.harness';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** GET /v1/creators/me/alerts: the alert history the web dashboard's feed starts from. */
describe('REST API alert history (real ClickHouse, Redis)', () => {
  let h: ApiHarness;
  let alice: string;
  let bob: string;
  const now = Date.now();

  beforeAll(async () => {
    h = await apiHarness({
      env: { API_RATE_LIMIT_PER_MINUTE: '100000', MODELS_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'api-alerts-')) },
      users: { alice: 'Alice', bob: 'Bob' },
    });
    ({ alice, bob } = h.tokenOf as { alice: string; bob: string });
    const row = (alertId: string, userId: string, type: string, atMs: number, version: number, details = '{}') => ({
      alert_id: alertId, type, user_id: userId, platform: 'twitch', channel_id: userId === 'alice' ? '1001' : '2002',
      occurred_at: chDateTime64(atMs), severity: 'info', message: `${type} ${alertId}`, details, version,
    });
    await h.repo.insert('alerts fixture', 'alerts', [
      row('a1', 'alice', 'stream_started', now - 3 * 3600_000, 1),
      row('a1', 'alice', 'stream_started', now - 3 * 3600_000, 2), // a replay: same id, newer version
      row('a2', 'alice', 'stream_ended', now - 2 * 3600_000, 1, '{"durationSeconds":3600,"peakViewers":42}'),
      row('a3', 'alice', 'viewer_spike', now - 3600_000, 1),
      row('a-old', 'alice', 'follower_milestone', now - 30 * 86400_000, 1),
      row('b1', 'bob', 'stream_started', now - 3600_000, 1),
    ]);
    // History is of the channels a user owns now (issue 16): each connected the channel of their alerts.
    await h.connect('alice', 'twitch', '1001');
    await h.connect('bob', 'twitch', '2002');
    await h.start({ streaming: null });
  });
  afterAll(async () => h?.close());

  const json = async (p: string, token?: string) => {
    const res = await fetch(`${h.api.url}${p}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
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
