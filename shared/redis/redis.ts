import IORedis, { Redis, RedisOptions } from 'ioredis';
import { ServiceUnavailableError } from '../errors/app-error';

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
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  try {
    while (Date.now() < deadline) {
      try {
        if (client.status === 'wait' || client.status === 'end') await client.connect();
        await client.ping();
        return;
      } catch (err) {
        lastErr = err;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  } finally {
    client.disconnect();
  }
  throw new ServiceUnavailableError('Redis', redactUrl(url), lastErr);
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
