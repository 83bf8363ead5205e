import { ApiTokenStore, MAX_TOKENS_PER_USER } from '../../shared/auth/api-tokens';
import { apiHarness, type ApiHarness } from '../support/api.harness';
import { eventually } from '../support/stack';

type Json = Record<string, unknown>;

/**
 * Audit of 2026-12-02: `POST /v1/tokens` let any token mint tokens. An expiring token (the one handed
 * to a CI job for a day) could issue one that never expires, so its expiry bounded nothing; and a user
 * could mint tokens without end, each with its own rate-limit budget (the limit counts per token), so
 * the per-token limit multiplied by however many tokens they cared to mint.
 */
describe('API tokens cannot be minted past their limits (real Redis)', () => {
  let h: ApiHarness;
  let store: ApiTokenStore;

  const post = async (token: string, body: unknown) => {
    const res = await fetch(`${h.api.url}/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Json };
  };

  beforeAll(async () => {
    h = await apiHarness({ env: { API_RATE_LIMIT_PER_MINUTE: '100000' } });
    store = h.tokens;
    await store.createUser('Carol', 'carol');
    await store.createUser('Dave', 'dave');
    await h.start({ streaming: null, predictions: null });
  });
  afterAll(async () => h?.close());

  it('a token that expires issues only tokens that expire no later than it does', async () => {
    const callerExpiry = Date.now() + 3 * 86400_000;
    const ci = await store.createToken('carol', 'ci', { expiresAt: callerExpiry });

    // No expiry asked: the new token inherits the caller's, it does not get "never".
    const inherited = await post(ci.token, { label: 'child' });
    expect(inherited.status).toBe(201);
    expect(inherited.body.expiresAt).toBe(new Date(callerExpiry).toISOString());

    // A shorter one is fine.
    const shorter = await post(ci.token, { label: 'shorter', expiresInDays: 1 });
    expect(shorter.status).toBe(201);
    expect(Date.parse(String(shorter.body.expiresAt))).toBeLessThan(callerExpiry);

    // One that would outlive the caller is refused, naming the field, and nothing is issued.
    const before = (await store.listTokens('carol')).length;
    const longer = await post(ci.token, { label: 'longer', expiresInDays: 30 });
    expect(longer.status).toBe(403);
    expect(longer.body).toMatchObject({ type: 'urn:spacehub:problem:token-outlives-caller' });
    expect(JSON.stringify(longer.body)).not.toContain('shub_');
    expect((await store.listTokens('carol')).length).toBe(before);

    // A child of a child is bound by the same expiry.
    const grandchild = await post(String(inherited.body.token), { label: 'grandchild' });
    expect(grandchild.status).toBe(201);
    expect(Date.parse(String(grandchild.body.expiresAt))).toBeLessThanOrEqual(callerExpiry);

    // A token without expiry still issues tokens without expiry.
    const laptop = await store.createToken('carol', 'laptop');
    expect((await post(laptop.token, { label: 'forever' })).body.expiresAt).toBeNull();
  });

  it(`a user holds at most MAX_TOKENS_PER_USER (${MAX_TOKENS_PER_USER}) live tokens, even when they are requested all at once`, async () => {
    const first = await store.createToken('dave', 'first');
    const extra = MAX_TOKENS_PER_USER + 15;
    const answers = await Promise.all(Array.from({ length: extra }, (_, i) => post(first.token, { label: `mint-${i}` })));
    const created = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status !== 201);
    expect(created).toHaveLength(MAX_TOKENS_PER_USER - 1);
    expect(refused.length).toBe(extra - (MAX_TOKENS_PER_USER - 1));
    for (const r of refused) expect(r).toMatchObject({ status: 409, body: { type: 'urn:spacehub:problem:token-limit' } });
    expect((await store.listTokens('dave')).length).toBe(MAX_TOKENS_PER_USER);

    // Revoking one frees a slot; expired tokens do not hold one.
    const victim = String(created[0]!.body.tokenId);
    expect(await store.revokeToken('dave', victim)).toBe(true);
    expect((await post(first.token, { label: 'after-revoke' })).status).toBe(201);
    expect((await post(first.token, { label: 'over' })).status).toBe(409);
  });

  it('expired tokens do not count towards the limit', async () => {
    await store.createUser('Erin', 'erin');
    const main = await store.createToken('erin', 'main');
    // Long enough to be created and counted on a loaded box; the wait below is for the condition, not a sleep.
    const soon = Date.now() + 10_000;
    for (let i = 0; i < MAX_TOKENS_PER_USER - 1; i++) await store.createToken('erin', `short-${i}`, { expiresAt: soon });
    expect((await post(main.token, { label: 'full' })).status).toBe(409);
    const after = await eventually(() => post(main.token, { label: 'after-expiry' }), (r) => r.status !== 409, 60_000, 500);
    expect(after.status).toBe(201);
    expect(Date.now()).toBeGreaterThanOrEqual(soon);
  });
});
