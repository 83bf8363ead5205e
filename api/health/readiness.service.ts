import type { Kafka, Admin } from 'kafkajs';
import type { Redis } from 'ioredis';
import axios from 'axios';
import type { ClickHouseClient } from '@clickhouse/client';

export interface CheckResult {
  ok: boolean;
  ms: number;
  error?: string;
}

export type Check = () => Promise<void>;

/**
 * /readyz: every backing service the API or the pipeline behind it needs, checked in parallel, each
 * with its own timeout, so a hung service reads as "ClickHouse: timed out after 2000 ms" rather than a
 * hung probe. Error texts name the service; they never carry credentials (URLs are not included).
 */
export class ReadinessService {
  constructor(private readonly checks: Record<string, Check>, private readonly timeoutMs = 2000) {}

  async check(): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
    const entries = await Promise.all(
      Object.entries(this.checks).map(async ([name, fn]): Promise<[string, CheckResult]> => {
        const start = Date.now();
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            fn(),
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error(`timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
            }),
          ]);
          return [name, { ok: true, ms: Date.now() - start }];
        } catch (err) {
          return [name, { ok: false, ms: Date.now() - start, error: (err as Error)?.message ?? String(err) }];
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    return { ready: entries.every(([, r]) => r.ok), checks };
  }
}

export const clickhouseCheck = (client: ClickHouseClient): Check => async () => {
  const r = await client.ping();
  if (!r.success) throw new Error(`ping failed: ${(r as { error?: Error }).error?.message ?? 'unknown error'}`);
};

export const redisCheck = (redis: Redis): Check => async () => {
  const pong = await redis.ping();
  if (pong !== 'PONG') throw new Error(`unexpected PING answer ${pong}`);
};

export const schemaRegistryCheck = (url: string): Check => async () => {
  await axios.get(`${url.replace(/\/$/, '')}/subjects`, { timeout: 2000 });
};

/**
 * One long-lived admin client, reconnected after a failure: connecting per probe would cost a
 * metadata round trip and a socket every few seconds of a Kubernetes probe.
 */
export function kafkaCheck(kafka: Kafka): Check & { close(): Promise<void> } {
  let admin: Admin | null = null;
  const fn = async () => {
    try {
      if (!admin) {
        admin = kafka.admin();
        await admin.connect();
      }
      await admin.describeCluster();
    } catch (err) {
      const a = admin;
      admin = null;
      await a?.disconnect().catch(() => undefined);
      throw err;
    }
  };
  return Object.assign(fn, { close: async () => void (await admin?.disconnect().catch(() => undefined)) });
}
