/**
 * Issue 18.6: the adapter works against Twitch's own mock Helix API (`twitch mock-api start`), which
 * serves Helix under `/mock` and tokens under `/auth` — base URLs that carry a path.
 */
import { TwitchService, twitchRoot } from '../../platforms/twitch/twitch.adapter';
import { startMockApi } from '../support/twitch-cli';

jest.setTimeout(120_000);

describe('Twitch adapter against the Twitch CLI mock API (base URLs with a path)', () => {
  let mock: Awaited<ReturnType<typeof startMockApi>>;
  let twitch: TwitchService;
  let token: string;
  let userId: string;

  beforeAll(async () => {
    mock = await startMockApi();
    twitch = new TwitchService({
      clientId: mock.clientId, clientSecret: mock.clientSecret,
      apiBaseUrl: `${mock.url}/mock`, authBaseUrl: `${mock.url}/auth`, eventSubUrl: 'ws://127.0.0.1:9/ws', timeoutMs: 5000,
    });
    const users = (await (await fetch(`${mock.url}/units/users`)).json()) as { data: Array<{ id: string }> };
    userId = users.data[0]!.id;
    const q = new URLSearchParams({ client_id: mock.clientId, client_secret: mock.clientSecret, grant_type: 'user_token', user_id: userId, scope: 'moderator:read:followers user:read:email' });
    const t = (await (await fetch(`${mock.url}/auth/authorize?${q}`, { method: 'POST' })).json()) as { access_token: string };
    token = t.access_token;
  });
  afterAll(async () => {
    await twitch?.close();
    await mock?.stop();
  });

  it('a base URL without a path gets Twitch\'s path; one with a path is the root', () => {
    expect(twitchRoot('https://api.twitch.tv', '/helix')).toBe('https://api.twitch.tv/helix');
    expect(twitchRoot('http://127.0.0.1:8090/', '/oauth2')).toBe('http://127.0.0.1:8090/oauth2');
    expect(twitchRoot('http://127.0.0.1:8080/mock/', '/helix')).toBe('http://127.0.0.1:8080/mock');
    expect(twitch.authorizationUrl({ state: 's', redirectUri: 'http://x/cb' })).toMatch(new RegExp(`^${mock.url}/auth/authorize\\?`));
  });

  it('identity, stream state and followers come from /mock/users, /mock/streams, /mock/channels/followers', async () => {
    const id = await twitch.identity(token);
    expect(id.channelId).toBe(userId);
    const state = await twitch.streamState(token, userId);
    expect(state.channelId).toBe(userId);
    // mock-api generate makes every generated user live with a stream.
    expect(state.live).toBe(true);
    expect(state.streamId).toEqual(expect.any(String));
    expect(state.viewers).toEqual(expect.any(Number));
    const f = await twitch.followers(token, userId);
    expect(f.followers).toBeGreaterThanOrEqual(0);
  });

  it('token validation goes to /auth/validate: a real token is valid, a made-up one is not', async () => {
    expect(await twitch.validate(token)).toBe(true);
    expect(await twitch.validate('not-a-token')).toBe(false);
  });
});
