import type { Redis } from 'ioredis';
import type { Admin, Consumer, Producer } from 'kafkajs';
import type { ClickHouseRepository } from '../shared/clickhouse/clickhouse.repository';
import type { Config } from '../shared/config/config';
import type { Logger } from '../shared/logging/logger';
import type { Runtime } from '../shared/runtime';
import { AlertRuleSettings, DEFAULT_ALERT_RULES } from './alerts/alert.rules';

/** The clients a processor runs on, built by its composition root (`processor.wiring.ts`); it connects and closes them. */
export interface ProcessorClients {
  admin: Admin;
  producer: Producer;
  /** Of the processor's group, with the co-partitioned assigner. */
  consumer: Consumer;
  clickhouse: ClickHouseRepository;
  /** For the per-channel data versions the flush writer bumps (shared/redis/data-version.ts). */
  redis: Redis;
}

/** After the consumer stopped: the other clients, each failure logged and the rest still closed. */
export async function closeClients(c: ProcessorClients, log: Logger): Promise<void> {
  for (const [name, step] of [
    ['producer', () => c.producer.disconnect()],
    ['admin', () => c.admin.disconnect()],
    ['clickhouse', () => c.clickhouse.close()],
    ['redis', async () => void (await c.redis.quit())],
  ] as const) {
    try {
      await step();
    } catch (err) {
      log.warn({ step: name, err }, 'close step failed');
    }
  }
}

/** What the processor reads of the runtime: configuration and shared services, no client factories. */
export type ProcessorRuntime = Pick<Runtime, 'config' | 'logger' | 'kafkaSettings' | 'topics' | 'registry'>;

/** The processor's configuration, in the units the loop uses. */
export interface ProcessorSettings {
  latenessMs: number;
  /** How far the merge may run ahead of an idle-looking lane before asking the broker (half the lateness). */
  mergeSkewMs: number;
  maxFutureSkewMs: number;
  earlyFireMs: number;
  flushIntervalMs: number;
  batchMaxEvents: number;
  rules: AlertRuleSettings;
}

export function processorSettings(c: Config): ProcessorSettings {
  const latenessMs = c.PROCESSOR_ALLOWED_LATENESS_SECONDS * 1000;
  return {
    latenessMs,
    mergeSkewMs: Math.max(1000, latenessMs / 2),
    maxFutureSkewMs: c.PROCESSOR_MAX_FUTURE_SKEW_SECONDS * 1000,
    earlyFireMs: c.PROCESSOR_EARLY_FIRE_SECONDS * 1000,
    flushIntervalMs: c.PROCESSOR_FLUSH_INTERVAL_MS,
    batchMaxEvents: c.PROCESSOR_BATCH_MAX_EVENTS,
    rules: { ...DEFAULT_ALERT_RULES, baselineWindows: c.PROCESSOR_BASELINE_WINDOWS, spikeFactor: c.PROCESSOR_VIEWER_SPIKE_FACTOR, engagementDropFactor: c.PROCESSOR_ENGAGEMENT_DROP_FACTOR },
  };
}
