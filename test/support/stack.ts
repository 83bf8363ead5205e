import crypto from 'node:crypto';
import { Config, parseConfig } from '../../shared/config/config';
import { createLogger } from '../../shared/logging/logger';
import { bootstrap, createRuntime, Runtime } from '../../shared/runtime';
import { createClickHouse } from '../../shared/clickhouse/clickhouse.repository';
import { createRedis } from '../../shared/redis/redis';
import type { Redis } from 'ioredis';

export const randomSuffix = () => crypto.randomBytes(4).toString('hex');

/** A fresh AES-256 key ring for token encryption in tests. */
export const testEncryptionKeys = () => `k1:${crypto.randomBytes(32).toString('base64')}`;

/**
 * A config isolated for one test file: its own topic prefix, ClickHouse database and Redis key prefix
 * on the shared stack (STYLE habit 14), so suites run in parallel and leave nothing behind
 * (`TestStack.cleanup` deletes all three).
 */
export function testConfig(overrides: Record<string, string> = {}): Config {
  const id = randomSuffix();
  return parseConfig({
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    KAFKA_TOPIC_PREFIX: `t${id}`,
    KAFKA_PARTITIONS: '3',
    CLICKHOUSE_DATABASE: `t_${id}`,
    REDIS_KEY_PREFIX: `t${id}`,
    TOKEN_ENCRYPTION_KEYS: testEncryptionKeys(),
    // Prometheus on any free port: test files run in parallel processes.
    METRICS_PORT: '0',
    ...overrides,
  });
}

export interface TestStack {
  rt: Runtime;
  cleanup(): Promise<void>;
}

/** A bootstrapped runtime (migrations, topics, schemas) on an isolated namespace. */
export async function testStack(overrides: Record<string, string> = {}): Promise<TestStack> {
  const config = testConfig(overrides);
  const rt = createRuntime(config, createLogger(config.LOG_LEVEL));
  await bootstrap(rt);
  return {
    rt,
    async cleanup() {
      const admin = rt.kafka.admin();
      try {
        await admin.connect();
        const mine = (await admin.listTopics()).filter((t) => t.startsWith(`${config.KAFKA_TOPIC_PREFIX}.`));
        if (mine.length) await admin.deleteTopics({ topics: mine, timeout: 10000 }).catch(() => undefined);
      } finally {
        await admin.disconnect();
      }
      await dropTestDatabase(rt);
      const redis = createRedis(config.REDIS_URL);
      try {
        await deleteRedisKeys(redis, config.REDIS_KEY_PREFIX);
      } finally {
        redis.disconnect();
      }
    },
  };
}

/** Drops the runtime's own ClickHouse database (CLICKHOUSE_DATABASE of its test namespace); a database already gone is no error. */
export async function dropTestDatabase(rt: Runtime): Promise<void> {
  const ch = createClickHouse(rt.clickhouseSettings, undefined);
  try {
    await ch.command({ query: 'DROP DATABASE IF EXISTS {db:Identifier}', query_params: { db: rt.config.CLICKHOUSE_DATABASE } }).catch(() => undefined);
  } finally {
    await ch.close();
  }
}

/**
 * Deletes every key under `<prefix>:` (tokens, connections, BullMQ queues, rate limits: every part
 * keys its data under REDIS_KEY_PREFIX). SCAN, not KEYS, so a large prefix does not block the shared
 * Redis; UNLINK frees the memory off the main thread. Returns how many keys went.
 */
export async function deleteRedisKeys(redis: Redis, prefix: string): Promise<number> {
  if (!prefix) throw new Error('deleteRedisKeys needs a test prefix: an empty one would match every key');
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/**
 * Polls until `fn` returns a value that passes `ok`, or fails with the last value seen. An error of
 * `fn` is retried, unless `fatal` says it cannot pass later: then it is thrown at once.
 */
export async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30000, intervalMs = 250, fatal?: (err: unknown) => boolean): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (ok(last)) return last;
    } catch (err) {
      if (fatal?.(err)) throw err;
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}${lastErr ? `; last error: ${(lastErr as Error).message}` : ''}`);
}
