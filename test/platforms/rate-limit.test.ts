import { adapterFor } from '../../platforms/registry';
import { platformBench, Bench, simChannel } from './platform.fixture';

const POINTS = 10;

describe('Twitch rate limit: Ratelimit-* headers pace the client', () => {
  let b: Bench;
  beforeAll(async () => {
    b = await platformBench({ sim: { config: { twitchRateLimit: { points: POINTS, windowMs: 1000 } } } });
  });
  afterAll(() => b.cleanup());

  it(`a burst of 35 polls against a bucket of ${POINTS} points never exceeds it and never spends a 429`, async () => {
    const ch = simChannel(b.sim, 'twitch', 0);
    const conn = await b.connect('twitch', 'u_rl', ch.login);
    const token = await b.w.tokens.getAccessToken(conn.connectionId);
    const twitch = adapterFor('twitch', b.w.platforms);
    b.sim.state.resetCounters();

    const results = await Promise.all(Array.from({ length: 35 }, (_, i) => (i % 2 ? twitch.streamState(token, ch.channelId) : twitch.followers(token, ch.channelId))));

    expect(results).toHaveLength(35);
    expect(b.sim.state.counters.rateLimited).toBe(0);
    const used = Object.values(b.sim.state.counters.maxWindowPoints);
    expect(Math.max(...used)).toBeLessThanOrEqual(POINTS);
    expect((b.sim.state.counters.requests['/helix/streams'] ?? 0) + (b.sim.state.counters.requests['/helix/channels/followers'] ?? 0)).toBe(35);
  });

  it('an injected 429 is retried once after its Ratelimit-Reset and the poll succeeds', async () => {
    const ch = simChannel(b.sim, 'twitch', 1);
    const conn = await b.connect('twitch', 'u_rl429', ch.login);
    const token = await b.w.tokens.getAccessToken(conn.connectionId);
    b.sim.inject({ route: '/helix/streams', kind: 'rate_limit', resetSeconds: 1 });
    const before = b.sim.state.counters.requests['/helix/streams'] ?? 0;
    const s = await adapterFor('twitch', b.w.platforms).streamState(token, ch.channelId);
    expect(s.channelId).toBe(ch.channelId);
    expect(b.sim.state.counters.requests['/helix/streams']).toBe(before + 2);
  });

  it('three workers sharing one token (one bucket in Redis): every poll succeeds and the simulator never answers 429', async () => {
    const ch = simChannel(b.sim, 'twitch', 2);
    const conn = await b.connect('twitch', 'u_rl2', ch.login);
    const workers = [b.w, b.worker(), b.worker()];
    const token = await b.w.tokens.getAccessToken(conn.connectionId);
    b.sim.state.resetCounters();
    const polls = workers.flatMap((w) => Array.from({ length: 9 }, () => adapterFor('twitch', w.platforms).streamState(token, ch.channelId)));
    const results = await Promise.all(polls);
    expect(results.every((r) => r.channelId === ch.channelId)).toBe(true);
    expect(b.sim.state.counters.rateLimited).toBe(0);
    expect(Math.max(...Object.values(b.sim.state.counters.maxWindowPoints))).toBeLessThanOrEqual(POINTS);
  });
});
