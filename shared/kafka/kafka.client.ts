import { Admin, Kafka, logLevel, Partitioners, Producer, ProducerRecord, RecordMetadata } from 'kafkajs';
import type { Logger } from '../logging/logger';
import { retry, waitUntilReachable } from '../errors/retry';
import { isKafkaRetriable } from './kafka.errors';
import { TOPIC_DEFS, TopicName, Topics, topicsFor } from './topics';

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  topicPrefix: string;
  partitions: number;
  replicationFactor: number;
}

/** kafkajs logs through our logger, at warn and above, without message payloads. */
function kafkaLogCreator(logger: Logger) {
  return () =>
    ({ level, log }: { level: logLevel; log: { message: string; [k: string]: unknown } }) => {
      const { message, timestamp: _t, logger: _l, ...rest } = log;
      if (level === logLevel.ERROR) logger.error({ module: 'kafkajs', ...rest }, message);
      else if (level === logLevel.WARN) logger.warn({ module: 'kafkajs', ...rest }, message);
    };
}

export function createKafka(s: KafkaSettings, logger: Logger, overrides: { retries?: number } = {}): Kafka {
  return new Kafka({
    clientId: s.clientId,
    brokers: s.brokers,
    connectionTimeout: 3000,
    requestTimeout: 30000,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(logger),
    retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: overrides.retries ?? 8 },
  });
}

/** The one idempotent producer configuration (acks=all, one in-flight request per broker). */
export function createIdempotentProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // Murmur2 on the key, as the Java client: a channel's events land on the same partition from any producer.
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

/**
 * Ready means: the cluster answers metadata, and a produce/consume round trip through a scratch
 * topic works — right after start the group coordinator is still loading (DESIGN.md §3).
 */
export async function waitForKafka(kafka: Kafka, brokers: string[], timeoutMs = 60000): Promise<void> {
  await waitUntilReachable('Kafka', brokers.join(','), async () => {
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      // A group-coordinator request: on a fresh broker this creates __consumer_offsets and answers
      // NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS until the coordinator is really up.
      await admin.fetchOffsets({ groupId: '__spacehub-readiness' });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }, timeoutMs);
}

export async function ensureTopics(admin: Admin, s: KafkaSettings, names: TopicName[] = Object.keys(TOPIC_DEFS) as TopicName[]): Promise<Topics> {
  const topics = topicsFor(s.topicPrefix);
  const existing = new Set(await admin.listTopics());
  const missing = names.map((n) => topics[n]).filter((t) => !existing.has(t));
  if (missing.length > 0) {
    await retry(
      () =>
        admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({
            topic,
            numPartitions: topic.endsWith('.heartbeat') ? 1 : s.partitions,
            replicationFactor: s.replicationFactor,
            configEntries: [{ name: 'min.insync.replicas', value: '1' }],
          })),
        }),
      { what: 'create Kafka topics', attempts: 5, initialDelayMs: 300, maxDelayMs: 3000, retryOn: isKafkaRetriable },
    );
  }
  return topics;
}

export async function produce(producer: Producer, record: ProducerRecord): Promise<RecordMetadata[]> {
  return producer.send({ acks: -1, ...record });
}
