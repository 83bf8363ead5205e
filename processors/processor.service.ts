import type { EachBatchPayload } from 'kafkajs';
import type { Logger } from '../shared/logging/logger';
import { rawTopicFor } from '../shared/kafka/topics';
import { ensureDlqTopic } from './kafka/dlq-topic';
import { BatchDecodeDeps, decodeBatch } from './pipeline/batch.decode';
import { AvroReader, createDecodeStep } from './pipeline/decode.step';
import { INPUT_TOPICS, type InputTopic } from './state/processor-event';
import { LaneVerifier } from './pipeline/lanes';
import { LoopLock } from './pipeline/loop.lock';
import { enqueue, restoreShard, Shard, ShardRestoreDeps } from './pipeline/shard';
import { DrainDeps, drainShard } from './pipeline/shard.drain';
import { closeClients, ProcessorClients, ProcessorRuntime, ProcessorSettings } from './processor.deps';
import { processorMetrics as M } from './processor.metrics';
import { newProcessorStats } from './processor.stats';
import { ProcessorClickHouseSink } from './sink/clickhouse.sink';
import { planCommit } from './sink/commit.plan';
import { EarlyFiring } from './sink/early.firing';
import { FlushWriter } from './sink/flush.writer';
import { Outputs } from './sink/outputs';
import { DataVersions } from '../shared/redis/data-version';
import { retryUntilClosed, WithRetry } from './sink/sink.retry';

export const HEARTBEAT_EVERY_MS = 3000;
/** Decoded events waiting for the loop, over all shards, before a fetched batch waits for the loop. */
const MAX_QUEUED_EVENTS = 50_000;
/** Outputs (windows, rows, messages) pending while a write is in flight, before the loop waits for the writer. */
const MAX_PENDING_OUTPUTS = 50_000;

/**
 * `spacehub process`: the consumer group over snapshots, followers, chat and lifecycle that computes
 * event-time 1-minute windows, sessions and alerts into ClickHouse (processors/README.md).
 *
 * The one loop: every batch is decoded (`pipeline/batch.decode.ts`), merged in event-time order per
 * shard and fed to the shard's window state (`pipeline/shard.drain.ts`), which routes each result into
 * the outputs; a flush hands them, with the commit that covers them (`sink/commit.plan.ts`), to the
 * writer (`sink/flush.writer.ts`). All of it runs under one lock (`pipeline/loop.lock.ts`), so state, outputs and
 * commits never interleave; writes run one at a time alongside, and the next waits for the last.
 *
 * Exactly-once effect: outputs are written before the commit that covers them; a commit never passes
 * the lowest offset an open window or an unsummarised session end still needs, and carries the
 * shard's checkpoint in the offset metadata. After a crash or rebalance a shard is rebuilt by
 * replaying from the committed offsets (+ a small restore read from ClickHouse, `pipeline/shard.ts`)
 * and rewrites identical rows under the same keys.
 */
export class ProcessorService {
  private readonly log: Logger;
  private readonly inputTopics: string[];
  private readonly dlqTopic: string;
  private readonly withRetry: WithRetry;
  private writer: FlushWriter | undefined;
  private readonly sink: ProcessorClickHouseSink;
  /** The dependencies of each stage, built once. */
  private readonly decodeDeps: BatchDecodeDeps;
  private readonly drainDeps: DrainDeps;
  private readonly restoreDeps: ShardRestoreDeps;

  private shards = new Map<number, Shard>();
  private outputs = new Outputs();
  private generation = 0;
  private stateGeneration = 0;
  private dirty = false;
  private lastFlush = Date.now();
  private readonly lock = new LoopLock(HEARTBEAT_EVERY_MS);
  private drainScheduled: Promise<void> | undefined;
  private flushAfterWrite: Promise<void> | undefined;
  private heartbeat: (() => Promise<void>) | undefined;
  private timers: NodeJS.Timeout[] = [];
  private readonly early: EarlyFiring;
  private readonly abort = new AbortController();
  private closing: Promise<void> | undefined;
  /** When the group was first joined (the benchmark measures from here). */
  joinedAt: number | undefined;
  /** Counters for tests and the benchmark. */
  readonly stats = newProcessorStats();

