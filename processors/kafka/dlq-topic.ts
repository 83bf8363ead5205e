import type { Admin } from 'kafkajs';
import { retry } from '../../shared/errors/retry';
import type { KafkaSettings } from '../../shared/kafka/kafka.client';
import { isKafkaRetriable, isTopicAlreadyExists } from '../../shared/kafka/kafka.errors';

/**
 * Creates the processor's DLQ topic when it is missing (another instance may create it at the same
 * moment). A broker that has not caught up with a topic just created ("does not host this
 * topic-partition", retriable) is asked again rather than failing the start.
 */
export async function ensureDlqTopic(admin: Admin, topic: string, s: Pick<KafkaSettings, 'partitions' | 'replicationFactor'>): Promise<void> {
  await retry(async () => {
    const existing = await admin.listTopics();
    if (existing.includes(topic)) return;
    await admin
      .createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: s.partitions, replicationFactor: s.replicationFactor }] })
      .catch((err: Error) => {
        if (!isTopicAlreadyExists(err) && !/already exists/i.test(err.message)) throw err;
      });
  }, { what: 'create the processor DLQ topic', attempts: 5, initialDelayMs: 300, maxDelayMs: 3000, retryOn: isKafkaRetriable });
}
