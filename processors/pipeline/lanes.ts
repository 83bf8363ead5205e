import type { Admin } from 'kafkajs';
import type { ProcessorStats } from '../processor.stats';
import type { Shard } from './shard';

export interface LaneVerifierDeps {
  admin: Admin;
  /** How far the merge may run ahead of an idle-looking lane before asking again (the merge's skew). */
  skewMs: number;
  withRetry<T>(target: string, fn: () => Promise<T>): Promise<T>;
  stats: ProcessorStats;
}

/**
 * Answers the merge's `verify` (pipeline/merge.queue.ts): are lanes that look idle really at the end of
 * their partition? The broker's answer covers every partition of the topic, so every shard takes it, as
 * if it had asked now for the event time it is at (the answer is just as fresh for it): one round trip,
 * not one per shard.
 */
export class LaneVerifier {
  constructor(private readonly d: LaneVerifierDeps) {}

  async verify(shards: readonly Shard[], shard: Shard, topics: string[], upTo: number): Promise<void> {
    const { stats } = this.d;
    stats.verifications++;
    const started = performance.now();
    const ends = await this.d.withRetry('Kafka offsets', () => Promise.all(topics.map((t) => this.d.admin.fetchTopicOffsets(t))));
    topics.forEach((topic, i) => {
      for (const sh of shards) {
        const high = Number(ends[i]!.find((o) => o.partition === sh.partition)?.high ?? 0);
        const atEnd = (sh.enqueued.get(topic) ?? 0) >= high;
        if (sh === shard) sh.queue.verified(topic, atEnd, upTo);
        else {
          const t = sh.queue.nextT();
          if (t !== undefined && Number.isFinite(t)) sh.queue.verified(topic, atEnd, t + this.d.skewMs);
        }
      }
    });
    stats.ms.verify += performance.now() - started;
  }
}
