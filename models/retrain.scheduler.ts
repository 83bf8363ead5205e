import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../shared/config/config';
import type { Logger } from '../shared/logging/logger';
import type { ClickHouseRepository } from '../shared/clickhouse/clickhouse.repository';
import { Closer } from '../shared/lifecycle/lifecycle';
import { trainModels, TrainingSummary } from './trainer';
import { retrainSchedule, RetrainSchedule } from './retrain.schedule';

export { retrainSchedule };
export type { RetrainSchedule };

/**
 * Scheduled retraining: one BullMQ job scheduler (MODELS_RETRAIN_CRON, or every
 * MODELS_RETRAIN_EVERY_MINUTES) and a worker with concurrency 1. Off unless configured. Several
 * processes may run it: BullMQ keeps one scheduler per id and hands each run to one worker, so a model
 * is not trained twice for one tick. Each run is recorded in model_runs with trigger "schedule";
 * serving processes pick the new version up through their hot reload.
 */
export const RETRAIN_QUEUE = 'models-retrain';

/**
 * The clients the scheduler runs on, built by its composition root (models.module.ts
 * `createRetrainClients`); the scheduler closes them. BullMQ wants its own connection for the
 * worker's blocking reads, so there are two.
 */
export interface RetrainClients {
  queueConnection: Redis;
  workerConnection: Redis;
  clickhouse: ClickHouseRepository;
}
const SCHEDULER_ID = 'models-retrain';

export class RetrainScheduler {
  readonly name = 'retrain-scheduler';
  private readonly closer = new Closer();
  private readonly log: Logger;
  private queue: Queue | undefined;
  /** Emitted after each scheduled run (tests and metrics). */
  onTrained?: (summaries: TrainingSummary[]) => void;

  constructor(
    private readonly config: Config,
    logger: Logger,
    private readonly clients: RetrainClients,
    private readonly overrides: { schedule?: RetrainSchedule; epochs?: { viewers?: number; timing?: number } } = {},
  ) {
    this.log = logger.child({ module: 'models.retrain' });
    this.closer.add('redis', () => void clients.queueConnection.disconnect());
    this.closer.add('clickhouse', () => clients.clickhouse.close());
    this.closer.add('worker connection', () => void clients.workerConnection.disconnect());
  }

  /** Returns false (and does nothing) when no schedule is configured. */
  async start(): Promise<boolean> {
    const schedule = this.overrides.schedule !== undefined ? this.overrides.schedule : retrainSchedule(this.config);
    if (!schedule) {
      this.log.info('scheduled retraining is off (set MODELS_RETRAIN_CRON or MODELS_RETRAIN_EVERY_MINUTES)');
      return false;
    }
    const prefix = this.config.REDIS_KEY_PREFIX ? `${this.config.REDIS_KEY_PREFIX}:bull` : 'bull';
    const { queueConnection: connection, workerConnection, clickhouse: repo } = this.clients;
    this.queue = new Queue(RETRAIN_QUEUE, { connection, prefix });
    this.closer.add('queue', () => this.queue!.close());
    await this.queue.upsertJobScheduler(SCHEDULER_ID, schedule, {
      name: 'retrain',
      data: {},
      opts: { attempts: 1, removeOnComplete: { count: 50 }, removeOnFail: { count: 50 } },
    });
    const worker = new Worker(
      RETRAIN_QUEUE,
      async () => {
        const c = this.config;
        const summaries = await trainModels(
          { repo, logger: this.log },
          { models: ['viewers', 'timing'], seed: c.MODELS_SEED, holdoutDays: c.MODELS_HOLDOUT_DAYS, trigger: 'schedule', backend: c.MODELS_BACKEND, modelsDir: c.MODELS_DIR, epochs: this.overrides.epochs },
        );
        this.onTrained?.(summaries);
        return summaries.map((s) => ({ model: s.model, version: s.version }));
      },
      // Training can take minutes: a long lock keeps another worker from taking the job as stalled.
      { connection: workerConnection, prefix, concurrency: 1, lockDuration: 10 * 60_000 },
    );
    worker.on('failed', (_job, err) => this.log.error({ err }, 'scheduled retraining failed'));
    this.closer.add('worker', () => worker.close());
    this.log.info({ schedule }, 'scheduled retraining on');
    return true;
  }

  /** Removes the job scheduler (turning retraining off for every process). */
  async unschedule(): Promise<void> {
    await this.queue?.removeJobScheduler(SCHEDULER_ID);
  }

  /** Deletes the queue's keys (tests). */
  async obliterate(): Promise<void> {
    await this.queue?.obliterate({ force: true });
  }

  close(): Promise<void> {
    return this.closer.close((name, err) => this.log.warn({ part: name, err }, 'close failed'));
  }
}
