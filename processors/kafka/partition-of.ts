import { Partitioners, PartitionMetadata } from 'kafkajs';

const partitioner = Partitioners.DefaultPartitioner();

/**
 * The partition a key lands in under kafkajs' default (Java-compatible murmur2) partitioner, which
 * every producer of the pipeline uses. Used to find, among rows restored from ClickHouse, the channels
 * that belong to a shard.
 */
export function partitionOf(key: string, partitions: number): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0 }) as PartitionMetadata);
  return partitioner({ topic: 'any', partitionMetadata, message: { key, value: null } });
}
