import { platformBench, Bench, simChannel } from './platform.fixture';

describe('single-flight token refresh across workers (Redis lock)', () => {
  let b: Bench;
  beforeAll(async () => {
    b = await platformBench();
  });
  afterAll(() => b.cleanup());

  for (const platform of ['twitch', 'youtube'] as const) {
    it(`${platform}: 5 workers × 4 concurrent callers on an expired token → exactly one refresh at the platform`, async () => {
      const ch = simChannel(b.sim, platform, 0);
      const conn = await b.connect(platform, `u_conc_${platform}`, ch.login);
      // Five "processes": each its own Redis connection, adapters and TokenProvider, sharing the prefix.
      const workers = [b.w, b.worker(), b.worker(), b.worker(), b.worker()];
      const t = (await b.w.connections.getTokens(conn.connectionId))!;
      await b.w.connections.saveTokens(conn.connectionId, { ...t, expiresAt: Date.now() + 1000 }); // inside the refresh skew
      b.sim.inject({ route: platform === 'twitch' ? '/oauth2/token' : '/token', kind: 'slow', delayMs: 300 }); // widen the race window
      const before = b.sim.state.counters.tokenCalls[`${platform}:refresh_token`] ?? 0;

      const got = await Promise.all(workers.flatMap((w) => Array.from({ length: 4 }, () => w.tokens.getAccessToken(conn.connectionId))));

      expect(b.sim.state.counters.tokenCalls[`${platform}:refresh_token`]).toBe(before + 1);
      expect(new Set(got).size).toBe(1);
      expect(got[0]).not.toBe(t.accessToken);
      const stored = (await b.w.connections.getTokens(conn.connectionId))!;
      expect(stored.accessToken).toBe(got[0]);
      expect(stored.refreshToken).toBeTruthy(); // Google's refresh answer has no refresh_token: the old one is kept
    });
  }

  it('a forced refresh after a 401 is also single-flight: callers holding the same dead token share one refresh', async () => {
    const ch = simChannel(b.sim, 'twitch', 1);
    const conn = await b.connect('twitch', 'u_conc_401', ch.login);
    const workers = [b.w, b.worker(), b.worker()];
    b.sim.state.expireChannel('twitch', ch.channelId);
    const before = b.sim.state.counters.tokenCalls['twitch:refresh_token'] ?? 0;
    const states = await Promise.all(
      workers.flatMap((w) => [0, 1].map(() => w.tokens.withAccessToken(conn.connectionId, (tok) => import('../../platforms/registry').then((r) => r.adapterFor('twitch', w.platforms).streamState(tok, ch.channelId))))),
    );
    expect(states.every((s) => s.channelId === ch.channelId)).toBe(true);
    expect(b.sim.state.counters.tokenCalls['twitch:refresh_token']).toBe(before + 1);
  });
});
