import type { Job, Queue } from 'bullmq';
import type { PollJobData } from './ingest-job';
import type { Verdict } from '../ingest.errors';

/** One poll that will not be retried automatically, with everything needed to understand and re-drive it. */
export interface DeadLetter {
  /** The failing job's queue and id; the id embeds the scheduler and the slot. */
  queue: string;
  jobId: string;
  /** The failing payload as it was (identity of the poll; no tokens ever live in job data). */
  data: PollJobData;
  /** Why: the error's class, code and message, and how it was classified. */
  reason: string;
  errorCode: string;
  verdict: Verdict['kind'];
  attemptsMade: number;
  failedAt: number;
}

/** Deterministic DLQ id (BullMQ custom ids may not contain ':'), so a re-run of the same failure adds nothing. */
export const deadLetterId = (queue: string, jobId: string) => `dlq|${queue}|${jobId.replace(/:/g, '|')}`;

export async function deadLetter(dlq: Queue<DeadLetter>, job: Job<PollJobData>, verdict: Verdict, attemptsMade: number): Promise<DeadLetter> {
  const entry: DeadLetter = {
    queue: job.queueName,
    jobId: job.id ?? 'unknown',
    data: job.data,
    reason: verdict.reason,
    errorCode: verdict.code,
    verdict: verdict.kind,
    attemptsMade,
    failedAt: Date.now(),
  };
  await dlq.add('dead-letter', entry, { jobId: deadLetterId(entry.queue, entry.jobId), removeOnComplete: false, removeOnFail: false });
  return entry;
}
