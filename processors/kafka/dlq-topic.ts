import type { Admin } from 'kafkajs';
import type { KafkaSettings } from '../../shared/kafka/kafka.client';
import { isTopicAlreadyExists } from '../../shared/kafka/kafka.errors';

/** Creates the processor's DLQ topic when it is missing (another instance may create it at the same moment). */
export async function ensureDlqTopic(admin: Admin, topic: string, s: Pick<KafkaSettings, 'partitions' | 'replicationFactor'>): Promise<void> {
  const existing = await admin.listTopics();
  if (existing.includes(topic)) return;
  await admin
    .createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: s.partitions, replicationFactor: s.replicationFactor }] })
    .catch((err: unknown) => {
      if (!isTopicAlreadyExists(err)) throw err;
    });
}