  constructor(private readonly rt: ProcessorRuntime, private readonly clients: ProcessorClients, private readonly settings: ProcessorSettings, readonly groupId: string) {
    const { latenessMs, mergeSkewMs: skewMs, maxFutureSkewMs, rules } = settings;
    const log = (this.log = rt.logger.child({ module: 'processor', group: groupId }));
    this.inputTopics = INPUT_TOPICS.map((t) => rt.topics[t]);
    const logicalName = new Map<string, InputTopic>(INPUT_TOPICS.map((t) => [rt.topics[t], t]));
    const nameOf = (topic: string): string => logicalName.get(topic) ?? topic;
    this.dlqTopic = rawTopicFor(rt.kafkaSettings.topicPrefix, 'processorDlq');
    const stats = this.stats;
    this.withRetry = retryUntilClosed({ signal: this.abort.signal, heartbeat: () => void this.heartbeat?.().catch(() => undefined), stats, log });
    const sink = (this.sink = new ProcessorClickHouseSink(clients.clickhouse));
    const decode = createDecodeStep({
      registry: { decode: (t, b) => rt.registry.decode(t, b), schemaFor: async (id) => (await rt.registry.registry.getSchema(id)) as unknown as AvroReader },
      topics: rt.topics,
    });
    this.decodeDeps = { decode, logicalName: nameOf, maxFutureSkewMs, signal: this.abort.signal, stats, log };
    const lanes = new LaneVerifier({ admin: clients.admin, skewMs, withRetry: this.withRetry, stats });
    this.drainDeps = {
      outputs: () => this.outputs,
      current: (sh) => this.shards.get(sh.partition) === sh && this.stateGeneration === this.generation,
      verifyLanes: (sh, topics, upTo) => lanes.verify([...this.shards.values()], sh, topics, upTo),
      logicalName: nameOf, stats, log,
    };
    this.restoreDeps = {
      admin: clients.admin, groupId, inputTopics: this.inputTopics, sink, latenessMs, mergeSkewMs: skewMs, maxFutureSkewMs, rules, log, withRetry: this.withRetry,
    };
    this.early = new EarlyFiring(settings.earlyFireMs);
  }

