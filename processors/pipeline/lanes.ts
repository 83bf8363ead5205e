import type { Admin } from 'kafkajs';
import type { ProcessorStats } from '../processor.stats';
import type { Shard } from './shard';

export interface LaneVerifierDeps {
  admin: Admin;
  /** How far the merge may run ahead of an idle-looking lane before asking again (the merge's skew). */
  skewMs: number;
  withRetry<T>(target: string, fn: () => Promise<T>): Promise<T>;
  stats: ProcessorStats;
  /** An answer of the broker at most this old counts as current (see `verify`). */
  maxAgeMs?: number;
}

type Ends = Array<{ partition: number; high: string }>;

/** The default `maxAgeMs`. */
export const LANE_ANSWER_MAX_AGE_MS = 1000;

/**
 * Answers the merge's `verify` (pipeline/merge.queue.ts): are lanes that look idle really at the end of
 * their partition? The broker's answer covers every partition of the topic, so every shard takes it, as
 * if it had asked now for the event time it is at (the answer is just as fresh for it): one round trip,
 * not one per shard.
 *
 * An answer up to `maxAgeMs` (1 s) old is used again instead of asking: during a catch-up the merge runs
 * through minutes of event time per second and asked every 60 s of event time, a round trip each. Any
 * answer is stale by the time the merge acts on it; the question it settles is whether a lane has a
 * backlog the consumer has not delivered, and a backlog of messages appended within the last second is
 * ordered like live arrivals — as after an answer a second older. A backlog after a pause (an outage, a
 * slow flush) is older than that and is asked for again.
 */
export class LaneVerifier {
  private readonly cache = new Map<string, { at: number; ends: Ends }>();

  constructor(private readonly d: LaneVerifierDeps) {}

  async verify(shards: readonly Shard[], shard: Shard, topics: string[], upTo: number, now = performance.now()): Promise<void> {
    const { stats } = this.d;
    const maxAge = this.d.maxAgeMs ?? LANE_ANSWER_MAX_AGE_MS;
    const started = performance.now();
    const stale = topics.filter((t) => !(now - (this.cache.get(t)?.at ?? Number.NEGATIVE_INFINITY) <= maxAge));
    if (stale.length) {
      stats.verifications++;
      const asked = performance.now();
      const answers = await this.d.withRetry('Kafka offsets', () => Promise.all(stale.map((t) => this.d.admin.fetchTopicOffsets(t))));
      stale.forEach((t, i) => this.cache.set(t, { at: asked, ends: answers[i]! }));
    } else stats.verificationsReused++;
    for (const topic of topics) {
      const ends = this.cache.get(topic)!.ends;
      for (const sh of shards) {
        const high = Number(ends.find((o) => o.partition === sh.partition)?.high ?? 0);
        const atEnd = (sh.enqueued.get(topic) ?? 0) >= high;
        if (sh === shard) sh.queue.verified(topic, atEnd, upTo);
        else {
          const t = sh.queue.nextT();
          if (t !== undefined && Number.isFinite(t)) sh.queue.verified(topic, atEnd, t + this.d.skewMs);
        }
      }
    }
    stats.ms.verify += performance.now() - started;
  }
}
