import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Redis } from 'ioredis';
import { z } from 'zod/v4';
import { ApiTokenStore } from '../../shared/auth/api-tokens';
import { DataVersions } from '../../shared/redis/data-version';
import { RateLimiter } from '../../shared/redis/rate-limiter';
import { createRedis } from '../../shared/redis/redis';
import { ConnectionRepository } from '../../platforms/connections/connection.repository';
import { TokenCipher } from '../../platforms/tokens/token-cipher';
import { ChannelAccessService } from '../../api/channels/channel-access.service';
import { errorHandler } from '../../api/http/error.middleware';
import { requestGuard } from '../../api/http/request-guard';
import { defineRoute, mountRoutes } from '../../api/http/route';
import { createLogger } from '../../shared/logging/logger';
import { randomSuffix, testConfig } from '../support/stack';

/**
 * The API's request guard (api/http/request-guard.ts) against the real Redis and the real owners of
 * the keys (ApiTokenStore, RateLimiter, ConnectionRepository, DataVersions): a request of a token seen
 * before makes ONE Redis round trip for token, rate limit, channel owners and data version — and is
 * refused exactly as before: an unknown, revoked or expired token 401 (even one the guard saw before),
 * another user's channel 403, over the limit 429.
 */
describe('request guard: one Redis round trip, the same refusals (real Redis)', () => {
  const config = testConfig();
  const prefix = `t${randomSuffix()}`;
  let redis: Redis;
  let trips = 0;
  let server: http.Server;
  let url: string;
  let tokens: ApiTokenStore;
  let connections: ConnectionRepository;
  let versions: DataVersions;

  /** Counts the client's writes to its socket: one per command sent alone, one per pipeline — its round trips. */
  const countTrips = async (r: Redis) => {
    await r.ping();
    const socket = (r as unknown as { stream: { write: (...a: unknown[]) => boolean } }).stream;
    const write = socket.write.bind(socket);
    socket.write = (...a: unknown[]) => {
      trips++;
      return write(...a);
    };
  };

  beforeAll(async () => {
    redis = createRedis(config.REDIS_URL);
    await countTrips(redis);
    const r = redis;
    tokens = new ApiTokenStore(r, prefix);
    connections = new ConnectionRepository(r, prefix, TokenCipher.fromKeyRing(config.TOKEN_ENCRYPTION_KEYS));
    versions = new DataVersions(r, prefix);
    for (const u of ['alice', 'bob']) await tokens.createUser(u, u);
    await connections.upsert({ userId: 'alice', platform: 'twitch', channelId: 'g1', login: 'g1', displayName: 'g1', scopes: [] }, { accessToken: 'a', refreshToken: 'r', expiresAt: null, scopes: [] });
    await versions.bump([{ platform: 'twitch', channelId: 'g1' }]);
    const access = new ChannelAccessService(connections);
    const route = defineRoute({
      method: 'get', path: '/v1/channels/{platform}/{channelId}/x', operationId: 'x', summary: 'x', tags: ['x'], readsChannel: true,
      params: z.object({ platform: z.enum(['twitch']), channelId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) }),
      success: { status: 200, description: 'x' },
      async handler({ params, principal, channel }) {
        await access.requireOwner(principal, params.platform, params.channelId, channel?.activeOwners);
        return { userId: principal.userId, channel: channel ?? null };
      },
    });
    const app = express();
    const router = express.Router();
    mountRoutes(router, [route], requestGuard({
      redis: r, tokens, limiter: new RateLimiter(r, prefix, 5),
      channel: { activeOwners: (p, c) => connections.activeOwnersRead(p, c), dataVersion: (c) => versions.versionRead(c) },
    }));
    app.use(router);
    app.use(errorHandler(createLogger('silent')));
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  /** A request and the Redis round trips it made. */
  const get = async (token: string | null, channelId = 'g1') => {
    const before = trips;
    const res = await fetch(`${url}/v1/channels/twitch/${channelId}/x`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, body: (await res.json()) as { userId?: string; channel?: unknown }, trips: trips - before, remaining: res.headers.get('ratelimit-remaining') };
  };

  it('a known token: token, rate limit, owners and version in one round trip (the first request of a token: two)', async () => {
    const { token } = await tokens.createToken('alice', 'one-trip');
    const first = await get(token);
    expect(first).toMatchObject({ status: 200, trips: 2, remaining: '4' });
    expect(first.body).toEqual({ userId: 'alice', channel: { activeOwners: ['alice'], dataVersion: '1' } });
    const second = await get(token);
    expect(second).toMatchObject({ status: 200, trips: 1, remaining: '3' });
    expect(second.body).toEqual(first.body);
  });

  it('refused as before: no token, a malformed or unknown token 401; a revoked or expired token 401 though the guard knew it', async () => {
    expect((await get(null)).status).toBe(401);
    expect((await get('not-ours')).status).toBe(401);
    expect((await get(`shub_${'x'.repeat(43)}`)).status).toBe(401);
    const revoked = await tokens.createToken('alice', 'revoked');
    expect((await get(revoked.token)).status).toBe(200);
    expect(await tokens.revokeToken('alice', revoked.tokenId)).toBe(true);
    expect((await get(revoked.token)).status).toBe(401);
    const expiring = await tokens.createToken('alice', 'expiring', { expiresAt: Date.now() + 1500 });
    expect((await get(expiring.token)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    expect((await get(expiring.token)).status).toBe(401);
  });

  it('another user\'s channel is 403 with a known token; a channel awaiting re-authorisation is still its owner\'s', async () => {
    const bob = await tokens.createToken('bob', 'bob');
    expect((await get(bob.token)).status).toBe(403);
    const again = await get(bob.token);
    expect(again.status).toBe(403);
    expect(again.body).not.toHaveProperty('channel');
    // Not in the owner index (not active), so the full check answers: still alice's.
    const conn = await connections.upsert({ userId: 'alice', platform: 'twitch', channelId: 'g2', login: 'g2', displayName: 'g2', scopes: [] }, { accessToken: 'a', refreshToken: 'r', expiresAt: null, scopes: [] });
    await connections.setStatus(conn.connectionId, 'reauth_required');
    const { token } = await tokens.createToken('alice', 'reauth');
    const r = await get(token, 'g2');
    expect(r.status).toBe(200);
    expect(r.body.channel).toEqual({ activeOwners: [], dataVersion: '0' });
    await connections.setStatus(conn.connectionId, 'revoked');
    expect((await get(token, 'g2')).status).toBe(403);
  });

  it('over the token\'s limit: 429 with Retry-After, counted in the same round trip; invalid path parameters read no channel', async () => {
    const { token } = await tokens.createToken('alice', 'limited');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await get(token)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const other = await tokens.createToken('alice', 'params');
    await get(other.token);
    const bad = await get(other.token, 'bad*id');
    expect(bad.status).toBe(400);
    expect(bad.trips).toBe(1);
  });
});
