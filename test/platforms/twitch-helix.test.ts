import axios from 'axios';
import { TwitchService } from '../../platforms/twitch/twitch.adapter';
import { adapterFor } from '../../platforms/registry';
import { platformBench, Bench, simChannel } from './platform.fixture';

describe('Helix pagination and parameters (simulator)', () => {
  let b: Bench;
  let token: string;
  let channelId: string;
  beforeAll(async () => {
    b = await platformBench();
    const ch = simChannel(b.sim, 'twitch', 0);
    channelId = ch.channelId;
    const conn = await b.connect('twitch', 'u_helix', ch.login);
    token = await b.w.tokens.getAccessToken(conn.connectionId);
  });
  afterAll(() => b.cleanup());

  it('follows pagination.cursor 100 at a time: 250 followers in 3 pages, newest first, no duplicates', async () => {
    const twitch = adapterFor('twitch', b.w.platforms) as TwitchService;
    const before = b.sim.state.counters.requests['/helix/channels/followers'] ?? 0;
    const list = await twitch.recentFollowers(token, channelId, 250);
    expect(list).toHaveLength(250);
    expect(new Set(list.map((f) => f.user_id)).size).toBe(250);
    expect(b.sim.state.counters.requests['/helix/channels/followers']).toBe(before + 3);
    const times = list.map((f) => Date.parse(f.followed_at));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
  });

  it('answers first > 100 with 400 as Helix does, and the Ratelimit-* headers on every answer', async () => {
    const res = await axios.get(`${b.sim.url}/helix/channels/followers`, {
      params: { broadcaster_id: channelId, first: 101 },
      headers: { Authorization: `Bearer ${token}`, 'Client-Id': b.config.TWITCH_CLIENT_ID },
      validateStatus: () => true,
    });
    expect(res.status).toBe(400);
    expect(res.data).toMatchObject({ error: 'Bad Request', status: 400 });
    expect(Number(res.headers['ratelimit-limit'])).toBe(800);
    expect(Number(res.headers['ratelimit-remaining'])).toBeLessThan(800);
    expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000);
  });

  it('rejects a token used with another Client-Id', async () => {
    const res = await axios.get(`${b.sim.url}/helix/users`, { headers: { Authorization: `Bearer ${token}`, 'Client-Id': 'someone-else' }, validateStatus: () => true });
    expect(res.status).toBe(401);
  });
});
