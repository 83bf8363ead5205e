import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { ApiTokenStore } from '../../shared/auth/api-tokens';
import { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import { createLogger } from '../../shared/logging/logger';
import { createRedis } from '../../shared/redis/redis';
import { ConnectionRepository } from '../../platforms/connections/connection.repository';
import { TokenCipher } from '../../platforms/tokens/token-cipher';
import { createWorld } from '../../platforms/simulator/world';
import { backfillHistory } from '../../models/history';
import { trainModels } from '../../models/trainer';
import { gatewayService } from '../../gateway/gateway.service';
import type { RunningService } from '../../shared/lifecycle/process.contract';
import { testStack, TestStack } from '../support/stack';
import { PlainClient } from './gateway.fixture';

const DAY = 86400_000;

/**
 * The `recommendation` event end to end: `spacehub gateway` as composed for production loads the
 * newest timing model, and when a new version is trained it pushes each connected channel's next best
 * slots to the channel's owner — and to nobody else.
 */
describe('gateway recommendation events from the models part (real ClickHouse, Kafka, Redis)', () => {
  let stack: TestStack;
  let gateway: RunningService;
  let redis: Redis;
  let repo: ClickHouseRepository;
  let aliceToken: string;
  let bobToken: string;
  const modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-models-'));
  const world = createWorld({ seed: 42, channels: 8 });
  const channel = world.channels[0]!;
  const port = 20000 + Math.floor(Math.random() * 9000);
  const train = (seed: number) =>
    trainModels({ repo, logger: createLogger('silent') }, { models: ['timing'], seed, holdoutDays: 7, trigger: 'test', backend: 'auto', modelsDir, epochs: { viewers: 5, timing: 5 } });

  beforeAll(async () => {
    stack = await testStack({ MODELS_DIR: modelsDir, MODELS_RELOAD_INTERVAL_MS: '300', GATEWAY_PORT: String(port) });
    repo = new ClickHouseRepository(stack.rt.clickhouseSettings);
    const now = Date.now();
    await backfillHistory(repo, world, { fromMs: now - 5 * 7 * DAY, toMs: now - 3600_000, sessionNoise: 0.2, pollNoise: 0.1, seed: 1 });
    await train(42);
    redis = createRedis(stack.rt.config.REDIS_URL);
    const tokens = new ApiTokenStore(redis, stack.rt.config.REDIS_KEY_PREFIX);
    await tokens.createUser('Alice', 'alice');
    await tokens.createUser('Bob', 'bob');
    aliceToken = (await tokens.createToken('alice')).token;
    bobToken = (await tokens.createToken('bob')).token;
    const connections = new ConnectionRepository(redis, stack.rt.config.REDIS_KEY_PREFIX, TokenCipher.fromKeyRing(stack.rt.config.TOKEN_ENCRYPTION_KEYS!));
    await connections.upsert(
      { userId: 'alice', platform: channel.platform, channelId: channel.channelId, login: channel.login, displayName: channel.displayName, scopes: [] },
      { accessToken: 'a', refreshToken: 'r', expiresAt: null, scopes: [] },
    );
    gateway = await gatewayService.start(stack.rt, { positional: [], flags: {} });
  });
  afterAll(async () => {
    await gateway?.close();
    await repo?.close();
    redis?.disconnect();
    await stack?.cleanup();
    fs.rmSync(modelsDir, { recursive: true, force: true });
  });

  it('a newly trained timing model pushes the owner top-3 slots over the live feed; other users get none', async () => {
    const alice = await PlainClient.connect(`ws://127.0.0.1:${port}/ws`, { token: aliceToken });
    const bob = await PlainClient.connect(`ws://127.0.0.1:${port}/ws`, { token: bobToken });
    await alice.request('join_stream_channel', {});
    await bob.request('join_stream_channel', {});
    await train(43); // a new version: the gateway's registry hot-reloads it and pushes
    const rec = await alice.waitFor('recommendation', (d) => (d as { channel?: { channelId?: string } }).channel?.channelId === channel.channelId, 60000);
    const top = (rec as { top: Array<{ hourOfWeek: number; expectedViewers: number }> }).top;
    expect(top).toHaveLength(3);
    for (const slot of top) {
      expect(slot.hourOfWeek).toBeGreaterThanOrEqual(0);
      expect(slot.hourOfWeek).toBeLessThan(168);
      expect(Number.isFinite(slot.expectedViewers)).toBe(true);
    }
    expect(bob.of('recommendation')).toEqual([]);
    alice.ws.close();
    bob.ws.close();
  }, 180000);
});
