import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../../shared/config/config';
import type { Logger } from '../../shared/logging/logger';
import { backoffDelay } from '../../shared/errors/retry';
import { pollQueueName, RESOURCES, type PollJobData, type PollJobResult, type Resource } from '../jobs/ingest-job';
import { BACKOFF_TYPE, type IngestQueues } from '../jobs/ingest.queues';
import { deadLetter } from '../jobs/dead-letter';
import { classify, PollTimeoutError, RateLimitDeferralsExhaustedError, type Verdict } from '../ingest.errors';
import type { IngestPorts } from '../ingest.ports';
import type { IngestScheduler } from '../scheduler/ingest.scheduler';
import type { EventProducer } from '../output/event.producer';
import { raiseReauthAlert, reauthAlert } from '../output/reauth-alert';
import type { PollHandler } from './poll.handlers';
import type { BatchHandler } from './batch.handler';
import { ingestMetrics } from '../ingest.metrics';

export type WorkerConfig = Pick<
  Config,
  'INGEST_CONCURRENCY' | 'INGEST_JOB_ATTEMPTS' | 'INGEST_BACKOFF_INITIAL_MS' | 'INGEST_BACKOFF_MAX_MS' | 'INGEST_JOB_TIMEOUT_MS' | 'INGEST_PLATFORM_JOBS_PER_SECOND' | 'INGEST_STALLED_INTERVAL_MS' | 'INGEST_MAX_RATE_LIMIT_DEFERRALS' | 'REDIS_KEY_PREFIX'
>;

/** A platform reset up to this far away is waited for even when the job polls more often. */
const MAX_POSTPONE_FLOOR_MS = 60_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PollTimeoutError(what, ms)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs poll jobs: one BullMQ Worker per platform queue, INGEST_CONCURRENCY jobs at a time each, with
 * the queue's limiter (INGEST_PLATFORM_JOBS_PER_SECOND, shared by every process on the queue).
 * Turns each failure into exactly one of: retry (backoff + jitter), postpone (platform 429, until its
 * reset), dead-letter (with the reason), or stop-and-alert (reauth) — the handlers only throw.
 */
export class IngestWorkers {
  private readonly workers: Worker<PollJobData, PollJobResult>[] = [];
  private closing: Promise<void> | undefined;
  /** Jobs handed back to the queue by the last close() (tests, logs). */
  returned = 0;

  constructor(
    private readonly d: {
      config: WorkerConfig;
      connection: Redis;
      queues: IngestQueues;
      ports: IngestPorts;
      scheduler: IngestScheduler;
      producer: EventProducer;
      redis: Redis;
      handlers: Record<Resource, PollHandler>;
      /** Runs the batch jobs of shards (INGEST_BATCH_POLLING). */
      batch?: BatchHandler;
      logger: Logger;
    },
  ) {
    const missing = RESOURCES.filter((r) => typeof d.handlers[r] !== 'function');
    if (missing.length) throw new Error(`ingest: no handler for job(s) ${missing.join(', ')}`);
  }

  start(): void {
    const c = this.d.config;
    for (const platform of this.d.queues.platforms) {
      // Three parameters: BullMQ then hands each run an AbortSignal (cancelAllJobs at shutdown).
      const worker = new Worker<PollJobData, PollJobResult>(pollQueueName(platform), (job, token, signal) => this.process(job, token, signal), {
        connection: this.d.connection,
        prefix: this.d.queues.prefix,
        concurrency: c.INGEST_CONCURRENCY,
        limiter: { max: c.INGEST_PLATFORM_JOBS_PER_SECOND, duration: 1000 },
        stalledInterval: c.INGEST_STALLED_INTERVAL_MS,
        // The lock of a dead worker's job expires after this; the stalled check then hands the job to another worker.
        lockDuration: c.INGEST_STALLED_INTERVAL_MS,
        // A job whose worker died is run again (twice at most) instead of being failed.
        maxStalledCount: 2,
        settings: {
          backoffStrategy: (attemptsMade: number, type?: string) =>
            type === BACKOFF_TYPE ? backoffDelay(attemptsMade, { initialDelayMs: c.INGEST_BACKOFF_INITIAL_MS, maxDelayMs: c.INGEST_BACKOFF_MAX_MS, jitter: 0.5 }) : 0,
        },
      });
      // Errors of the worker's own Redis traffic: logged, never fatal (BullMQ reconnects).
      worker.on('error', (err) => this.d.logger.warn({ module: 'ingest-worker', platform, err }, 'worker error'));
      this.workers.push(worker);
    }
  }