  async start(): Promise<void> {
    const { admin, producer, consumer } = this.clients;
    const { earlyFireMs, flushIntervalMs } = this.settings;
    await admin.connect();
    await ensureDlqTopic(admin, this.dlqTopic, this.rt.kafkaSettings);
    await producer.connect();
    const { registry, topics } = this.rt;
    this.writer = new FlushWriter({
      sink: this.sink, producer, consumer, topics, dlqTopic: this.dlqTopic,
      encode: { windows: await registry.syncEncoder('windows'), alerts: await registry.syncEncoder('alerts') },
      withRetry: this.withRetry, stats: this.stats, log: this.log,
      versions: new DataVersions(this.clients.redis, this.rt.config.REDIS_KEY_PREFIX),
    });
    // Every (re)join resets all shards: kafkajs re-reads from the committed offsets after a rebalance,
    // so the state must be rebuilt from there too — also for partitions this member keeps.
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.generation++;
      this.joinedAt ??= performance.now();
      this.log.info({ generation: this.generation, assignment: e.payload.memberAssignment }, 'joined group; shards will be rebuilt from committed offsets');
    });
    await consumer.connect();
    await consumer.subscribe({ topics: this.inputTopics, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch: (p) => this.onBatch(p) });
    if (earlyFireMs > 0) {
      this.timers.push(setInterval(() => {
        void this.lock.run(async () => this.fireEarly()).catch((err) => this.log.warn({ err }, 'early firing failed'));
      }, Math.min(1000, Math.max(100, earlyFireMs / 2))));
    }
    this.timers.push(setInterval(() => {
      if (this.dirty && Date.now() - this.lastFlush >= flushIntervalMs) {
        void this.lock.run(() => this.flushWhenDue(), this.heartbeat).catch((err) => this.log.warn({ err }, 'timed flush failed'));
      }
    }, Math.max(50, Math.floor(flushIntervalMs / 2))));
  }

  private async onBatch({ batch, resolveOffset, heartbeat }: EachBatchPayload): Promise<void> {
    this.heartbeat = heartbeat;
    const { topic, partition } = batch;
    const items = await decodeBatch(this.decodeDeps, batch, heartbeat);
    const caughtUp = batch.offsetLag() === '0';
    if (this.stateGeneration !== this.generation || !this.shards.has(partition)) {
      await this.lock.run(async () => {
        if (this.stateGeneration !== this.generation) this.resetState();
        if (!this.shards.has(partition)) this.shards.set(partition, await restoreShard(this.restoreDeps, partition));
      }, heartbeat);
    }
    // From here to the end no await runs before the push: nothing can interleave with it.
    const shard = this.shards.get(partition);
    if (!shard || this.stateGeneration !== this.generation) throw new Error('processor: group rebalanced while a batch was decoded; it will be fetched again');
    enqueue(shard, topic, items, caughtUp);
    // Processing runs under the lock, after this returns, so kafkajs fetches the next batches meanwhile;
    // past MAX_QUEUED_EVENTS waiting events this batch waits for it (backpressure).
    const work = this.scheduleDrain();
    if (this.queuedEvents() > MAX_QUEUED_EVENTS) await work;
    else work.catch(() => undefined);
    const last = batch.messages[batch.messages.length - 1];
    if (last) resolveOffset(last.offset);
  }

  private queuedEvents(): number {
    let n = 0;
    for (const shard of this.shards.values()) n += shard.queue.queued();
    return n;
  }

  /** One drain of every shard (and a flush when due) under the lock; pushes meanwhile join the next one. */
  private scheduleDrain(): Promise<void> {
    this.drainScheduled ??= this.lock.run(async () => {
      this.drainScheduled = undefined;
      if (this.stateGeneration !== this.generation) return this.resetState();
      const started = performance.now();
      for (const shard of this.shards.values()) if (shard.queue.queued() > 0 && (await drainShard(this.drainDeps, shard))) this.dirty = true;
      this.stats.ms.state += performance.now() - started;
      if (this.outputs.size >= this.settings.batchMaxEvents || Date.now() - this.lastFlush >= this.settings.flushIntervalMs) await this.flushWhenDue();
    }, this.heartbeat).catch((err: Error) => {
      this.log.warn({ err }, 'drain failed; uncommitted input will be replayed');
      throw err;
    });
    return this.drainScheduled;
  }

  private resetState(): void {
    this.shards = new Map();
    this.outputs = new Outputs();
    this.dirty = false;
    this.stateGeneration = this.generation;
  }

  /**
   * Under the lock: hands everything pending to the writer, with the commit that covers it (computed
   * now, so offsets and metadata match exactly these outputs).
   */
  private flush(): Promise<void> {
    if (this.stateGeneration !== this.generation) {
      this.resetState();
      return Promise.resolve();
    }
    const generation = this.generation;
    const out = this.outputs.take();
    this.dirty = false;
    this.lastFlush = Date.now();
    const shards = [...this.shards.values()];
    const ends = shards.flatMap((shard) => shard.state.takeReadyEnds());
    const commit = planCommit(shards, this.inputTopics);
    M.openWindows.set(shards.reduce((n, sh) => n + sh.state.openWindowCount(), 0));
    return this.writer!.enqueue(out, ends, commit, () => generation === this.generation);
  }

  /**
   * Under the lock, when a flush is due. While a write is in flight the outputs keep accumulating (up to
   * MAX_PENDING_OUTPUTS) and go out in one larger flush as soon as it is done: a slow writer gets fewer,
   * larger writes (the per-flush costs — session reads, rollup, commit — amortised) instead of stalling
   * the loop at every batch. Past that bound the loop waits for the writer (backpressure).
   */
  private async flushWhenDue(): Promise<void> {
    if (!this.writer!.busy() || this.outputs.size >= MAX_PENDING_OUTPUTS) return this.flushWhenIdle();
    if (this.flushAfterWrite) return;
    this.flushAfterWrite = this.writer!.idle()
      .then(() => this.lock.run(async () => {
        this.flushAfterWrite = undefined;
        if (this.dirty || this.outputs.size > 0) await this.flushWhenIdle();
      }, this.heartbeat))
      .catch((err) => this.log.warn({ err }, 'flush after write failed'));
  }

  /** Under the lock: waits for the write in flight (backpressure), then starts the next one. */
  private async flushWhenIdle(): Promise<void> {
    await this.writer!.idle();
    void this.flush().catch((err) => this.log.warn({ err }, 'write abandoned; it will be replayed'));
  }

  /** Under the lock: the provisional figures of the changed channels' open windows (`sink/early.firing.ts`). */
  private fireEarly(): void {
    if (this.writer && this.stateGeneration === this.generation) this.writer.sendProvisional(this.early.take(this.shards.values()));
  }

  /** Waits until pending outputs are written and committed (tests, benchmark). */
  async flushNow(): Promise<void> {
    await this.lock.run(async () => {
      await this.writer?.idle();
      if (this.writer) await this.flush();
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const t of this.timers) clearInterval(t);
      // Best effort: write and commit what is pending, so a restart replays less (bounded: with
      // ClickHouse down it would wait forever, and the replay covers it anyway).
      await Promise.race([this.flushNow().catch(() => undefined), new Promise((r) => setTimeout(r, 5000).unref())]);
      // Stop consuming first: disconnect waits for the batch in progress. If that batch is stuck in a
      // write retry (ClickHouse down), abandon the retry; nothing uncommitted is lost, it is replayed.
      const stopped = this.clients.consumer.disconnect().catch((err: Error) => this.log.warn({ err }, 'consumer disconnect failed'));
      await Promise.race([stopped, new Promise((r) => setTimeout(r, 5000).unref())]);
      this.abort.abort(new Error('processor closing'));
      await stopped;
      await closeClients(this.clients, this.log);
    })();
    return this.closing;
  }
}
