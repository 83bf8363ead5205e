import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { createRedis } from '../../shared/redis/redis';
import { repoPath } from '../../shared/paths';
import { ConnectionRepository } from '../../platforms/connections/connection.repository';
import { TokenCipher } from '../../platforms/tokens/token-cipher';
import { rotateStoredSecrets } from '../../cli/key-rotation';
import { WebhookRepository } from '../../notifications/webhook.repository';
import { deleteRedisKeys, randomSuffix, testConfig } from '../support/stack';

const run = promisify(execFile);
const k = () => crypto.randomBytes(32).toString('base64');

/**
 * Issue 17, "Secrets at rest" and "Key rotation": webhook URLs (a Discord URL is a credential: its path
 * carries the webhook token) are encrypted like the signing secrets, and `spacehub keys rotate`
 * re-encrypts every connection token and webhook secret and URL — active, idle and reauth_required
 * connections alike — with the newest key, so the old key can then be removed from the ring. Real Redis.
 */
describe('security: webhook URLs encrypted at rest; spacehub keys rotate re-encrypts everything with the newest key', () => {
  let redis: Redis;
  const prefix = `t${randomSuffix()}`;
  const OLD = `old:${k()}`;
  const NEW = `new:${k()}`;
  const discordUrl = 'https://discord.com/api/webhooks/123456789012345678/SuperSecretWebhookToken_abcdefghijklmnopqrstuvwxyz';
  const tokens = (n: number) => ({ accessToken: `access-${n}`, refreshToken: `refresh-${n}`, expiresAt: null, scopes: [] });

  beforeAll(() => {
    redis = createRedis(testConfig().REDIS_URL);
  });
  afterAll(async () => {
    await deleteRedisKeys(redis, prefix);
    redis.disconnect();
  });

  it('a Discord webhook URL is not stored in plaintext (nor its token), and reads back', async () => {
    const repo = new WebhookRepository(redis, prefix, TokenCipher.fromKeyRing(OLD));
    const created = await repo.create({ userId: 'alice', url: discordUrl, format: 'discord', events: ['stream_started'], description: '', secret: 's3cret-signing' });
    expect(created.url).toBe(discordUrl);
    const raw = (await redis.get(`${prefix}:notify:endpoint:${created.id}`))!;
    expect(raw).not.toContain('SuperSecretWebhookToken');
    expect(raw).not.toContain('discord.com');
    expect(raw).not.toContain('s3cret-signing');
    const stored = (await repo.get(created.id))!;
    expect(repo.urlOf(stored)).toBe(discordUrl);
    expect((await repo.listByUser('alice')).map((e) => repo.publicOf(e).url)).toEqual([discordUrl]);
  });

  it('rotation re-encrypts active, idle and reauth_required connections and every webhook; afterwards the old key can go', async () => {
    const old = TokenCipher.fromKeyRing(OLD);
    const connections = new ConnectionRepository(redis, prefix, old);
    const active = await connections.upsert({ userId: 'alice', platform: 'twitch', channelId: '1', login: 'a', displayName: 'A', scopes: [] }, tokens(1));
    const reauth = await connections.upsert({ userId: 'alice', platform: 'youtube', channelId: 'UC2', login: 'b', displayName: 'B', scopes: [] }, tokens(2));
    await connections.setStatus(reauth.connectionId, 'reauth_required');
    const idle = await connections.upsert({ userId: 'bob', platform: 'twitch', channelId: '3', login: 'c', displayName: 'C', scopes: [] }, tokens(3));
    await redis.srem(`${prefix}:connections:active`, idle.connectionId); // not polled by anyone right now
    const webhooks = new WebhookRepository(redis, prefix, old);
    const hook = await webhooks.create({ userId: 'bob', url: 'https://example.com/hook?token=abc', format: 'json', events: ['stream_ended'], description: '', secret: 'hook-secret' });
    // An endpoint stored before URLs were encrypted (plaintext `url`): rotation encrypts it too.
    const legacyId = 'wh_legacyEndpoint1';
    await redis.set(`${prefix}:notify:endpoint:${legacyId}`, JSON.stringify({ id: legacyId, userId: 'bob', url: discordUrl, format: 'discord', events: ['stream_started'], description: '', createdAt: 1, secretBlob: old.encrypt('legacy-secret', `webhook:${legacyId}`) }));

    const ring = TokenCipher.fromKeyRing(`${NEW},${OLD}`);
    const report = await rotateStoredSecrets({ redis, prefix, cipher: ring });
    expect(report.connections).toMatchObject({ rewritten: 3, failed: 0 });
    expect(report.webhooks).toMatchObject({ rewritten: 3, failed: 0 }); // the first test's endpoint, hook, legacy
    expect(JSON.stringify(await redis.get(`${prefix}:notify:endpoint:${legacyId}`))).not.toContain('SuperSecretWebhookToken');

    // Only the new key from here on.
    const onlyNew = TokenCipher.fromKeyRing(NEW);
    const c2 = new ConnectionRepository(redis, prefix, onlyNew);
    for (const [id, n] of [[active.connectionId, 1], [reauth.connectionId, 2], [idle.connectionId, 3]] as const) expect(await c2.getTokens(id)).toMatchObject({ accessToken: `access-${n}` });
    const w2 = new WebhookRepository(redis, prefix, onlyNew);
    expect(w2.secretOf((await w2.get(hook.id))!)).toBe('hook-secret');
    expect(w2.urlOf((await w2.get(hook.id))!)).toBe('https://example.com/hook?token=abc');
    expect(w2.urlOf((await w2.get(legacyId))!)).toBe(discordUrl);
    expect(w2.secretOf((await w2.get(legacyId))!)).toBe('legacy-secret');

    // A second run has nothing left to do.
    const again = await rotateStoredSecrets({ redis, prefix, cipher: ring });
    expect(again.connections.rewritten + again.webhooks.rewritten).toBe(0);
  });

  it('`spacehub keys rotate` runs it from the CLI with the configured key ring and reports the counts', async () => {
    const third = `third:${k()}`;
    const { stdout } = await run(repoPath('bin', 'spacehub'), ['keys', 'rotate'], {
      env: { ...process.env, SPACEHUB_DEV: '1', REDIS_KEY_PREFIX: prefix, TOKEN_ENCRYPTION_KEYS: `${third},${NEW}`, LOG_LEVEL: 'silent' },
      cwd: repoPath(),
      timeout: 120_000,
    });
    const out = JSON.parse(stdout) as { activeKeyId: string; connections: { rewritten: number; failed: number }; webhooks: { rewritten: number; failed: number } };
    expect(out).toMatchObject({ activeKeyId: 'third', connections: { rewritten: 3, failed: 0 }, webhooks: { rewritten: 3, failed: 0 } });
    const c3 = new ConnectionRepository(redis, prefix, TokenCipher.fromKeyRing(third));
    expect((await c3.listByUser('alice')).length).toBe(2);
    for (const c of [...(await c3.listByUser('alice')), ...(await c3.listByUser('bob'))]) expect(await c3.getTokens(c.connectionId)).toMatchObject({ accessToken: expect.stringMatching(/^access-/) });
  }, 150_000);
});
