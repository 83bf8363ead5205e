import type { ClickHouseSettings } from '../shared/clickhouse/clickhouse.repository';
import { ClickHouseRepository } from '../shared/clickhouse/clickhouse.repository';
import { createIdempotentProducer } from '../shared/kafka/kafka.client';
import { createRedis } from '../shared/redis/redis';
import type { Runtime } from '../shared/runtime';
import { CoPartitionedAssigner } from './kafka/copartitioned.assigner';
import { processorSettings } from './processor.deps';
import { HEARTBEAT_EVERY_MS, ProcessorService } from './processor.service';
import { RawSink } from './raw-sink';

export interface ProcessorOptions {
  groupId?: string;
  /** Another ClickHouse endpoint or database than the runtime's (tests: a proxy, a second database). */
  clickhouse?: ClickHouseSettings;
}

/**
 * The processors' composition root (STYLE: clients are built in one place per process): the Kafka,
 * ClickHouse (and, for a processor, Redis) clients of a processor or a raw sink, from the runtime. `processor.module.ts` and the CLI
 * call these; so do tests and benches, which are processes of their own.
 */
export function createProcessor(rt: Runtime, opts: ProcessorOptions = {}): ProcessorService {
  const groupId = opts.groupId ?? rt.config.PROCESSOR_GROUP_ID ?? `${rt.kafkaSettings.topicPrefix}.processor`;
  const consumer = rt.kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    // Partition p of every input topic on one member (kafkajs' round-robin assigner would scatter a shard).
    partitionAssigners: [CoPartitionedAssigner],
    sessionTimeout: 30000,
    heartbeatInterval: HEARTBEAT_EVERY_MS,
    // kafkajs decodes a whole fetch response at once, and its messages live until their batch is queued:
    // smaller fetches (2 MB, not kafkajs' 10 MB) keep fewer of them alive at each scavenge. In the bench
    // (processors/README.md, third pass) 3.1-3.7 s CPU against 3.5-4.5 s with 10 MB / 4 MB, alternating.
    maxBytes: 2 * 1024 * 1024,
    maxBytesPerPartition: 1024 * 1024,
  });
  const clients = { admin: rt.kafka.admin(), producer: createIdempotentProducer(rt.kafka), consumer, clickhouse: new ClickHouseRepository(opts.clickhouse ?? rt.clickhouseSettings), redis: createRedis(rt.config.REDIS_URL) };
  return new ProcessorService(rt, clients, processorSettings(rt.config), groupId);
}

/** `spacehub sink`: the raw sink's consumer and ClickHouse client. */
export function createRawSink(rt: Runtime, groupId = `${rt.kafkaSettings.topicPrefix}.raw-sink`): RawSink {
  const consumer = rt.kafka.consumer({ groupId, allowAutoTopicCreation: false });
  return new RawSink(rt, { consumer, clickhouse: new ClickHouseRepository(rt.clickhouseSettings) });
}
