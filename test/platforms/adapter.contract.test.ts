/**
 * The contract every PlatformAdapter honours (STYLE habit 15), run against each registered adapter
 * with the simulator behind it. A third platform joins by registration and must pass this unchanged.
 */
import axios from 'axios';
import { adapterFor, PLATFORMS } from '../../platforms/registry';
import { PlatformError } from '../../platforms/http/platform-error';
import { createPkcePair } from '../../platforms/oauth/pkce';
import type { PlatformAdapter, OAuthTokens } from '../../platforms/platform.adapter';
import type { SimChannel } from '../../platforms/simulator/world';
import { eventually } from '../support/stack';
import { platformBench, Bench } from './platform.fixture';

describe.each(PLATFORMS)('PlatformAdapter contract: %s', (platform) => {
  let b: Bench;
  let adapter: PlatformAdapter;
  let ch: SimChannel;
  let tokens: OAuthTokens;
  const redirectUri = 'http://127.0.0.1:9/callback';
  const pkce = createPkcePair();

  const issueCode = async () =>
    (
      await axios.post<{ code: string }>(`${b.sim.url}/__sim/codes`, {
        platform,
        channelId: ch.channelId,
        clientId: platform === 'twitch' ? b.config.TWITCH_CLIENT_ID : b.config.YOUTUBE_CLIENT_ID,
        redirectUri,
        scopes: adapter.scopes ?? [],
        ...(adapter.supportsPkce ? { codeChallenge: pkce.codeChallenge } : {}),
      })
    ).data.code;

  beforeAll(async () => {
    b = await platformBench({ sim: { channels: 16, chatScale: 20 } });
    adapter = adapterFor(platform, b.w.platforms);
    // The chattiest channel of this platform, so chat shows up within seconds.
    ch = b.sim.world.channels.filter((c) => c.platform === platform).sort((x, y) => y.baseViewers * y.chatRate - x.baseViewers * x.chatRate)[0]!;
    tokens = await adapter.exchangeCode({ code: await issueCode(), redirectUri, codeVerifier: pkce.codeVerifier });
  });
  afterAll(() => b.cleanup());

  it('builds an authorization URL carrying client id, redirect URI, state and (if supported) a PKCE challenge', () => {
    const u = new URL(adapter.authorizationUrl({ state: 'st4te', redirectUri, codeChallenge: pkce.codeChallenge }));
    expect(u.searchParams.get('state')).toBe('st4te');
    expect(u.searchParams.get('redirect_uri')).toBe(redirectUri);
    expect(u.searchParams.get('response_type')).toBe('code');
    expect(u.searchParams.get('client_id')).toBeTruthy();
    expect(u.searchParams.get('code_challenge')).toBe(adapter.supportsPkce ? pkce.codeChallenge : null);
  });

  it('exchanges a code for tokens with a future expiry and the granted scopes', () => {
    expect(tokens.accessToken).toBeTruthy();
    expect(tokens.refreshToken).toBeTruthy();
    expect(tokens.expiresAt!).toBeGreaterThan(Date.now());
    expect(Array.isArray(tokens.scopes)).toBe(true);
  });

  it('refuses a code used twice with INVALID_GRANT', async () => {
    const code = await issueCode();
    await adapter.exchangeCode({ code, redirectUri, codeVerifier: pkce.codeVerifier });
    await expect(adapter.exchangeCode({ code, redirectUri, codeVerifier: pkce.codeVerifier })).rejects.toMatchObject({ code: 'INVALID_GRANT', platform });
  });

  it('reads the identity of the token’s channel', async () => {
    expect(await adapter.identity(tokens.accessToken)).toEqual({ channelId: ch.channelId, login: ch.login, displayName: ch.displayName });
  });

  it('reports a live stream with viewers, stream id and start, and an offline one as such', async () => {
    b.sim.world.forceLive(ch.channelId, true, Date.now() - 600_000);
    const live = await adapter.streamState(tokens.accessToken, ch.channelId);
    const truth = b.sim.world.stateAt(ch.channelId, Date.now());
    expect(live).toMatchObject({ channelId: ch.channelId, live: true, streamId: truth.streamId, startedAt: Math.floor(truth.startedAt! / 1000) * 1000 });
    expect(live.viewers!).toBeGreaterThan(0);
    expect(live.title).toBeTruthy();
    b.sim.world.forceLive(ch.channelId, false);
    expect(await adapter.streamState(tokens.accessToken, ch.channelId)).toMatchObject({ live: false, viewers: null, streamId: null, startedAt: null });
    b.sim.world.forceLive(ch.channelId, true);
  });

  it('reads the follower (subscriber) count', async () => {
    const f = await adapter.followers(tokens.accessToken, ch.channelId);
    expect(f.channelId).toBe(ch.channelId);
    expect(Math.abs(f.followers - b.sim.world.followersAt(ch.channelId, Date.now()))).toBeLessThanOrEqual(2);
  });

  it('reports chat activity since the previous call, with pseudonymous chatter ids', async () => {
    b.sim.world.forceLive(ch.channelId, true, Date.now() - 600_000);
    let cursor: string | null = null;
    const first = await adapter.chat(tokens.accessToken, ch.channelId, cursor);
    cursor = first.cursor;
    const batch = await eventually(
      async () => {
        const r = await adapter.chat(tokens.accessToken, ch.channelId, cursor);
        cursor = r.cursor ?? cursor;
        return r;
      },
      (r) => r.messages > 0,
      30_000,
      1000,
    );
    expect(batch.channelId).toBe(ch.channelId);
    expect(batch.intervalEnd).toBeGreaterThanOrEqual(batch.intervalStart);
    expect(batch.chatterIds.length).toBeGreaterThan(0);
    expect(batch.chatterIds.length).toBeLessThanOrEqual(batch.messages);
    expect(new Set(batch.chatterIds).size).toBe(batch.chatterIds.length);
    for (const id of batch.chatterIds) expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/); // hashed, never the platform's id
  });

  it('refreshes to a new working access token', async () => {
    const next = await adapter.refresh(tokens.refreshToken!);
    expect(next.accessToken).not.toBe(tokens.accessToken);
    expect(next.refreshToken).toBeTruthy();
    expect(await adapter.validate(next.accessToken)).toBe(true);
    tokens = { ...next, refreshToken: next.refreshToken ?? tokens.refreshToken };
  });

  it('revokes: the token stops validating, refresh gives INVALID_GRANT, revoking again is harmless', async () => {
    expect(await adapter.validate(tokens.accessToken)).toBe(true);
    await adapter.revoke(tokens.accessToken);
    expect(await adapter.validate(tokens.accessToken)).toBe(false);
    await expect(adapter.refresh(tokens.refreshToken!)).rejects.toMatchObject({ code: 'INVALID_GRANT', platform });
    await expect(adapter.revoke(tokens.accessToken)).resolves.toBeUndefined();
  });

  it('fails API calls with a dead token as a typed UNAUTHORIZED PlatformError', async () => {
    const err = await adapter.streamState('not-a-token', ch.channelId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ code: 'UNAUTHORIZED', platform, retriable: false });
  });
});
