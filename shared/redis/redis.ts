import IORedis, { Redis, RedisOptions } from 'ioredis';
import { waitUntilReachable } from '../errors/retry';

/**
 * The key prefix of every BullMQ queue (ingest's poll queues and DLQ, notifications' deliveries), under
 * the process's Redis prefix so tests and tenants stay isolated.
 */
export const bullPrefix = (redisKeyPrefix: string) => (redisKeyPrefix ? `${redisKeyPrefix}:bull` : 'bull');

/**
 * Redis connections. BullMQ needs `maxRetriesPerRequest: null` on the connections its workers
 * block on; everything else gets a bounded retry so a dead Redis surfaces as an error.
 */
export function createRedis(url: string, options: RedisOptions & { forBullMQ?: boolean } = {}): Redis {
  const { forBullMQ, ...rest } = options;
  return new IORedis(url, {
    lazyConnect: false,
    enableReadyCheck: true,
    connectTimeout: 5000,
    maxRetriesPerRequest: forBullMQ ? null : 3,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...rest,
  });
}

export async function waitForRedis(url: string, timeoutMs = 30000): Promise<void> {
  const client = createRedis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await waitUntilReachable('Redis', redactUrl(url), async () => {
      if (client.status === 'wait' || client.status === 'end') await client.connect();
      await client.ping();
    }, timeoutMs);
  } finally {
    client.disconnect();
  }
}

/** A URL fit for logs and error messages: any password removed. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
