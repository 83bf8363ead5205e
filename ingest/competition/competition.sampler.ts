/**
 * The category competition sampler (issue 22.3): every INGEST_COMPETITION_SAMPLE_MINUTES one BullMQ job
 * (its own queue, `ingest-competition`, one job scheduler `competition.sample`; any number of ingest
 * processes share it, one of them runs each sample) reads the Twitch categories of the deployment's
 * creators and their directories with the **app access token**, and writes one row per category into
 * ClickHouse `category_competition` (migration 0160).
 *
 * A sample costs ⌈creators / 100⌉ calls (GET /helix/channels: each creator's category now) plus one call
 * per 100 live channels of those categories (GET /helix/streams?game_id=…, 100 categories a paging), at
 * most INGEST_COMPETITION_MAX_CALLS in all. The app token's bucket (800 points a minute) is shared with
 * the batched stream-state polls, which plan at most 80 % of it per minute (scheduler/batch-plan.ts), so
 * the default cap of 150 keeps a sample's minute inside the other 20 % (160).
 *
 * Replay-safe: a sample's rows are stamped with its slot (the scheduler iteration's planned time, as poll
 * events are), so a retry or a re-run of a stalled job replaces them (ReplacingMergeTree on version).
 * The rows go straight to ClickHouse, not through Kafka: a sample is a handful of rows every few minutes
 * that no processor reads or windows, only the models do.
 */
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../../shared/logging/logger';
import { competitionRow, writeCompetitionSamples, type CategoryCompetitionRow } from '../../shared/clickhouse/category-competition';
import type { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import type { IngestPorts } from '../ingest.ports';
import { slotOf } from '../jobs/ingest-job';
import { retimedStart } from '../scheduler/ingest.scheduler';
import { categoryChunks, sampleRows, type CategoryDirectory } from './competition.sample';

export const COMPETITION_QUEUE = 'ingest-competition';
export const COMPETITION_SCHEDULER_ID = 'competition.sample';
const CHANNELS_PER_CALL = 100;

export interface CompetitionSamplerDeps {
  /** A BullMQ connection (maxRetriesPerRequest null) and the queues' prefix (IngestQueues.prefix). */
  connection: Redis;
  prefix: string;
  ports: Pick<IngestPorts, 'connections'>;
  directory: CategoryDirectory;
  repo: Pick<ClickHouseRepository, 'insert'>;
  everyMs: number;
  maxCalls: number;
  /** Run the worker in this process (ingest's `workers` option); the scheduler is upserted either way. */
  worker: boolean;
  logger?: Logger;
  now?: () => number;
}

export interface SampleResult {
  categories: number;
  calls: number;
  complete: boolean;
}

interface SampleJobData {
  everyMs: number;
}

export class CompetitionSampler {
  readonly queue: Queue<SampleJobData>;
  private worker: Worker<SampleJobData, SampleResult> | undefined;
  private readonly now: () => number;

  constructor(private readonly d: CompetitionSamplerDeps) {
    this.queue = new Queue<SampleJobData>(COMPETITION_QUEUE, { connection: d.connection, prefix: d.prefix });
    this.now = d.now ?? Date.now;
  }

  async start(): Promise<void> {
    const have = await this.queue.getJobScheduler(COMPETITION_SCHEDULER_ID);
    await this.queue.upsertJobScheduler(
      COMPETITION_SCHEDULER_ID,
      { every: this.d.everyMs, ...retimedStart(have, this.d.everyMs) },
      // A sample missed is a gap in the series, not a loss worth many retries: the next one comes soon.
      { name: 'sample', data: { everyMs: this.d.everyMs }, opts: { attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: { age: 3600, count: 200 }, removeOnFail: { age: 24 * 3600, count: 500 } } },
    );
    if (!this.d.worker) return;
    this.worker = new Worker<SampleJobData, SampleResult>(COMPETITION_QUEUE, (job) => this.run(job), { connection: this.d.connection, prefix: this.d.prefix, concurrency: 1 });
    this.worker.on('failed', (job, err) => this.d.logger?.warn({ module: 'ingest-competition', jobId: job?.id, attemptsMade: job?.attemptsMade, err }, 'competition sample failed'));
    await this.worker.waitUntilReady();
  }

  private async run(job: Job<SampleJobData>): Promise<SampleResult> {
    // The slot to the minute: every process and every retry of this iteration stamps the same sample time.
    const slot = Math.floor(slotOf(job) / 60_000) * 60_000;
    return this.sample(slot);
  }

  /** One sample at `slotMs`: the creators' categories, their directories within the call cap, the rows. */
  async sample(slotMs: number): Promise<SampleResult> {
    const active = await this.d.ports.connections.listActive();
    const channelIds = [...new Set(active.filter((c) => c.platform === 'twitch').map((c) => c.channelId))];
    if (channelIds.length === 0) return { categories: 0, calls: 0, complete: true };
    let calls = Math.ceil(channelIds.length / CHANNELS_PER_CALL);
    if (calls >= this.d.maxCalls) {
      this.d.logger?.warn({ module: 'ingest-competition', creators: channelIds.length, maxCalls: this.d.maxCalls }, 'competition sample skipped: reading the creators\' categories alone would use the whole call cap');
      return { categories: 0, calls: 0, complete: false };
    }
    const categories = await this.d.directory.channelCategories(channelIds);
    const rows: CategoryCompetitionRow[] = [];
    let complete = true;
    let asked = 0;
    const version = this.now();
    for (const chunk of categoryChunks(categories)) {
      const left = this.d.maxCalls - calls;
      if (left <= 0) {
        complete = false;
        break;
      }
      const read = await this.d.directory.categoryStreams(chunk.map((c) => c.categoryId), { maxCalls: left });
      calls += read.calls;
      complete &&= read.complete;
      asked += chunk.length;
      for (const s of sampleRows(chunk, read, slotMs)) rows.push(competitionRow(s, 'helix', version));
    }
    await writeCompetitionSamples(this.d.repo, rows);
    this.d.logger?.debug({ module: 'ingest-competition', slot: new Date(slotMs).toISOString(), categories: asked, calls, complete }, 'competition sampled');
    return { categories: asked, calls, complete };
  }

  /** Sampling switched off (INGEST_COMPETITION_SAMPLE_MINUTES=0): a scheduler left from before goes. */
  static async removeScheduler(connection: Redis, prefix: string): Promise<void> {
    const queue = new Queue(COMPETITION_QUEUE, { connection, prefix });
    try {
      await queue.removeJobScheduler(COMPETITION_SCHEDULER_ID);
    } finally {
      await queue.close();
    }
  }

  async close(): Promise<void> {
    const results = await Promise.allSettled([this.worker?.close() ?? Promise.resolve(), this.queue.close()]);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }
}
