import type { Kafka, Admin } from 'kafkajs';
import type { Redis } from 'ioredis';
import axios from 'axios';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '../../shared/logging/logger';

export interface CheckResult {
  ok: boolean;
  ms: number;
  /** A fixed word (`unavailable`, `timed out`): the real error text (hosts, ports) goes to the log only. */
  error?: 'unavailable' | 'timed out';
}

export type Check = () => Promise<void>;

export interface ReadinessOptions {
  /** Per-check timeout. */
  timeoutMs?: number;
  /** How long an answer is reused: probes (and anyone who can reach the port) cannot drive load onto the backing services. */
  cacheMs?: number;
  logger?: Pick<Logger, 'warn'>;
  now?: () => number;
}

class CheckTimeout extends Error {}

/**
 * /readyz: every backing service the API or the pipeline behind it needs, checked in parallel, each
 * with its own timeout, so a hung service reads as "clickhouse: timed out" rather than a hung probe.
 * The route is public, so answers name services only — the underlying error (which carries hosts and
 * ports) is logged, never returned — and one answer serves every probe for `cacheMs` (concurrent probes
 * share the run in flight).
 */
export class ReadinessService {
  private readonly timeoutMs: number;
  private readonly cacheMs: number;
  private readonly now: () => number;
  private cached: { at: number; answer: Promise<{ ready: boolean; checks: Record<string, CheckResult> }> } | undefined;

  constructor(private readonly checks: Record<string, Check>, o: ReadinessOptions | number = {}) {
    const opts = typeof o === 'number' ? { timeoutMs: o } : o;
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.cacheMs = opts.cacheMs ?? 1000;
    this.now = opts.now ?? Date.now;
    this.logger = opts.logger;
  }

  private readonly logger?: Pick<Logger, 'warn'>;

  check(): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
    const t = this.now();
    if (!this.cached || t - this.cached.at >= this.cacheMs) this.cached = { at: t, answer: this.run() };
    return this.cached.answer;
  }

  private async run(): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
    const entries = await Promise.all(
      Object.entries(this.checks).map(async ([name, fn]): Promise<[string, CheckResult]> => {
        const start = Date.now();
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            fn(),
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new CheckTimeout(`timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
            }),
          ]);
          return [name, { ok: true, ms: Date.now() - start }];
        } catch (err) {
          this.logger?.warn({ module: 'readiness', check: name, err }, 'readiness check failed');
          return [name, { ok: false, ms: Date.now() - start, error: err instanceof CheckTimeout ? 'timed out' : 'unavailable' }];
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
