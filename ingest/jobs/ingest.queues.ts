import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../../shared/config/config';
import { bullPrefix } from '../../shared/redis/redis';
import { DLQ_NAME, pollQueueName, type PollJobData } from './ingest-job';
import type { DeadLetter } from './dead-letter';


/** The custom backoff every poll job uses; the worker maps it to shared/errors/retry's backoffDelay. */
export const BACKOFF_TYPE = 'spacehub-jitter';

/** Options every poll job is created with (the scheduler's template). */
export function pollJobOptions(c: Pick<Config, 'INGEST_JOB_ATTEMPTS'>): JobsOptions {
  return {
    attempts: c.INGEST_JOB_ATTEMPTS,
    backoff: { type: BACKOFF_TYPE },
    // Keep recent history for inspection; the DLQ is the durable record of failures.
    removeOnComplete: { age: 3600, count: 2000 },
    removeOnFail: { age: 24 * 3600, count: 5000 },
  };
}

/**
 * The queues of ingest: one poll queue per platform (BullMQ's limiter is per queue, so this is the
 * per-platform rate limit shared by every worker process) and one dead-letter queue that nobody
 * consumes automatically — operators inspect and re-drive it.
 */
export class IngestQueues {
  private readonly polls = new Map<string, Queue<PollJobData>>();
  readonly dlq: Queue<DeadLetter>;
  readonly prefix: string;

  constructor(connection: Redis, redisKeyPrefix: string, readonly platforms: readonly string[]) {
    this.prefix = bullPrefix(redisKeyPrefix);
    for (const p of platforms) this.polls.set(p, new Queue<PollJobData>(pollQueueName(p), { connection, prefix: this.prefix }));
    this.dlq = new Queue<DeadLetter>(DLQ_NAME, { connection, prefix: this.prefix });
  }

  poll(platform: string): Queue<PollJobData> {
    const q = this.polls.get(platform);
    if (!q) throw new Error(`ingest: no poll queue for platform "${platform}" (known: ${this.platforms.join(', ')})`);
    return q;
  }

  all(): Array<Queue<PollJobData>> {
    return [...this.polls.values()];
  }

  async close(): Promise<void> {
    const results = await Promise.allSettled([...this.all().map((q) => q.close()), this.dlq.close()]);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }
}