  async waitUntilReady(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
  }

  private async process(job: Job<PollJobData>, token?: string, signal?: AbortSignal): Promise<PollJobResult> {
    const { data } = job;
    const labels = { platform: data.platform, resource: data.resource };
    const log = this.d.logger.child({ module: 'ingest-worker', jobId: job.id, ...labels, channelId: data.channelId });
    let onAbort: (() => void) | undefined;
    const shutdown = new Promise<'shutdown'>((resolve) => {
      onAbort = () => resolve('shutdown');
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const work = withTimeout(this.run(job), this.d.config.INGEST_JOB_TIMEOUT_MS, `${data.resource} poll of ${data.platform}:${data.channelId}`);
      const result = await Promise.race([work, shutdown]);
      if (result === 'shutdown') {
        // Shutdown ran out of patience: give the job back now (its run may still finish; ids are deterministic).
        work.catch(() => undefined);
        await job.moveToWait(token);
        this.returned++;
        throw new WaitingError();
      }
      ingestMetrics.jobs.inc({ ...labels, outcome: result.outcome === 'skipped' ? 'skipped' : 'done' });
      return result;
    } catch (err) {
      if (err instanceof WaitingError) throw err;
      const verdict = classify(err);
      return await this.onFailure(job, token, verdict, err, log);
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  private async run(job: Job<PollJobData>): Promise<PollJobResult> {
    const { data } = job;
    if (data.shard !== undefined) {
      if (!this.d.batch) return { outcome: 'skipped', events: 0, reason: 'batch polling is off in this process' };
      return this.d.batch(job);
    }
    const channel = { platform: data.platform, channelId: data.channelId };
    const owners = await this.d.ports.connections.listActiveByChannel(data.platform, data.channelId);
    if (owners.length === 0) {
      // An orphan: the channel's last owner went away while no event reached us. Stop its schedulers now.
      await this.d.scheduler.removeChannel(channel);
      return { outcome: 'skipped', events: 0, reason: 'no active connection to the channel' };
    }
    // The earliest-connected owner's token first; a refused grant fails over to the next owner's, so one
    // owner's revoked grant stops nothing for the others. Re-running the handler is safe: a refused token
    // fails before anything is produced or committed, and every id is deterministic.
    let refused: unknown;
    for (const conn of owners) {
      try {
        return await this.d.handlers[data.resource](job, conn);
      } catch (err) {
        if (classify(err).kind !== 'reauth') throw err;
        refused = err;
        // TokenProvider has marked it reauth_required by now; the alert is for that connection's user only.
        const current = (await this.d.ports.connections.get(conn.connectionId).catch(() => null)) ?? conn;
        await raiseReauthAlert(this.d.redis, this.d.config.REDIS_KEY_PREFIX, this.d.producer, reauthAlert(current));
      }
    }
    throw refused;
  }

  private async onFailure(job: Job<PollJobData>, token: string | undefined, verdict: Verdict, err: unknown, log: Logger): Promise<PollJobResult> {
    const { data } = job;
    const labels = { platform: data.platform, resource: data.resource };
    const attempts = job.opts.attempts ?? this.d.config.INGEST_JOB_ATTEMPTS;
    switch (verdict.kind) {
      case 'reauth': {
        ingestMetrics.jobs.inc({ ...labels, outcome: 'reauth' });
        // A batch job belongs to no owner: nothing to stop (its channels' own jobs raise their alerts).
        if (data.shard !== undefined) return { outcome: 'skipped', events: 0, reason: 'reauth_required' };
        // Every owner's grant was refused (run() alerted each one): nobody left to poll the channel for.
        const left = await this.d.ports.connections.listActiveByChannel(data.platform, data.channelId).catch(() => []);
        if (left.length === 0) await this.d.scheduler.removeChannel({ platform: data.platform, channelId: data.channelId });
        log.warn({ errCode: verdict.code, owners: left.length }, 'no owner\'s grant was accepted; polling of the channel stopped');
        return { outcome: 'skipped', events: 0, reason: 'reauth_required' };
      }
      case 'rate-limited': {
        const deferrals = (data.deferrals ?? 0) + 1;
        if (deferrals > this.d.config.INGEST_MAX_RATE_LIMIT_DEFERRALS) {
          const exhausted = classify(new RateLimitDeferralsExhaustedError(deferrals - 1, err));
          await this.toDeadLetter(job, exhausted, log);
          throw new UnrecoverableError(exhausted.reason);
        }
        // Waiting past the next iteration only piles postponed polls up (a YouTube quota day, say): let this one go.
        if (verdict.retryAfterMs > Math.max(data.everyMs, MAX_POSTPONE_FLOOR_MS)) {
          const beyond: Verdict = { kind: 'dead-letter', code: verdict.code, reason: `${verdict.reason} (limited for ${Math.round(verdict.retryAfterMs / 1000)} s, beyond the next poll)` };
          await this.toDeadLetter(job, beyond, log);
          throw new UnrecoverableError(beyond.reason);
        }
        ingestMetrics.jobs.inc({ ...labels, outcome: 'rate_limited' });
        // Postpone this job only (Twitch buckets are per user token), until the reset plus a little jitter.
        const until = Date.now() + verdict.retryAfterMs + Math.round(Math.random() * 250);
        await job.updateData({ ...data, deferrals });
        await job.moveToDelayed(until, token);
        log.info({ retryAfterMs: verdict.retryAfterMs, deferrals }, 'rate limited by the platform; postponed');
        throw new DelayedError();
      }
      case 'retry': {
        if (job.attemptsMade + 1 < attempts) {
          ingestMetrics.jobs.inc({ ...labels, outcome: 'retried' });
          log.info({ attempt: job.attemptsMade + 1, attempts, errCode: verdict.code, reason: verdict.reason }, 'poll failed; will retry');
          throw err;
        }
        await this.toDeadLetter(job, verdict, log);
        throw new UnrecoverableError(verdict.reason);
      }
      case 'dead-letter': {
        await this.toDeadLetter(job, verdict, log);
        throw new UnrecoverableError(verdict.reason);
      }
    }
  }

  /** Written before the job is failed: if we die in between, the re-run finds the same DLQ id and adds nothing. */
  private async toDeadLetter(job: Job<PollJobData>, verdict: Verdict, log: Logger): Promise<void> {
    await deadLetter(this.d.queues.dlq, job, verdict, job.attemptsMade + 1);
    ingestMetrics.jobs.inc({ platform: job.data.platform, resource: job.data.resource, outcome: 'dead_lettered' });
    log.warn({ errCode: verdict.code, reason: verdict.reason, attempts: job.attemptsMade + 1 }, 'poll dead-lettered');
  }

  /**
   * Graceful: stop taking jobs and let in-flight ones finish (each is bounded by INGEST_JOB_TIMEOUT_MS).
   * Jobs still running after `drainMs` are handed back to the queue (moved to wait, lock released), so
   * another worker runs them at once instead of after their lock expires; their events keep their ids.
   * A process killed outright loses nothing either: the stalled-job check re-runs its jobs.
   */
  close(drainMs = Number.POSITIVE_INFINITY): Promise<void> {
    this.closing ??= (async () => {
      const graceful = Promise.allSettled(this.workers.map((w) => w.close()));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = Number.isFinite(drainMs)
        ? await Promise.race([graceful.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), drainMs)))])
        : (await graceful, false);
      clearTimeout(timer);
      if (timedOut) {
        for (const w of this.workers) w.cancelAllJobs('shutdown');
        await graceful;
        this.d.logger.warn({ module: 'ingest-worker', returned: this.returned, drainMs }, 'shutdown: in-flight jobs returned to the queue');
      }
    })();
    return this.closing;
  }
}
