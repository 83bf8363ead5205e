import type { Redis } from 'ioredis';
import { ApiTokenStore } from '../../shared/auth/api-tokens';
import { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import { createRedis } from '../../shared/redis/redis';
import { startApi, type RunningApi, type StartApiOptions } from '../../api/api.service';
import { ConnectionRepository, type Connection } from '../../platforms/connections/connection.repository';
import { TokenCipher } from '../../platforms/tokens/token-cipher';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../platforms/simulator/simulator.server';
import { testStack, type TestStack } from './stack';

/** The configuration that points every platform client at the simulator (its real paths, at `url`). */
export function simulatorEnv(url: string): Record<string, string> {
  return {
    PLATFORMS_MODE: 'simulator',
    TWITCH_AUTH_BASE_URL: url, TWITCH_API_BASE_URL: url, GOOGLE_AUTH_BASE_URL: url, GOOGLE_TOKEN_BASE_URL: url, YOUTUBE_API_BASE_URL: url,
  };
}

export interface ApiHarnessOptions {
  /** Config overrides for the test's stack (testStack). */
  env?: Record<string, string>;
  /** Users to create, id → display name; each gets one API token (`tokenOf`). */
  users?: Record<string, string>;
  /** Start the platform simulator first and point the platform clients at it. */
  simulator?: Omit<SimulatorOptions, 'port'>;
}

export interface ApiHarness {
  stack: TestStack;
  redis: Redis;
  /** The test's ClickHouse database, for fixtures. */
  repo: ClickHouseRepository;
  tokens: ApiTokenStore;
  connections: ConnectionRepository;
  /** The user id → API token of each user of `options.users`. */
  tokenOf: Record<string, string>;
  sim?: Simulator;
  /** Defined once `start` ran. */
  api: RunningApi;
  /** A connection as the platforms part would have stored it after OAuth (dummy platform tokens). */
  connect(userId: string, platform: string, channelId: string, identity?: { login?: string; displayName?: string; accessToken?: string; refreshToken?: string }): Promise<Connection>;
  /** Starts the API on a free port over this stack (fixtures are usually written first). */
  start(options?: Omit<StartApiOptions, 'port'>): Promise<RunningApi>;
  /** Closes the API, the clients and the simulator, then deletes the test's topics, database and keys. */
  close(): Promise<void>;
}

/**
 * The REST API's integration set-up in one place: an isolated stack (its own topic prefix, ClickHouse
 * database and Redis prefix), a Redis client, the test database's repository, users with tokens and
 * the ConnectionRepository the API reads ownership from — then, after the test's fixtures, the API.
 */
export async function apiHarness(options: ApiHarnessOptions = {}): Promise<ApiHarness> {
  const sim = options.simulator ? await startSimulator({ port: 0, ...options.simulator }) : undefined;
  const stack = await testStack({ ...(sim ? simulatorEnv(sim.url) : {}), ...options.env });
  const { config } = stack.rt;
  const redis = createRedis(config.REDIS_URL);
  const repo = new ClickHouseRepository(stack.rt.clickhouseSettings);
  const tokens = new ApiTokenStore(redis, config.REDIS_KEY_PREFIX);
  const connections = new ConnectionRepository(redis, config.REDIS_KEY_PREFIX, TokenCipher.fromKeyRing(config.TOKEN_ENCRYPTION_KEYS));
  const tokenOf: Record<string, string> = {};
  for (const [userId, name] of Object.entries(options.users ?? {})) {
    await tokens.createUser(name, userId);
    tokenOf[userId] = (await tokens.createToken(userId)).token;
  }
  let api: RunningApi | undefined;
  return {
    stack, redis, repo, tokens, connections, tokenOf, sim,
    get api(): RunningApi {
      if (!api) throw new Error('apiHarness: call start() before using the API');
      return api;
    },
    connect: (userId, platform, channelId, id = {}) =>
      connections.upsert(
        { userId, platform, channelId, login: id.login ?? channelId, displayName: id.displayName ?? channelId, scopes: [] },
        { accessToken: id.accessToken ?? 'a', refreshToken: id.refreshToken ?? 'r', expiresAt: null, scopes: [] },
      ),
    async start(o = {}) {
      api = await startApi(stack.rt, { port: 0, ...o });
      return api;
    },
    async close() {
      await api?.close();
      await repo.close();
      redis.disconnect();
      await stack.cleanup();
      await sim?.close();
    },
  };
}
