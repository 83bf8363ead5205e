import type { Kafka } from 'kafkajs';
import { Config, loadConfig } from './config/config';
import { createLogger, Logger } from './logging/logger';
import { createKafka, ensureTopics, KafkaSettings, waitForKafka } from './kafka/kafka.client';
import { Topics, topicsFor } from './kafka/topics';
import { SchemaRegistryClient } from './schema-registry/schema-registry';
import { ClickHouseRepository, ClickHouseSettings, migrate } from './clickhouse/clickhouse.repository';
import { waitForRedis } from './redis/redis';
import { AppError } from './errors/app-error';

/**
 * The outside systems of one process, built from config in one place (STYLE: one composition root
 * per process). Parts receive what they need from here; nothing else constructs clients from config.
 */
export interface Runtime {
  config: Config;
  logger: Logger;
  kafkaSettings: KafkaSettings;
  kafka: Kafka;
  topics: Topics;
  registry: SchemaRegistryClient;
  clickhouseSettings: ClickHouseSettings;
}

export function kafkaSettingsOf(c: Config): KafkaSettings {
  return {
    brokers: c.KAFKA_BROKERS.split(',').map((b) => b.trim()).filter(Boolean),
    clientId: c.KAFKA_CLIENT_ID,
    topicPrefix: c.KAFKA_TOPIC_PREFIX,
    partitions: c.KAFKA_PARTITIONS,
    replicationFactor: c.KAFKA_REPLICATION_FACTOR,
  };
}

export function clickhouseSettingsOf(c: Config): ClickHouseSettings {
  return {
    url: c.CLICKHOUSE_URL,
    user: c.CLICKHOUSE_USER,
    password: c.CLICKHOUSE_PASSWORD,
    database: c.CLICKHOUSE_DATABASE,
    rawTtlDays: c.CLICKHOUSE_RAW_TTL_DAYS,
  };
}

/** The settings of read-side processes (API, gateway): every query read-only and capped (ClickHouseSettings.readOnly). */
export function readOnlyClickhouseSettingsOf(c: Config): ClickHouseSettings {
  return { ...clickhouseSettingsOf(c), readOnly: { maxExecutionSeconds: c.API_QUERY_MAX_EXECUTION_SECONDS, maxMemoryBytes: c.API_QUERY_MAX_MEMORY_BYTES } };
}

export function createRuntime(config: Config = loadConfig(), logger?: Logger): Runtime {
  const log = logger ?? createLogger(config.LOG_LEVEL);
  const kafkaSettings = kafkaSettingsOf(config);
  const topics = topicsFor(kafkaSettings.topicPrefix);
  return {
    config,
    logger: log,
    kafkaSettings,
    kafka: createKafka(kafkaSettings, log),
    topics,
    registry: new SchemaRegistryClient(config.SCHEMA_REGISTRY_URL, topics),
    clickhouseSettings: clickhouseSettingsOf(config),
  };
}

/**
 * Waits for every backing service (each failure names the service and its address), then applies
 * ClickHouse migrations, creates topics and registers schemas. Safe to run from every process.
 */
export async function bootstrap(rt: Runtime, opts: { timeoutMs?: number } = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 60000;
  const { logger } = rt;
  const checks = await Promise.allSettled([
    waitForKafka(rt.kafka, rt.kafkaSettings.brokers, timeoutMs),
    rt.registry.waitUntilReady(timeoutMs),
    new ClickHouseRepository(rt.clickhouseSettings).waitUntilReady(timeoutMs),
    waitForRedis(rt.config.REDIS_URL, timeoutMs),
  ]);
  const failures = checks.flatMap((c) => (c.status === 'rejected' ? [c.reason as Error] : []));
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) {
    throw new AppError('SERVICES_UNAVAILABLE', failures.map((f) => f.message).join('; '), { retriable: true, cause: failures[0] });
  }
  await migrate(rt.clickhouseSettings, (m) => logger.info({ module: 'bootstrap' }, m));
  const admin = rt.kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, rt.kafkaSettings);
  } finally {
    await admin.disconnect();
  }
  await rt.registry.registerAll();
  logger.debug({ module: 'bootstrap' }, 'bootstrap complete');
}
