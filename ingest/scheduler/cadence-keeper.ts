import type { Logger } from '../../shared/logging/logger';
import type { IngestQueues } from '../jobs/ingest.queues';

/** How far past one interval a scheduler's newest iteration may be before it is re-armed. */
const REARM_GRACE_MS = 1000;

/**
 * Keeps every job scheduler at its cadence after a worker died (issue 16, part 6). Two things a
 * `kill -9` leaves behind would otherwise stop a channel's polling until the dead worker's locks
 * expire and BullMQ's two-pass stalled check (one pass marks, the next moves) hands its jobs back —
 * about two INGEST_STALLED_INTERVAL_MS, minutes with long locks:
 * - **jobs still active with no lock**: their worker is gone (a live worker renews its locks every
 *   half lock duration). They are moved back to wait at once, so they run again now.
 * - **schedulers whose newest iteration is overdue by more than an interval**: BullMQ adds a
 *   scheduler's next iteration only when a worker starts the current one, so a worker killed between
 *   the two leaves the scheduler with no future iteration. Upserting it again with its own template
 *   adds the next iteration (one still waiting in the queue is replaced at the same slot).
 * Run at start-up before the workers take jobs, and with every reconciliation; idempotent and safe
 * with any number of processes (a re-armed slot has a deterministic job id, so two processes add it once).
 */
export class CadenceKeeper {
  constructor(private readonly queues: IngestQueues, private readonly logger: Logger) {}

  async restore(now = Date.now()): Promise<{ requeued: number; rearmed: number }> {
    let requeued = 0;
    let rearmed = 0;
    for (const queue of this.queues.all()) {
      const client = await queue.client;
      for (const job of await queue.getActive()) {
        if (!job.id || (await client.get(`${queue.toKey(job.id)}:lock`)) !== null) continue;
        // Token '0': the lock is gone, so there is no holder whose token we could present.
        if ((await job.moveToWait('0').catch(() => -1)) >= 0) requeued++;
      }
      for (const s of await queue.getJobSchedulers(0, -1, true)) {
        if (!s.every || s.next === undefined || s.next + s.every + REARM_GRACE_MS >= now || !s.template) continue;
        await queue.upsertJobScheduler(s.key, { every: s.every }, { name: s.name, data: s.template.data, opts: s.template.opts });
        rearmed++;
      }
    }
    if (requeued || rearmed) this.logger.info({ module: 'ingest-cadence', requeued, rearmed }, 'jobs of dead workers requeued; schedulers behind their cadence re-armed');
    return { requeued, rearmed };
  }
}
