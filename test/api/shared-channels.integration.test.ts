import { chDateTime64 as ch } from '../../shared/clickhouse/tables';
import { createPlatformServices, type PlatformServices } from '../../platforms/platform-services';
import type { Connection } from '../../platforms/connections/connection.repository';
import { endpointsAt } from '../../platforms/endpoints';
import { adapterFor } from '../../platforms/registry';
import { authorizeViaRedirect } from '../../platforms/simulator/demo-seed';
import type { Simulator } from '../../platforms/simulator/simulator.server';
import type { SimChannel } from '../../platforms/simulator/world';
import { apiHarness, type ApiHarness } from '../support/api.harness';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/**
 * Issue 16.4 through the REST API, with the real platforms part against the simulator: two users
 * connect the same YouTube channel through OAuth. Both read the channel and its alert history (the
 * alert rows name only one of them); a reauth alert of one connection stays its user's; one leaving
 * stops nothing for the other (Google's grant-wide revocation is not triggered while the other owner
 * depends on it); the revoked connection's routes answer 404.
 */
describe('REST API: a channel with two owners, one leaving (real Redis, ClickHouse, simulator)', () => {
  let h: ApiHarness;
  let sim: Simulator;
  let platform: PlatformServices;
  let channel: SimChannel;
  let tokens: Record<string, string> = {};
  const conns: Record<string, Connection> = {};
  const now = Date.now();

  const get = async (path: string, user: string, method = 'GET') => {
    const res = await fetch(`${h.api.url}${path}`, { method, headers: { authorization: `Bearer ${tokens[user]}` } });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as Json };
  };
  const alertIds = async (user: string) => ((await get('/v1/creators/me/alerts', user)).body.alerts as Json[]).map((a) => a.alertId);

  beforeAll(async () => {
    h = await apiHarness({ simulator: { seed: 7, channels: 4 }, env: { API_RATE_LIMIT_PER_MINUTE: '100000' }, users: { alice: 'alice', bob: 'bob' } });
    sim = h.sim!;
    tokens = h.tokenOf;
    platform = createPlatformServices(h.stack.rt.config, h.redis, undefined, { endpoints: endpointsAt(sim.url) });
    const { channels } = (await (await fetch(`${sim.url}/__sim/channels`)).json()) as { channels: SimChannel[] };
    channel = channels.find((c) => c.platform === 'youtube')!;
    // Both consent as the same YouTube account (a team account): one channel, two connections.
    for (const userId of ['alice', 'bob']) {
      const redirectUri = 'http://127.0.0.1/callback';
      const { url } = await platform.streaming.getAuthorizationUrl('youtube', { userId, redirectUri });
      const { code, state } = await authorizeViaRedirect(url, channel.login);
      conns[userId] = await platform.streaming.connectPlatform('youtube', code, { userId, redirectUri, state });
    }
    const row = (alertId: string, userId: string, type: string, atMs: number) => ({
      alert_id: alertId, type, user_id: userId, platform: 'youtube', channel_id: channel.channelId,
      occurred_at: ch(atMs), severity: 'info', message: `${type} ${alertId}`, details: '{}', version: 1,
    });
    await h.repo.insert('alerts fixture', 'alerts', [
      // Alert rows carry the user whose connection polled the channel: alice here.
      row('s1', 'alice', 'stream_started', now - 3 * 3600_000),
      row('e1', 'alice', 'stream_ended', now - 2 * 3600_000),
      // About bob's connection only.
      row(`${conns.bob!.connectionId}:reauth_required:1`, 'bob', 'reauth_required', now - 3600_000),
    ]);
    await h.start({ predictions: null });
  }, 120_000);

  afterAll(async () => {
    await platform?.close();
    await h?.close();
  });

  it('one channel, two owners: both read it and its alert history; a connection\'s reauth alert stays its user\'s', async () => {
    expect(conns.alice!.channelId).toBe(conns.bob!.channelId);
    expect(conns.alice!.connectionId).not.toBe(conns.bob!.connectionId);
    expect(await platform.connections.activeOwners('youtube', channel.channelId)).toEqual(['alice', 'bob']);
    for (const u of ['alice', 'bob']) {
      expect((await get(`/v1/connections/${conns[u]!.connectionId}/metrics`, u)).status).toBe(200);
      expect((await get(`/v1/channels/youtube/${channel.channelId}`, u)).status).toBe(200);
    }
    // Each user's connection is theirs alone.
    expect((await get(`/v1/connections/${conns.alice!.connectionId}/metrics`, 'bob')).status).toBe(403);
    expect(await alertIds('alice')).toEqual(['e1', 's1']);
    expect(await alertIds('bob')).toEqual([`${conns.bob!.connectionId}:reauth_required:1`, 'e1', 's1']);
  });

  it('alice leaves: her connection\'s routes answer 404, the channel\'s history leaves hers; bob keeps everything, his grant included', async () => {
    expect((await get(`/v1/connections/${conns.alice!.connectionId}`, 'alice', 'DELETE')).status).toBe(204);
    expect((await get(`/v1/connections/${conns.alice!.connectionId}/metrics`, 'alice')).status).toBe(404);
    expect((await get(`/v1/connections/${conns.alice!.connectionId}`, 'alice', 'DELETE')).status).toBe(404);
    expect((await get(`/v1/channels/youtube/${channel.channelId}`, 'alice')).status).toBe(403);
    expect(await alertIds('alice')).toEqual([]);

    expect(await platform.connections.activeOwners('youtube', channel.channelId)).toEqual(['bob']);
    expect((await get(`/v1/connections/${conns.bob!.connectionId}/metrics`, 'bob')).status).toBe(200);
    expect(await alertIds('bob')).toEqual([`${conns.bob!.connectionId}:reauth_required:1`, 'e1', 's1']);
    // Google ends the whole grant on revocation (the simulator does too): alice's disconnect must not have asked for it.
    const yt = adapterFor('youtube', platform.platforms);
    await expect(platform.tokens.withAccessToken(conns.bob!.connectionId, (t) => yt.identity(t))).resolves.toMatchObject({ channelId: channel.channelId });
    await platform.tokens.getAccessToken(conns.bob!.connectionId);

    // The last owner leaving revokes at the platform.
    const before = (await (await fetch(`${sim.url}/__sim/counters`)).json()) as Json;
    expect((await get(`/v1/connections/${conns.bob!.connectionId}`, 'bob', 'DELETE')).status).toBe(204);
    const after = (await (await fetch(`${sim.url}/__sim/counters`)).json()) as Json;
    expect(JSON.stringify(after)).not.toBe(JSON.stringify(before));
    expect(await platform.connections.activeOwners('youtube', channel.channelId)).toEqual([]);
    expect((await get(`/v1/connections/${conns.bob!.connectionId}/metrics`, 'bob')).status).toBe(404);
  });
});
