import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { apiHarness, type ApiHarness } from '../support/api.harness';
import { chDateTime64 } from '../../shared/clickhouse/tables';
import { fixtureIdentity, insertAll, session } from './api-fixtures';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const MIN = 60_000;

/**
 * GET /v1/channels/{platform}/{channelId}/sessions/{streamId}: one stream's report (the web dashboard's
 * stream page) — the session, its 1-minute series, the peak moment and a comparison with the channel's
 * previous streams. Figures are the fixtures' hand-computed ones (test/api/api-fixtures.ts).
 */
describe('REST API stream report (real ClickHouse, Redis)', () => {
  let h: ApiHarness;
  let alice: string;
  let bob: string;
  let live: Awaited<ReturnType<typeof insertAll>>;

  beforeAll(async () => {
    h = await apiHarness({
      env: { API_RATE_LIMIT_PER_MINUTE: '100000', MODELS_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'api-stream-')) },
      users: { alice: 'Alice', bob: 'Bob' },
    });
    ({ alice, bob } = h.tokenOf as { alice: string; bob: string });
    live = await insertAll(h.repo, Date.now());
    for (const [userId, channelId] of [['alice', '1001'], ['alice', '1003'], ['bob', '2002']] as const) {
      await h.connect(userId, 'twitch', channelId, fixtureIdentity('twitch', channelId));
    }
    await h.start({ streaming: null });
  });
  afterAll(async () => h?.close());

  const json = async (p: string, token?: string) => {
    const res = await fetch(`${h.api.url}${p}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, body: (await res.json()) as Json };
  };

  it('an ended stream: the session, its 90 one-minute windows, the peak moment and the previous stream to compare with', async () => {
    const r = await json('/v1/channels/twitch/1001/sessions/s1', alice);
    expect(r.status).toBe(200);
    expect(r.body.session).toEqual({
      streamId: 's1', status: 'ended', startedAt: '2026-11-20T10:00:00.000Z', endedAt: '2026-11-20T11:30:00.000Z', durationSeconds: 5400,
      peakViewers: 199, avgViewers: 144.5, hoursWatched: 216.75, followersGained: 90, paidSubscribersGained: null, chatMessages: 180, title: 'Speedrun', category: 'Celeste',
    });
    // Windows of [10:00, 11:30): the offline 11:30 window after the end is not part of the stream.
    expect(r.body.granularity).toBe('1m');
    expect(r.body.points).toHaveLength(90);
    expect(r.body.points[0]).toMatchObject({ start: '2026-11-20T10:00:00.000Z', avgViewers: 100, peakViewers: 110, chatMessages: 2, followerDelta: 1 });
    expect(r.body.points[5]).toMatchObject({ start: '2026-11-20T10:05:00.000Z', avgViewers: 105 }); // not the replayed version 1
    expect(r.body.points[89].start).toBe('2026-11-20T11:29:00.000Z');
    expect(r.body.peak).toEqual({ viewers: 199, at: '2026-11-20T11:29:00.000Z' });
    // s0 (two days earlier: 1 h, peak 50, average 40, 40 h watched, +3, 9 messages) is the only earlier stream.
    expect(r.body.comparison.previous.map((s: Json) => s.streamId)).toEqual(['s0']);
    expect(r.body.comparison.average).toEqual({ durationSeconds: 3600, peakViewers: 50, avgViewers: 40, hoursWatched: 40, followersGained: 3, chatMessages: 9 });
    expect(r.body.comparison.count).toBe(1);
  });

  it('the oldest stream has nothing to compare with: average is null, not zeros', async () => {
    const r = await json('/v1/channels/twitch/1001/sessions/s0', alice);
    expect(r.status).toBe(200);
    expect(r.body.points).toEqual([]);
    expect(r.body.peak).toBeNull();
    expect(r.body.comparison).toEqual({ count: 0, previous: [], average: null });
  });

  it('a live stream carries running figures from its closed windows (duration so far, peak, average, hours watched, followers, chat)', async () => {
    const r = await json('/v1/channels/twitch/1003/sessions/live-1', alice);
    expect(r.status).toBe(200);
    // 30 windows, average 10·(j+1): peak 305 in the newest, mean 155, Σ viewer-minutes 4650 → 77.5 h, +30, 90 messages.
    expect(r.body.session).toMatchObject({ streamId: 'live-1', status: 'live', endedAt: null, peakViewers: 305, avgViewers: 155, hoursWatched: 77.5, followersGained: 30, chatMessages: 90, title: 'Live now' });
    expect(r.body.session.durationSeconds).toBeGreaterThanOrEqual((Date.now() - live.first) / 1000 - 60);
    expect(r.body.points).toHaveLength(30);
    expect(r.body.peak).toEqual({ viewers: 305, at: new Date(live.last).toISOString() });
    expect(Date.parse(r.body.points[29].start)).toBe(live.last);
    expect(live.last - live.first).toBe(29 * MIN);
  });

  it('a live stream shows the running row the processors write (not figures recomputed from its windows); its duration runs to now', async () => {
    // The row as the processors leave it at a flush: figures through its newest closed window, 5 minutes in.
    const started = Math.floor(Date.now() / MIN) * MIN - 10 * MIN;
    await h.repo.insert('running row', 'stream_sessions', [session('twitch', '1001', 'alice', 'live-2', {
      started_at: chDateTime64(started), duration_seconds: 300, peak_viewers: 42, avg_viewers: 40.5, hours_watched: 3.375,
      followers_gained: 4, chat_messages: 17, title: 'Running', version: 5,
    })]);
    const r = await json('/v1/channels/twitch/1001/sessions/live-2', alice);
    expect(r.status).toBe(200);
    // No window of it is in metrics_1m: the figures can only come from the row.
    expect(r.body.points).toEqual([]);
    expect(r.body.session).toMatchObject({ streamId: 'live-2', status: 'live', endedAt: null, peakViewers: 42, avgViewers: 40.5, hoursWatched: 3.375, followersGained: 4, chatMessages: 17 });
    expect(r.body.session.durationSeconds).toBeGreaterThanOrEqual(10 * 60);
    expect(r.body.session.durationSeconds).toBeLessThan(10 * 60 + 120);
  });

  it('compare= bounds how many earlier streams are averaged; unknown stream 404; someone else\'s channel 403; bad ids 400', async () => {
    expect((await json('/v1/channels/twitch/1001/sessions/s1?compare=1', alice)).body.comparison.count).toBe(1);
    const bad = await json('/v1/channels/twitch/1001/sessions/s1?compare=0', alice);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('compare');
    const missing = await json('/v1/channels/twitch/1001/sessions/nope', alice);
    expect(missing.status).toBe(404);
    expect(missing.body.type).toBe('urn:spacehub:problem:stream-not-found');
    expect((await json('/v1/channels/twitch/1001/sessions/s1', bob)).status).toBe(403);
    expect((await json(`/v1/channels/twitch/1001/sessions/${encodeURIComponent("s1' OR 1=1 --")}`, alice)).status).toBe(400);
    expect((await json('/v1/channels/twitch/1001/sessions/s1')).status).toBe(401);
  });

  it('is in the OpenAPI document', async () => {
    const doc = await json('/openapi.json');
    expect(doc.body.paths['/v1/channels/{platform}/{channelId}/sessions/{streamId}'].get.operationId).toBe('getChannelStream');
  });
});
