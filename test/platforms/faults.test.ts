import { adapterFor } from '../../platforms/registry';
import { PlatformError } from '../../platforms/http/platform-error';
import type { FaultSpec } from '../../platforms/simulator/simulator.state';
import { platformBench, Bench, simChannel } from './platform.fixture';

/** Each injected fault ends in a typed PlatformError naming the platform and endpoint — never a crash. */
describe('faults from the platforms become typed errors', () => {
  let b: Bench;
  const token: Record<string, string> = {};
  const channel: Record<string, string> = {};
  beforeAll(async () => {
    b = await platformBench({ config: { PLATFORM_HTTP_TIMEOUT_MS: '500' } });
    for (const p of ['twitch', 'youtube'] as const) {
      const ch = simChannel(b.sim, p, 0);
      const conn = await b.connect(p, `u_faults_${p}`, ch.login);
      token[p] = await b.w.tokens.getAccessToken(conn.connectionId);
      channel[p] = ch.channelId;
      b.sim.world.forceLive(ch.channelId, true);
    }
  });
  afterAll(() => b.cleanup());
  afterEach(() => b.sim.clearFaults());

  const call = (p: 'twitch' | 'youtube') => adapterFor(p, b.w.platforms).streamState(token[p]!, channel[p]!);
  const route = { twitch: '/helix/streams', youtube: '/youtube/v3/videos' } as const;
  const endpoint = { twitch: 'helix.streams', youtube: 'videos.list' } as const;

  const cases: Array<[string, Omit<FaultSpec, 'route'>, string, boolean]> = [
    ['a body that is not JSON', { kind: 'malformed', times: 2 }, 'MALFORMED_RESPONSE', true],
    ['a truncated body', { kind: 'truncated', times: 2 }, 'MALFORMED_RESPONSE', true],
    ['a 503', { kind: 'server_error', status: 503, times: 2 }, 'SERVER_ERROR', true],
    ['no answer within the timeout', { kind: 'timeout', delayMs: 5000, times: 2 }, 'TIMEOUT', true],
  ];
  for (const p of ['twitch', 'youtube'] as const) {
    for (const [what, fault, code, retriable] of cases) {
      it(`${p}: ${what} → PlatformError ${code} (retriable: ${retriable}) for ${endpoint[p]}`, async () => {
        b.sim.inject({ route: route[p], ...fault });
        const err = await call(p).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(PlatformError);
        expect(err).toMatchObject({ code, platform: p, endpoint: endpoint[p], retriable });
        // Nothing a log line could carry holds the token (the axios error with its headers is not kept).
        const e = err as PlatformError;
        expect(JSON.stringify(e.toJSON()) + e.message + String(e.cause) + JSON.stringify(e.cause)).not.toContain(token[p]);
      });
    }

    it(`${p}: schema drift — unknown fields are ignored, a missing required field is MALFORMED_RESPONSE (not retriable)`, async () => {
      b.sim.inject({ route: route[p], kind: 'drift' });
      expect((await call(p)).live).toBe(true);
      b.sim.inject({ route: route[p], kind: 'drift', removeField: p === 'twitch' ? 'viewer_count' : 'kind' });
      const err = await call(p).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'MALFORMED_RESPONSE', platform: p, endpoint: endpoint[p], retriable: false });
      expect((err as Error).message).toMatch(p === 'twitch' ? /viewer_count/ : /kind/);
    });

    it(`${p}: one transient 5xx is retried inside the client and the call succeeds`, async () => {
      b.sim.inject({ route: route[p], kind: 'server_error', times: 1 });
      if (p === 'youtube') {
        // YouTube calls are not retried in the client (each attempt must be charged): the error surfaces typed.
        await expect(call(p)).rejects.toMatchObject({ code: 'SERVER_ERROR', retriable: true });
      } else expect((await call(p)).live).toBe(true);
    });
  }

  it('youtube: quotaExceeded from the platform → QUOTA_EXCEEDED, not retriable', async () => {
    b.sim.state.config.youtubeQuotaPerDay = b.sim.state.quotaUsed(b.config.YOUTUBE_CLIENT_ID);
    try {
      await expect(call('youtube')).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED', platform: 'youtube', endpoint: 'liveBroadcasts.list', retriable: false, reason: 'quotaExceeded' });
    } finally {
      b.sim.state.config.youtubeQuotaPerDay = 10_000;
    }
  });

  it('an unknown platform is a typed error too', () => {
    expect(() => adapterFor('myspace', b.w.platforms)).toThrow(expect.objectContaining({ code: 'UNKNOWN_PLATFORM' }));
  });
});
