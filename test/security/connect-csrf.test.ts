import { apiHarness, type ApiHarness } from '../support/api.harness';

// Bodies are asserted field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/**
 * Issue 17, "Connect CSRF": the OAuth callback must be completed by the browser that started the flow
 * (an HttpOnly cookie set by /authorize), never by whoever the link was sent to; headless tools have
 * their own path (POST /v1/connections) that a third party's browser cannot complete. Real API, real
 * platforms part, the simulator as Twitch/YouTube (its consent screen approves at once, like Twitch
 * re-approving an already-granted app silently).
 */
describe('security: the OAuth connect flow is bound to the browser (or headless client) that started it', () => {
  let h: ApiHarness;
  let alice: string;
  let bob: string;
  const PUBLIC = 'https://api.spacehub.test';

  beforeAll(async () => {
    h = await apiHarness({ simulator: { seed: 11, channels: 6 }, env: { PUBLIC_BASE_URL: PUBLIC }, users: { alice: 'Alice', bob: 'Bob' } });
    ({ alice, bob } = h.tokenOf as { alice: string; bob: string });
    await h.start({ predictions: null });
  }, 120_000);
  afterAll(async () => h?.close());

  interface Answer { status: number; type: string | null; location: string | null; setCookie: string[]; body: Json }
  const call = async (method: string, path: string, o: { token?: string; cookie?: string; accept?: string; body?: unknown } = {}): Promise<Answer> => {
    const headers: Record<string, string> = {};
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.cookie) headers.cookie = o.cookie;
    if (o.accept) headers.accept = o.accept;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${h.api.url}${path}`, { method, headers, redirect: 'manual', body: o.body === undefined ? undefined : JSON.stringify(o.body) });
    const text = await res.text();
    let body: Json;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    return { status: res.status, type: res.headers.get('content-type'), location: res.headers.get('location'), setCookie: res.headers.getSetCookie(), body };
  };

  /** The cookie pair ("name=value") a browser would send back, from a Set-Cookie header. */
  const cookiePair = (setCookie: string[]) => setCookie.map((c) => c.split(';')[0]!).find((c) => c.startsWith('spacehub_oauth_') && !c.endsWith('='));

  /** The platform's consent: follow its URL, return the path + query our callback is reached at. */
  async function platformRedirect(url: string): Promise<string> {
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(back.origin).toBe(PUBLIC);
    return back.pathname + back.search;
  }

  const connectionsOf = async (token: string) => (await call('GET', '/v1/connections', { token })).body.connections as Json[];

  it('a callback completed without the starting browser\'s cookie connects nothing and says why', async () => {
    // alice starts the flow with her own token and sends the platform link to someone else…
    const start = await call('GET', '/v1/auth/twitch/authorize', { token: alice });
    expect(start.status).toBe(200);
    expect(cookiePair(start.setCookie)).toBeDefined();
    // …whose browser (the platform re-approves silently) is redirected to our callback without alice's cookie.
    const landing = await platformRedirect(start.body.url);
    const r = await call('GET', landing);
    expect(r.status).toBe(403);
    expect(r.type).toContain('application/problem+json');
    expect(r.body.type).toBe('urn:spacehub:problem:oauth-browser-mismatch');
    expect(r.body.detail).toMatch(/cookie/i);
    expect(await connectionsOf(alice)).toEqual([]);
    // The state is spent: alice cannot replay the victim's landing URL with her cookie afterwards.
    const replay = await call('GET', landing, { cookie: cookiePair(start.setCookie) });
    expect(replay.status).toBe(401);
    expect(await connectionsOf(alice)).toEqual([]);
  });

  it('a browser navigation without the cookie is sent back to the dashboard with a short error code', async () => {
    const start = await call('GET', '/v1/auth/twitch/authorize', { token: alice });
    const landing = await platformRedirect(start.body.url);
    const r = await call('GET', landing, { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' });
    expect(r.status).toBe(303);
    expect(r.location).toBe('/?connect_error=oauth-browser-mismatch');
    expect(await connectionsOf(alice)).toEqual([]);
  });

  it('another user\'s binding cookie does not complete the flow either', async () => {
    const aliceStart = await call('GET', '/v1/auth/twitch/authorize', { token: alice });
    const bobStart = await call('GET', '/v1/auth/twitch/authorize', { token: bob });
    const landing = await platformRedirect(aliceStart.body.url);
    const r = await call('GET', landing, { cookie: cookiePair(bobStart.setCookie) });
    expect(r.status).toBe(403);
    expect(r.body.type).toBe('urn:spacehub:problem:oauth-browser-mismatch');
    expect(await connectionsOf(alice)).toEqual([]);
    expect(await connectionsOf(bob)).toEqual([]);
  });

  it('the binding cookie is HttpOnly, SameSite=Lax, Path=/v1/auth and Secure (the public URL is https)', async () => {
    const start = await call('GET', '/v1/auth/youtube/authorize', { token: alice });
    const set = start.setCookie.find((c) => c.startsWith('spacehub_oauth_youtube='))!;
    expect(set).toBeDefined();
    expect(set).toMatch(/;\s*HttpOnly/i);
    expect(set).toMatch(/;\s*SameSite=Lax/i);
    expect(set).toMatch(/;\s*Path=\/v1\/auth(;|$)/i);
    expect(set).toMatch(/;\s*Secure/i);
    expect(set).toMatch(/;\s*Max-Age=\d+/i);
    // The cookie carries a nonce, not the state.
    expect(set).not.toContain(start.body.state);
  });

  it('the browser that started the flow connects: JSON 201 for API clients, 303 to /?connected=<platform> for a navigation', async () => {
    const start = await call('GET', '/v1/auth/twitch/authorize', { token: alice });
    const cookie = cookiePair(start.setCookie)!;
    const done = await call('GET', await platformRedirect(start.body.url), { cookie });
    expect(done.status).toBe(201);
    expect(done.body).toMatchObject({ platform: 'twitch', status: 'active' });
    // The binding cookie is cleared once used.
    expect(done.setCookie.some((c) => /^spacehub_oauth_twitch=;/.test(c))).toBe(true);

    const yt = await call('GET', '/v1/auth/youtube/authorize', { token: alice });
    const nav = await call('GET', await platformRedirect(yt.body.url), { cookie: cookiePair(yt.setCookie)!, accept: 'text/html,*/*;q=0.8' });
    expect(nav.status).toBe(303);
    expect(nav.location).toBe('/?connected=youtube');
    expect((await connectionsOf(alice)).map((c) => c.platform).sort()).toEqual(['twitch', 'youtube']);
  });

  it('the consent screen is forced (Twitch force_verify=true, Google prompt=consent)', async () => {
    const tw = new URL((await call('GET', '/v1/auth/twitch/authorize', { token: bob })).body.url);
    expect(tw.searchParams.get('force_verify')).toBe('true');
    const yt = new URL((await call('GET', '/v1/auth/youtube/authorize', { token: bob })).body.url);
    expect(yt.searchParams.get('prompt')).toBe('consent');
  });

  describe('headless clients', () => {
    it('a headless state completes only through POST /v1/connections with the same user\'s token', async () => {
      const start = await call('GET', '/v1/auth/twitch/authorize?client=headless', { token: bob });
      expect(start.status).toBe(200);
      expect(cookiePair(start.setCookie)).toBeUndefined();
      const landing = new URL(await platformRedirect(start.body.url), PUBLIC);
      const code = landing.searchParams.get('code')!;
      const state = landing.searchParams.get('state')!;

      // another user's token → 403, nothing is connected, and the state survives for its owner
      const aliceBefore = await connectionsOf(alice);
      const foreign = await call('POST', '/v1/connections', { token: alice, body: { platform: 'twitch', code, state } });
      expect(foreign.status).toBe(403);
      expect(await connectionsOf(alice)).toEqual(aliceBefore);

      const done = await call('POST', '/v1/connections', { token: bob, body: { platform: 'twitch', code, state } });
      expect(done.status).toBe(201);
      expect(done.body).toMatchObject({ platform: 'twitch', status: 'active' });
      expect((await call('POST', '/v1/connections', { token: bob, body: { platform: 'twitch', code, state } })).status).toBe(401);
    });

    it('a headless state sent to someone else\'s browser cannot be completed at the callback', async () => {
      const start = await call('GET', '/v1/auth/youtube/authorize?client=headless', { token: alice });
      const landing = await platformRedirect(start.body.url);
      const r = await call('GET', landing);
      expect(r.status).toBe(403);
      expect(r.body.type).toBe('urn:spacehub:problem:oauth-headless-state');
      expect(r.body.detail).toMatch(/POST \/v1\/connections/);
      expect((await connectionsOf(alice)).filter((c) => c.platform === 'youtube' && c.status === 'active')).toHaveLength(1); // only the earlier browser connect
    });

    it('a browser state cannot be completed through the headless path', async () => {
      const start = await call('GET', '/v1/auth/twitch/authorize', { token: bob });
      const landing = new URL(await platformRedirect(start.body.url), PUBLIC);
      const r = await call('POST', '/v1/connections', { token: bob, body: { platform: 'twitch', code: landing.searchParams.get('code'), state: landing.searchParams.get('state') } });
      expect(r.status).toBe(403);
      expect(r.body.type).toBe('urn:spacehub:problem:oauth-browser-state');
    });

    it('POST /v1/connections needs a token and validates its body', async () => {
      expect((await call('POST', '/v1/connections', { body: { platform: 'twitch', code: 'abc', state: 'ABCDEFGHIJKLMNOP' } })).status).toBe(401);
      const bad = await call('POST', '/v1/connections', { token: bob, body: { platform: 'myspace', code: 'abc' } });
      expect(bad.status).toBe(400);
      expect(bad.body.invalidParams.map((p: Json) => p.name).sort()).toEqual(['platform', 'state']);
    });
  });
});
