import { apiHarness, type ApiHarness } from '../support/api.harness';


// Response bodies are asserted field by field; a type per body would restate the schemas.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
/**
 * The OAuth connect flow through the API with the real platforms part (StreamingService, encrypted
 * ConnectionRepository) against the platform simulator, Redis and the rest of the real stack.
 */
describe('REST API connections: /v1/auth/{platform}/authorize → platform → /callback → /v1/connections', () => {
  let h: ApiHarness;
  let alice: string;
  let bob: string;
  const PUBLIC = 'http://api.spacehub.test';

  beforeAll(async () => {
    h = await apiHarness({ simulator: { seed: 7, channels: 4 }, env: { PUBLIC_BASE_URL: PUBLIC }, users: { alice: 'Alice', bob: 'Bob' } });
    ({ alice, bob } = h.tokenOf as { alice: string; bob: string });
    await h.start({ predictions: null });
  });
  afterAll(async () => h?.close());

  /** The binding cookie /authorize set (what the browser that started the flow sends back). */
  let cookie: string | undefined;
  const call = async (method: string, path: string, token?: string) => {
    const res = await fetch(`${h.api.url}${path}`, { method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(cookie ? { cookie } : {}) }, redirect: 'manual' });
    const set = res.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => !c.endsWith('='));
    if (set) cookie = set;
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type'), body: text ? JSON.parse(text) : undefined };
  };

  /** What the user's browser does: open the platform's URL (the simulator approves at once) and follow the redirect back to us. */
  async function consent(platform: string, token: string): Promise<string> {
    const start = await call('GET', `/v1/auth/${platform}/authorize`, token);
    expect(start.status).toBe(200);
    expect(start.body.redirectUri).toBe(`${PUBLIC}/v1/auth/${platform}/callback`);
    const res = await fetch(start.body.url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(back.origin + back.pathname).toBe(start.body.redirectUri);
    expect(back.searchParams.get('state')).toBe(start.body.state);
    return back.pathname + back.search; // the browser lands here, on the API
  }

  it('connects a Twitch channel from a browser redirect (no Bearer token: the single-use state and the browser\'s binding cookie authenticate), lists it, reads it, disconnects it', async () => {
    const landing = await consent('twitch', alice);
    const done = await call('GET', landing);
    expect(done.status).toBe(201);
    expect(done.body).toMatchObject({ platform: 'twitch', status: 'active', connectionId: expect.any(String), channelId: expect.any(String), needsReconnectFor: [] });
    expect(JSON.stringify(done.body)).not.toMatch(/accessToken|refreshToken|access_token/);
    const { connectionId, channelId } = done.body;

    // the state is spent
    expect((await call('GET', landing)).status).toBe(401);

    const list = await call('GET', '/v1/connections', alice);
    expect(list.body.connections.map((c: Json) => c.connectionId)).toEqual([connectionId]);
    expect((await call('GET', '/v1/connections', bob)).body.connections).toEqual([]);

    // the new channel is alice's to read, not bob's
    expect((await call('GET', `/v1/channels/twitch/${channelId}`, alice)).status).toBe(200);
    expect((await call('GET', `/v1/channels/twitch/${channelId}`, bob)).status).toBe(403);
    expect((await call('DELETE', `/v1/connections/${connectionId}`, bob)).status).toBe(403);

    expect((await call('DELETE', `/v1/connections/${connectionId}`, alice)).status).toBe(204);
    const after = await call('GET', '/v1/connections', alice);
    expect(after.body.connections[0]).toMatchObject({ connectionId, status: 'revoked' });
    expect((await call('GET', `/v1/channels/twitch/${channelId}`, alice)).status).toBe(403);
  });

  it('connects YouTube (PKCE) with the Bearer token of the user who started it', async () => {
    const landing = await consent('youtube', alice);
    const done = await call('GET', landing, alice);
    expect(done.status).toBe(201);
    expect(done.body).toMatchObject({ platform: 'youtube', status: 'active' });
  });

  it('a callback carrying another user\'s token → 403; an unknown state → 401; a declined consent → 400', async () => {
    const landing = await consent('twitch', alice);
    expect((await call('GET', landing, bob)).status).toBe(403);
    const unknown = await call('GET', '/v1/auth/twitch/callback?code=abc&state=ABCDEFGHIJKLMNOPQRSTUVWX');
    expect(unknown.status).toBe(401);
    expect(unknown.type).toContain('application/problem+json');
    const start = await call('GET', '/v1/auth/twitch/authorize', alice);
    const declined = await call('GET', `/v1/auth/twitch/callback?error=access_denied&state=${start.body.state}`);
    expect(declined.status).toBe(400);
    expect(declined.body.type).toBe('urn:spacehub:problem:authorization-denied');
  });

  it('a code the platform refuses → 400 problem, and nothing is connected', async () => {
    const start = await call('GET', '/v1/auth/twitch/authorize', bob);
    const r = await call('GET', `/v1/auth/twitch/callback?code=not-a-real-code&state=${start.body.state}`);
    expect(r.status).toBe(400);
    expect(r.body.type).toBe('urn:spacehub:problem:oauth-code-invalid');
    expect((await call('GET', '/v1/connections', bob)).body.connections).toEqual([]);
  });

  it('a Twitch connection made before subscriptions and cheers were asked for keeps working and says they need a reconnect (issue 18.3)', async () => {
    const old = await h.connections.upsert(
      { userId: 'bob', platform: 'twitch', channelId: '900018', login: 'oldscopes', displayName: 'OldScopes', scopes: ['user:read:email', 'moderator:read:followers', 'user:read:chat'] },
      { accessToken: 'a', refreshToken: 'r', expiresAt: null, scopes: ['user:read:email', 'moderator:read:followers', 'user:read:chat'] },
    );
    const list = await call('GET', '/v1/connections', bob);
    const mine = list.body.connections.find((c: Json) => c.connectionId === old.connectionId);
    expect(mine).toMatchObject({ status: 'active', needsReconnectFor: ['subscribers', 'cheers'] });
  });

  it('authorize needs a token and a known platform', async () => {
    expect((await call('GET', '/v1/auth/twitch/authorize')).status).toBe(401);
    const r = await call('GET', '/v1/auth/myspace/authorize', alice);
    expect(r.status).toBe(400);
    expect(r.body.invalidParams[0]).toMatchObject({ name: 'platform', in: 'path' });
  });
});
