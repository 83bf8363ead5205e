import { apiHarness, type ApiHarness } from '../support/api.harness';
import { chDateTime64 } from '../../shared/clickhouse/tables';
import { session, T0, window } from './api-fixtures';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const MIN = 60_000;
const ALL_SCOPES = ['user:read:email', 'moderator:read:followers', 'user:read:chat', 'channel:read:subscriptions', 'bits:read'];
const BEFORE_18_3 = ['user:read:email', 'moderator:read:followers', 'user:read:chat'];

/**
 * Issue 18.3: the series, the sessions and the stream page carry Twitch paid subscribers and points
 * where the processors have them, and null (not 0) where the connection's grant never gave them, which
 * GET /v1/connections names in needsReconnectFor. Hand-computed rows:
 * - twitch:3001 (granted), 10:00–10:05: subscribers 40, 40, 43, 43, 47, 47 (delta 0, 0, 3, 0, 4, 0),
 *   points 50, 50, 55, 55, 60, 60; the stream p1 over them gained 7.
 * - twitch:3002 (connected before the scope was asked for), 10:00–10:02: followers only; its stream p2 has null.
 */
describe('REST API: Twitch paid subscribers and points (real ClickHouse, Redis)', () => {
  let h: ApiHarness;
  let carol: string;

  beforeAll(async () => {
    h = await apiHarness({ env: { API_RATE_LIMIT_PER_MINUTE: '100000' }, users: { carol: 'Carol' } });
    carol = h.tokenOf.carol!;
    const subs = [40, 40, 43, 43, 47, 47];
    await h.repo.insert('fixture metrics', 'metrics_1m', [
      ...subs.map((n, i) => window('twitch', '3001', 'carol', T0 + i * MIN, {
        samples: 2, avg_viewers: 10, peak_viewers: 12, min_viewers: 8, viewer_minutes: 10, live: 1, stream_id: 'p1', followers: 900 + i, follower_delta: i === 0 ? 0 : 1,
        paid_subscribers: n, paid_subscriber_delta: i === 0 ? 0 : n - subs[i - 1]!, subscription_points: n + 10 + (n - 40),
      })),
      ...[0, 1, 2].map((i) => window('twitch', '3002', 'carol', T0 + i * MIN, { samples: 2, avg_viewers: 5, live: 1, stream_id: 'p2', followers: 100 + i, follower_delta: i === 0 ? 0 : 1 })),
    ]);
    await h.repo.insert('fixture sessions', 'stream_sessions', [
      session('twitch', '3001', 'carol', 'p1', { ended_at: chDateTime64(T0 + 6 * MIN), duration_seconds: 360, status: 'ended', followers_gained: 5, paid_subscribers_gained: 7, version: 2 }),
      session('twitch', '3002', 'carol', 'p2', { ended_at: chDateTime64(T0 + 3 * MIN), duration_seconds: 180, status: 'ended', followers_gained: 2, version: 2 }),
    ]);
    const connect = (channelId: string, scopes: string[]) =>
      h.connections.upsert({ userId: 'carol', platform: 'twitch', channelId, login: `l${channelId}`, displayName: channelId, scopes }, { accessToken: 'a', refreshToken: 'r', expiresAt: null, scopes });
    await connect('3001', ALL_SCOPES);
    await connect('3002', BEFORE_18_3);
    await h.start({ streaming: null });
  });
  afterAll(async () => h?.close());

  const json = async (p: string) => {
    const res = await fetch(`${h.api.url}${p}`, { headers: { authorization: `Bearer ${carol}` } });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const range = `from=${new Date(T0).toISOString()}&to=${new Date(T0 + 2 * 3_600_000).toISOString()}`;

  it('the 1-minute and hourly series carry subscribers, their change and points; null for the grant without the scope', async () => {
    const m = await json(`/v1/channels/twitch/3001/metrics?granularity=1m&${range}`);
    expect(m.status).toBe(200);
    expect(m.body.points.map((p: Json) => [p.paidSubscribers, p.paidSubscriberDelta, p.subscriptionPoints])).toEqual([
      [40, 0, 50], [40, 0, 50], [43, 3, 56], [43, 0, 56], [47, 4, 64], [47, 0, 64],
    ]);
    const hourly = await json(`/v1/channels/twitch/3001/metrics?granularity=1h&${range}`);
    expect(hourly.body.points).toHaveLength(1);
    expect(hourly.body.points[0]).toMatchObject({ paidSubscribers: 47, paidSubscriberDelta: 7, subscriptionPoints: 64, followers: 905 });
    const old = await json(`/v1/channels/twitch/3002/metrics?granularity=1h&${range}`);
    expect(old.body.points[0]).toMatchObject({ followers: 102, followerDelta: 2, paidSubscribers: null, paidSubscriberDelta: null, subscriptionPoints: null });
  });

  it('sessions and the stream page carry subscribers gained; null where they were not read', async () => {
    const sessions = await json(`/v1/channels/twitch/3001/sessions?${range}`);
    expect(sessions.body.sessions.map((s: Json) => [s.streamId, s.paidSubscribersGained])).toEqual([['p1', 7]]);
    const report = await json('/v1/channels/twitch/3002/sessions/p2');
    expect(report.status).toBe(200);
    expect(report.body.session).toMatchObject({ streamId: 'p2', followersGained: 2, paidSubscribersGained: null });
    expect(report.body.points.every((p: Json) => p.paidSubscribers === null)).toBe(true);
    // Why they are null: GET /v1/connections lists 'subscribers' in needsReconnectFor for that grant (test/api/connections.integration.test.ts).
  });
});
