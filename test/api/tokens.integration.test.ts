import { ApiTokenStore } from '../../shared/auth/api-tokens';
import { apiHarness, type ApiHarness } from '../support/api.harness';

type Json = Record<string, unknown> & { tokens?: Array<Record<string, unknown>> };

/** Issue 17: a user lists, issues (optionally expiring) and revokes their own API tokens over REST. */
describe('REST /v1/tokens (real Redis)', () => {
  let h: ApiHarness;
  let store: ApiTokenStore;
  let alice: string;
  let bob: string;

  const call = async (method: string, path: string, token: string | undefined, body?: unknown) => {
    const res = await fetch(`${h.api.url}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as Json };
  };

  beforeAll(async () => {
    h = await apiHarness({ env: { API_RATE_LIMIT_PER_MINUTE: '100000' } });
    store = h.tokens;
    await store.createUser('Alice', 'alice');
    await store.createUser('Bob', 'bob');
    alice = (await store.createToken('alice', 'laptop')).token;
    bob = (await store.createToken('bob')).token;
    await h.start({ streaming: null, predictions: null });
  });
  afterAll(async () => h?.close());

  it('lists the caller\'s own tokens without the tokens or their hashes, marking the current one', async () => {
    const r = await call('GET', '/v1/tokens', alice);
    expect(r.status).toBe(200);
    expect(r.body.tokens).toEqual([{ tokenId: expect.stringMatching(/^t_/), label: 'laptop', createdAt: expect.any(String), expiresAt: null, expired: false, current: true }]);
    expect(JSON.stringify(r.body)).not.toContain('shub_');
    expect(JSON.stringify(r.body)).not.toContain(ApiTokenStore.hash(alice));
    expect((await call('GET', '/v1/tokens', bob)).body.tokens).toHaveLength(1);
  });

  it('issues an expiring token (shown once) that works until it expires, then is refused', async () => {
    const created = await call('POST', '/v1/tokens', alice, { label: 'ci', expiresInDays: 1 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ tokenId: expect.stringMatching(/^t_/), label: 'ci', token: expect.stringMatching(/^shub_/), expired: false });
    const exp = Date.parse(String(created.body.expiresAt));
    expect(exp).toBeGreaterThan(Date.now() + 86400_000 - 60_000);
    expect(exp).toBeLessThanOrEqual(Date.now() + 86400_000);
    expect((await call('GET', '/v1/connections', String(created.body.token))).status).not.toBe(401);

    // An expiry is enforced at authentication: a token whose time has come is refused.
    const soon = await store.createToken('alice', 'soon', { expiresAt: Date.now() + 1500 });
    expect((await call('GET', '/v1/tokens', soon.token)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await call('GET', '/v1/tokens', soon.token)).status).toBe(401);
    const listed = (await call('GET', '/v1/tokens', alice)).body.tokens!;
    expect(listed.find((t) => t.tokenId === soon.tokenId)).toMatchObject({ expired: true });

    for (const bad of [{ expiresInDays: 0 }, { expiresInDays: 1.5 }, { expiresInDays: 99999 }, { label: '' }, { label: 'x'.repeat(101) }, { other: 1 }]) {
      expect((await call('POST', '/v1/tokens', alice, bad)).status).toBe(400);
    }
  });

  it('revokes one of the caller\'s tokens (then 401); another user\'s token id is 404 and stays valid', async () => {
    const extra = await call('POST', '/v1/tokens', alice, { label: 'to-revoke' });
    const token = String(extra.body.token);
    expect((await call('GET', '/v1/tokens', token)).status).toBe(200);
    const bobsId = (await call('GET', '/v1/tokens', bob)).body.tokens![0]!.tokenId as string;

    expect((await call('DELETE', `/v1/tokens/${bobsId}`, alice)).status).toBe(404);
    expect((await call('GET', '/v1/tokens', bob)).status).toBe(200);
    expect((await call('DELETE', `/v1/tokens/${String(extra.body.tokenId)}`, alice)).status).toBe(204);
    expect((await call('GET', '/v1/tokens', token)).status).toBe(401);
    expect((await call('DELETE', `/v1/tokens/${String(extra.body.tokenId)}`, alice)).status).toBe(404);
    expect((await call('DELETE', '/v1/tokens/not-an-id', alice)).status).toBe(400);
    expect((await call('GET', '/v1/tokens', alice)).body.tokens!.map((t) => t.label)).not.toContain('to-revoke');
  });

  it('needs authentication', async () => {
    expect((await call('GET', '/v1/tokens', undefined)).status).toBe(401);
    expect((await call('POST', '/v1/tokens', undefined, {})).status).toBe(401);
  });
});
