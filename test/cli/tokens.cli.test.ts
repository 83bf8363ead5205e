import { execFile } from 'node:child_process';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { REPO_ROOT } from '../../shared/paths';
import { ApiTokenStore } from '../../shared/auth/api-tokens';
import { createRedis } from '../../shared/redis/redis';
import { randomSuffix, testConfig } from '../support/stack';

/** Issue 17: `spacehub tokens list|revoke` (and create with an expiry) against the real Redis, as a script runs them. */
describe('spacehub tokens (real Redis)', () => {
  const config = testConfig();
  const env = { ...process.env, REDIS_URL: config.REDIS_URL, REDIS_KEY_PREFIX: config.REDIS_KEY_PREFIX, LOG_LEVEL: 'silent' };
  let redis: Redis;
  let store: ApiTokenStore;
  const user = `cli_${randomSuffix()}`;

  const spacehub = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(path.join(REPO_ROOT, 'bin', 'spacehub'), args, { env, timeout: 180_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }));
    });

  beforeAll(async () => {
    redis = createRedis(config.REDIS_URL);
    store = new ApiTokenStore(redis, config.REDIS_KEY_PREFIX);
    await store.createUser('Cli', user);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${config.REDIS_KEY_PREFIX}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('creates an expiring token, lists it without the token, revokes it by id; revoking again fails', async () => {
    const created = await spacehub('tokens', 'create', '--user', user, '--label', 'ci', '--expires-in-days', '2');
    expect(created.code).toBe(0);
    const t = JSON.parse(created.stdout) as { token: string; tokenId: string; expiresAt: number };
    expect(t.expiresAt).toBeGreaterThan(Date.now() + 86400_000);
    expect(await store.authenticate(t.token)).toMatchObject({ userId: user, tokenId: t.tokenId });

    const listed = await spacehub('tokens', 'list', '--user', user);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([{ tokenId: t.tokenId, label: 'ci', createdAt: expect.any(Number), expiresAt: t.expiresAt }]);
    expect(listed.stdout).not.toContain(t.token);

    const revoked = await spacehub('tokens', 'revoke', '--user', user, t.tokenId);
    expect(revoked.code).toBe(0);
    expect(await store.authenticate(t.token)).toBeNull();
    expect(JSON.parse((await spacehub('tokens', 'list', '--user', user)).stdout)).toEqual([]);
    const again = await spacehub('tokens', 'revoke', '--user', user, t.tokenId);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`has no token ${t.tokenId}`);
  });

  it('only revokes the named user\'s own token', async () => {
    await store.createUser('Other', `${user}_other`);
    const theirs = await store.createToken(`${user}_other`);
    expect((await spacehub('tokens', 'revoke', '--user', user, theirs.tokenId)).code).toBe(1);
    expect(await store.authenticate(theirs.token)).not.toBeNull();
  });
});
