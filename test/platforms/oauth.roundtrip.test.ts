import { platformBench, Bench, simChannel } from './platform.fixture';
import { authorizeViaRedirect } from '../../platforms/simulator/demo-seed';
import { subscribeConnectionEvents, ConnectionEvent } from '../../platforms/connections/connection-events';
import { OAuthStateStore } from '../../platforms/oauth/oauth-state.store';
import { ReauthRequiredError } from '../../platforms/tokens/token-provider';
import { TokenCipher } from '../../platforms/tokens/token-cipher';
import { eventually } from '../support/stack';
import { createLogger } from '../../shared/logging/logger';

describe('OAuth round trip against the simulator (real Redis)', () => {
  let b: Bench;
  beforeAll(async () => {
    b = await platformBench();
  });
  afterAll(() => b.cleanup());

  for (const platform of ['twitch', 'youtube'] as const) {
    it(`${platform}: authorize URL → code → callback → encrypted connection → refresh → revoke`, async () => {
      const ch = simChannel(b.sim, platform, 0);
      const userId = `u_${platform}_rt`;
      const { url, state } = await b.w.streaming.getAuthorizationUrl(platform, { userId, redirectUri: b.redirectUri(platform) });
      const u = new URL(url);
      expect(u.searchParams.get('state')).toBe(state);
      expect(u.searchParams.get('redirect_uri')).toBe(b.redirectUri(platform));
      if (platform === 'youtube') {
        expect(u.pathname).toBe('/o/oauth2/v2/auth');
        expect(u.searchParams.get('code_challenge_method')).toBe('S256');
        expect(u.searchParams.get('access_type')).toBe('offline');
      } else expect(u.pathname).toBe('/oauth2/authorize');

      const redirect = await authorizeViaRedirect(url, ch.login);
      expect(redirect.state).toBe(state);
      const conn = await b.w.streaming.connectPlatform(platform, redirect.code, { userId, redirectUri: b.redirectUri(platform), state });
      expect(conn).toMatchObject({ userId, platform, channelId: ch.channelId, login: ch.login, status: 'active' });
      expect(JSON.stringify(conn)).not.toMatch(/access|refresh/i);
      expect(await b.w.streaming.listConnections(userId)).toEqual([conn]);

      // Stored encrypted: the raw Redis value shows no token, and decrypts only with the key.
      const tokens = (await b.w.connections.getTokens(conn.connectionId))!;
      const raw = (await b.w.redis.hget(b.w.connections.key(conn.connectionId), 'tokens'))!;
      expect(raw).not.toContain(tokens.accessToken);
      expect(raw).not.toContain(tokens.refreshToken!);
      expect(raw.startsWith('v1.k1.')).toBe(true);
      expect(() => TokenCipher.fromKeyRing(`k1:${TokenCipher.generateKey()}`).decrypt(raw, conn.connectionId)).toThrow(/failed authentication/);

      // Refresh: expire the access token at the platform, then the provider refreshes ahead of use.
      await b.w.connections.saveTokens(conn.connectionId, { ...tokens, expiresAt: Date.now() - 1 });
      const before = b.sim.state.counters.tokenCalls[`${platform}:refresh_token`] ?? 0;
      const fresh = await b.w.tokens.getAccessToken(conn.connectionId);
      expect(fresh).not.toBe(tokens.accessToken);
      expect(b.sim.state.counters.tokenCalls[`${platform}:refresh_token`]).toBe(before + 1);
      const live = await b.w.streaming.getLiveStatus(userId, conn.connectionId);
      expect(live.channelId).toBe(ch.channelId);

      // Another user cannot see or disconnect it.
      await expect(b.w.streaming.getLiveStatus('someone_else', conn.connectionId)).rejects.toMatchObject({ code: 'CONNECTION_NOT_FOUND' });
      await expect(b.w.streaming.disconnectPlatform('someone_else', conn.connectionId)).rejects.toMatchObject({ code: 'CONNECTION_NOT_FOUND' });

      // Revoke: the grant dies at the platform, our tokens are dropped.
      const gone = await b.w.streaming.disconnectPlatform(userId, conn.connectionId);
      expect(gone.status).toBe('revoked');
      expect(await b.w.redis.hget(b.w.connections.key(conn.connectionId), 'tokens')).toBeNull();
      expect([...b.sim.state.grants.values()].filter((g) => g.channelId === ch.channelId && !g.revoked)).toHaveLength(0);
      await expect(b.w.tokens.getAccessToken(conn.connectionId)).rejects.toBeInstanceOf(ReauthRequiredError);
    });
  }

  it('a used state is rejected the second time, even with a fresh code', async () => {
    const userId = 'u_reuse';
    const { url, state } = await b.w.streaming.getAuthorizationUrl('twitch', { userId, redirectUri: b.redirectUri('twitch') });
    const first = await authorizeViaRedirect(url);
    await b.w.streaming.connectPlatform('twitch', first.code, { userId, redirectUri: b.redirectUri('twitch'), state });
    const second = await authorizeViaRedirect(url);
    await expect(b.w.streaming.connectPlatform('twitch', second.code, { userId, redirectUri: b.redirectUri('twitch'), state })).rejects.toMatchObject({
      code: 'OAUTH_STATE_INVALID',
    });
  });

  it('a state issued to another user, or for another platform, is rejected', async () => {
    const { url, state } = await b.w.streaming.getAuthorizationUrl('youtube', { userId: 'u_alice', redirectUri: b.redirectUri('youtube') });
    const { code } = await authorizeViaRedirect(url);
    await expect(b.w.streaming.connectPlatform('youtube', code, { userId: 'u_mallory', redirectUri: b.redirectUri('youtube'), state })).rejects.toMatchObject({
      code: 'OAUTH_STATE_INVALID',
      context: { reason: 'wrong_user' },
    });
    const again = await b.w.streaming.getAuthorizationUrl('youtube', { userId: 'u_alice', redirectUri: b.redirectUri('youtube') });
    await expect(b.w.streaming.connectPlatform('twitch', code, { userId: 'u_alice', redirectUri: b.redirectUri('youtube'), state: again.state })).rejects.toMatchObject({
      code: 'OAUTH_STATE_INVALID',
    });
  });

  it('bad input from the callback or the URL is a typed error and touches nothing', async () => {
    const { state } = await b.w.streaming.getAuthorizationUrl('twitch', { userId: 'u_bad', redirectUri: b.redirectUri('twitch') });
    await expect(b.w.streaming.connectPlatform('twitch', 'bad code\n', { userId: 'u_bad', redirectUri: b.redirectUri('twitch'), state })).rejects.toMatchObject({ code: 'OAUTH_CODE_INVALID' });
    await expect(b.w.streaming.connectPlatform('twitch', 'abc', { userId: 'u_bad', redirectUri: b.redirectUri('twitch'), state: '*' })).rejects.toMatchObject({ code: 'OAUTH_STATE_INVALID' });
    await expect(b.w.streaming.getAuthorizationUrl('myspace', { userId: 'u_bad', redirectUri: 'x' })).rejects.toMatchObject({ code: 'UNKNOWN_PLATFORM' });
    for (const id of ['*', 'c_../../x', '', 'c_' + 'a'.repeat(500)]) {
      await expect(b.w.streaming.getLiveStatus('u_bad', id)).rejects.toMatchObject({ code: 'CONNECTION_NOT_FOUND' });
      await expect(b.w.streaming.disconnectPlatform('u_bad', id)).rejects.toMatchObject({ code: 'CONNECTION_NOT_FOUND' });
    }
    expect(await b.w.streaming.listConnections('u_bad')).toEqual([]);
  });

  it('an expired state is rejected', async () => {
    const store = new OAuthStateStore(b.w.redis, b.config.REDIS_KEY_PREFIX, 1);
    const state = await store.create({ userId: 'u_late', platform: 'twitch', redirectUri: 'x' });
    await eventually(() => b.w.redis.exists(`${b.config.REDIS_KEY_PREFIX}:oauth:state:${state}`), (n) => n === 0, 10_000, 200);
    await expect(store.consume(state, { userId: 'u_late', platform: 'twitch', redirectUri: 'x' })).rejects.toMatchObject({ code: 'OAUTH_STATE_INVALID' });
  });

  it('a PKCE code cannot be exchanged without the verifier the server kept', async () => {
    const { url } = await b.w.streaming.getAuthorizationUrl('youtube', { userId: 'u_pkce', redirectUri: b.redirectUri('youtube') });
    const { code } = await authorizeViaRedirect(url);
    const adapter = (await import('../../platforms/registry')).adapterFor('youtube', b.w.platforms);
    await expect(adapter.exchangeCode({ code, redirectUri: b.redirectUri('youtube'), codeVerifier: 'not-the-verifier-not-the-verifier-not-the-verifier' })).rejects.toMatchObject({
      code: 'INVALID_GRANT',
      platform: 'youtube',
    });
  });

  for (const platform of ['twitch', 'youtube'] as const) {
    it(`${platform}: invalid_grant on refresh → reauth_required, a connection event, and no more tokens handed out`, async () => {
      const ch = simChannel(b.sim, platform, 1);
      const conn = await b.connect(platform, `u_${platform}_grant`, ch.login);
      const events: ConnectionEvent[] = [];
      const unsubscribe = await subscribeConnectionEvents(b.w.redis.duplicate(), b.config.REDIS_KEY_PREFIX, (e) => events.push(e));
      try {
        b.sim.state.revokeChannel(platform, ch.channelId); // the creator revoked our app in the platform's settings
        const t = (await b.w.connections.getTokens(conn.connectionId))!;
        await b.w.connections.saveTokens(conn.connectionId, { ...t, expiresAt: Date.now() - 1 });
        await expect(b.w.tokens.getAccessToken(conn.connectionId)).rejects.toBeInstanceOf(ReauthRequiredError);
        expect((await b.w.connections.get(conn.connectionId))!.status).toBe('reauth_required');
        expect((await b.w.connections.listActive()).map((c) => c.connectionId)).not.toContain(conn.connectionId);
        await eventually(async () => events, (e) => e.some((x) => x.type === 'reauth_required' && x.connectionId === conn.connectionId), 10_000, 100);
        expect(events.find((x) => x.type === 'reauth_required')).toEqual({ type: 'reauth_required', connectionId: conn.connectionId, userId: conn.userId, platform, channelId: ch.channelId });
        const calls = b.sim.state.counters.tokenCalls[`${platform}:refresh_token`];
        await expect(b.w.tokens.getAccessToken(conn.connectionId)).rejects.toBeInstanceOf(ReauthRequiredError);
        expect(b.sim.state.counters.tokenCalls[`${platform}:refresh_token`]).toBe(calls); // no more refresh attempts
      } finally {
        await unsubscribe();
      }
    });
  }

  it('a 401 mid-use (token revoked early) is refreshed once and the call retried', async () => {
    const ch = simChannel(b.sim, 'twitch', 2);
    const conn = await b.connect('twitch', 'u_401', ch.login);
    b.sim.inject({ route: '/helix/streams', kind: 'expired_token' });
    const s = await b.w.streaming.getLiveStatus('u_401', conn.connectionId);
    expect(s.channelId).toBe(ch.channelId);
  });

  it('Twitch hourly validation: valid token passes; an invalid one is refreshed', async () => {
    const ch = simChannel(b.sim, 'twitch', 3);
    const conn = await b.connect('twitch', 'u_validate', ch.login);
    expect(await b.w.tokens.validate(conn.connectionId)).toBe('valid');
    b.sim.state.expireChannel('twitch', ch.channelId);
    expect(await b.w.tokens.validate(conn.connectionId)).toBe('refreshed');
    expect(await b.w.tokens.validate(conn.connectionId)).toBe('valid');
    expect((await b.w.tokens.validateAll('twitch')).valid).toBeGreaterThanOrEqual(1);
    b.sim.state.revokeChannel('twitch', ch.channelId);
    expect(await b.w.tokens.validate(conn.connectionId)).toBe('reauth_required');
  });

  it('logs of a connect, refresh, 401 and reauth never contain a token or a code', async () => {
    const lines: string[] = [];
    const logger = createLogger('trace', { write: (l: string) => void lines.push(l) });
    const w = b.worker(logger);
    const ch = simChannel(b.sim, 'youtube', 3);
    const conn = await b.connect('youtube', 'u_logs', ch.login, w);
    const t = (await w.connections.getTokens(conn.connectionId))!;
    await w.connections.saveTokens(conn.connectionId, { ...t, expiresAt: Date.now() - 1 });
    await w.tokens.getAccessToken(conn.connectionId);
    b.sim.inject({ route: '/youtube/v3/liveBroadcasts', kind: 'expired_token' });
    await w.streaming.getLiveStatus('u_logs', conn.connectionId);
    const now = (await w.connections.getTokens(conn.connectionId))!;
    b.sim.state.revokeChannel('youtube', ch.channelId);
    await w.connections.saveTokens(conn.connectionId, { ...now, expiresAt: Date.now() - 1 });
    await expect(w.tokens.getAccessToken(conn.connectionId)).rejects.toBeInstanceOf(ReauthRequiredError);
    const all = lines.join('');
    expect(lines.length).toBeGreaterThan(2);
    for (const secret of [t.accessToken, t.refreshToken!, now.accessToken]) expect(all).not.toContain(secret);
  });
});
