/**
 * Issue 18.3/18.5: Twitch paid subscribers — GET /helix/subscriptions?broadcaster_id= returns `total`
 * and `points` to the broadcaster's own token with channel:read:subscriptions; without the scope (a
 * connection made before it was asked for) the adapter answers null: that figure needs a reconnect.
 */
import axios from 'axios';
import { TwitchService } from '../../platforms/twitch/twitch.adapter';
import { adapterFor } from '../../platforms/registry';
import { platformBench, Bench, simChannel } from './platform.fixture';

describe('Twitch subscriptions (simulator + adapter)', () => {
  let b: Bench;
  const codeFor = async (channelId: string, scopes: string[]) => {
    const r = await axios.post(`${b.sim.url}/__sim/codes`, { platform: 'twitch', channelId, clientId: b.config.TWITCH_CLIENT_ID, redirectUri: 'http://127.0.0.1:9/cb', scopes });
    const t = await axios.post(`${b.sim.url}/oauth2/token`, new URLSearchParams({ client_id: b.config.TWITCH_CLIENT_ID, client_secret: b.config.TWITCH_CLIENT_SECRET ?? 'simulator-secret', grant_type: 'authorization_code', code: r.data.code, redirect_uri: 'http://127.0.0.1:9/cb' }));
    return t.data.access_token as string;
  };
  beforeAll(async () => {
    b = await platformBench();
  });
  afterAll(() => b.cleanup());

  it('returns total and points to the broadcaster with channel:read:subscriptions, deterministic and below the followers', async () => {
    const ch = simChannel(b.sim, 'twitch', 0);
    const token = await codeFor(ch.channelId, ['channel:read:subscriptions']);
    const headers = { Authorization: `Bearer ${token}`, 'Client-Id': b.config.TWITCH_CLIENT_ID };
    const r = await axios.get(`${b.sim.url}/helix/subscriptions`, { params: { broadcaster_id: ch.channelId, first: 5 }, headers });
    expect(r.data.total).toBeGreaterThan(0);
    expect(r.data.points).toBeGreaterThanOrEqual(r.data.total);
    expect(r.data.total).toBeLessThan(b.sim.world.followersAt(ch.channelId, Date.now()));
    expect(r.data.data.length).toBeLessThanOrEqual(5);
    expect(r.data.data[0]).toMatchObject({ broadcaster_id: ch.channelId, tier: expect.stringMatching(/^[123]000$/), is_gift: expect.any(Boolean) });
    const twitch = adapterFor('twitch', b.w.platforms) as TwitchService;
    expect(await twitch.subscriptions(token, ch.channelId)).toEqual({ channelId: ch.channelId, observedAt: expect.any(Number), subscribers: r.data.total, points: r.data.points });
  });

  it('refuses without the scope or for another broadcaster (401, as Helix); the adapter says null: reconnect needed', async () => {
    const [a, other] = [simChannel(b.sim, 'twitch', 1), simChannel(b.sim, 'twitch', 2)];
    const noScope = await codeFor(a.channelId, ['user:read:chat']);
    const headers = { Authorization: `Bearer ${noScope}`, 'Client-Id': b.config.TWITCH_CLIENT_ID };
    const r = await axios.get(`${b.sim.url}/helix/subscriptions`, { params: { broadcaster_id: a.channelId }, headers, validateStatus: () => true });
    expect(r.status).toBe(401);
    expect(r.data.message).toMatch(/channel:read:subscriptions/);
    const scoped = await codeFor(a.channelId, ['channel:read:subscriptions']);
    const foreign = await axios.get(`${b.sim.url}/helix/subscriptions`, { params: { broadcaster_id: other.channelId }, headers: { ...headers, Authorization: `Bearer ${scoped}` }, validateStatus: () => true });
    expect(foreign.status).toBe(401);
    const twitch = adapterFor('twitch', b.w.platforms) as TwitchService;
    expect(await twitch.subscriptions(noScope, a.channelId)).toBeNull();
  });
});
