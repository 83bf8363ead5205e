import type { Admin, Consumer, EachBatchPayload, Producer } from 'kafkajs';
import type { Runtime } from '../shared/runtime';
import type { Logger } from '../shared/logging/logger';
import { ClickHouseRepository, ClickHouseSettings } from '../shared/clickhouse/clickhouse.repository';
import { createIdempotentProducer } from '../shared/kafka/kafka.client';
import { rawTopicFor } from '../shared/kafka/topics';
import { retry } from '../shared/errors/retry';
import { AlertRuleSettings, DEFAULT_ALERT_RULES } from './alerts/alert.rules';
import { CoPartitionedAssigner } from './kafka/copartitioned.assigner';
import { decodeBatch } from './pipeline/batch.decode';
import { AvroReader, createDecodeStep, INPUT_TOPICS, InputTopic } from './pipeline/decode.step';
import { restoreShard, Shard } from './pipeline/shard';
import { drainShard } from './pipeline/shard.drain';
import { processorMetrics as M } from './processor.metrics';
import { newProcessorStats } from './processor.stats';
import { ProcessorClickHouseSink } from './sink/clickhouse.sink';
import { planCommit } from './sink/commit.plan';
import { FlushWriter } from './sink/flush.writer';
import { Outputs } from './sink/outputs';

export interface ProcessorOptions {
  groupId?: string;
  /** Another ClickHouse endpoint or database than the runtime's (tests: a proxy, a second database). */
  clickhouse?: ClickHouseSettings;
}

const HEARTBEAT_EVERY_MS = 3000;
/** Decoded events waiting for the loop, over all shards, before a fetched batch waits for the loop. */
const MAX_QUEUED_EVENTS = 50_000;

/**
 * `spacehub process`: the consumer group over snapshots, followers, chat and lifecycle that computes
 * event-time 1-minute windows, sessions and alerts into ClickHouse (processors/README.md).
 *
 * The one loop: every batch is decoded (`pipeline/batch.decode.ts`), merged in event-time order per
 * shard and fed to the shard's window state (`pipeline/shard.drain.ts`), which routes each result into
 * the outputs; a flush hands them, with the commit that covers them (`sink/commit.plan.ts`), to the
 * writer (`sink/flush.writer.ts`). All of it runs under one lock (`exclusive`), so state, outputs and
 * commits never interleave; writes run one at a time alongside, and the next waits for the last.
 *
 * Exactly-once effect: outputs are written before the commit that covers them; a commit never passes
 * the lowest offset an open window or an unsummarised session end still needs, and carries the
 * shard's checkpoint in the offset metadata. After a crash or rebalance a shard is rebuilt by
 * replaying from the committed offsets (+ a small restore read from ClickHouse, `pipeline/shard.ts`)
 * and rewrites identical rows under the same keys.
 */
export class ProcessorService {
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private admin: Admin | undefined;
  private writer: FlushWriter | undefined;
  private readonly repo: ClickHouseRepository;
  private readonly sink: ProcessorClickHouseSink;
  private readonly log: Logger;
  private readonly inputTopics: string[];
  private readonly logicalName = new Map<string, InputTopic>();
  private readonly decode;
  private readonly rules: AlertRuleSettings;
  private readonly latenessMs: number;
  /** How far the merge may run ahead of an idle-looking lane before asking the broker (half the lateness). */
  private readonly skewMs: number;
  private readonly dlqTopic: string;
  readonly groupId: string;

  private shards = new Map<number, Shard>();
  private outputs = new Outputs();
  private generation = 0;
  private stateGeneration = 0;
  private dirty = false;
  private lastFlush = Date.now();
  private chain: Promise<unknown> = Promise.resolve();
  private drainScheduled: Promise<void> | undefined;
  private heartbeat: (() => Promise<void>) | undefined;
  private timers: NodeJS.Timeout[] = [];
  /** Wall-clock time of each channel's last early firing. */
  private readonly lastEarlyFire = new Map<string, number>();
  private readonly abort = new AbortController();
  private closing: Promise<void> | undefined;
  /** When the group was first joined (the benchmark measures from here). */
  joinedAt: number | undefined;
  /** Counters for tests and the benchmark. */
  readonly stats = newProcessorStats();

  constructor(private readonly rt: Runtime, opts: ProcessorOptions = {}) {
    const c = rt.config;
    this.groupId = opts.groupId ?? c.PROCESSOR_GROUP_ID ?? `${rt.kafkaSettings.topicPrefix}.processor`;
    this.repo = new ClickHouseRepository(opts.clickhouse ?? rt.clickhouseSettings);
    this.sink = new ProcessorClickHouseSink(this.repo);
    this.log = rt.logger.child({ module: 'processor', group: this.groupId });
    this.inputTopics = INPUT_TOPICS.map((t) => rt.topics[t]);
    for (const t of INPUT_TOPICS) this.logicalName.set(rt.topics[t], t);
    this.decode = createDecodeStep({
      registry: { decode: (t, b) => rt.registry.decode(t, b), schemaFor: async (id) => (await rt.registry.registry.getSchema(id)) as unknown as AvroReader },
      topics: rt.topics,
    });
    this.rules = {
      ...DEFAULT_ALERT_RULES,
      baselineWindows: c.PROCESSOR_BASELINE_WINDOWS,
      spikeFactor: c.PROCESSOR_VIEWER_SPIKE_FACTOR,
      engagementDropFactor: c.PROCESSOR_ENGAGEMENT_DROP_FACTOR,
    };
    this.latenessMs = c.PROCESSOR_ALLOWED_LATENESS_SECONDS * 1000;
    this.skewMs = Math.max(1000, this.latenessMs / 2);
    this.dlqTopic = rawTopicFor(rt.kafkaSettings.topicPrefix, 'processorDlq');
  }

  private readonly nameOf = (topic: string): string => this.logicalName.get(topic) ?? topic;

  async start(): Promise<void> {
    const { kafka, config: c } = this.rt;
    this.admin = kafka.admin();
    await this.admin.connect();
    await this.ensureDlqTopic(this.admin);
    this.producer = createIdempotentProducer(kafka);
    await this.producer.connect();
    this.consumer = kafka.consumer({
      groupId: this.groupId,
      allowAutoTopicCreation: false,
      partitionAssigners: [CoPartitionedAssigner],
      sessionTimeout: 30000,
      heartbeatInterval: HEARTBEAT_EVERY_MS,
      maxBytesPerPartition: 4 * 1024 * 1024,
    });
    this.writer = new FlushWriter({
      sink: this.sink, producer: this.producer, consumer: this.consumer, topics: this.rt.topics, dlqTopic: this.dlqTopic,
      encode: { windows: await this.rt.registry.syncEncoder('windows'), alerts: await this.rt.registry.syncEncoder('alerts') },
      withRetry: (target, fn) => this.withRetry(target, fn), stats: this.stats, log: this.log,
    });
    // Every (re)join resets all shards: kafkajs re-reads from the committed offsets after a rebalance,
    // so the state must be rebuilt from there too — also for partitions this member keeps.
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.generation++;
      this.joinedAt ??= performance.now();
      this.log.info({ generation: this.generation, assignment: e.payload.memberAssignment }, 'joined group; shards will be rebuilt from committed offsets');
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.inputTopics, fromBeginning: true });
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch: (p) => this.onBatch(p) });
    const earlyEveryMs = c.PROCESSOR_EARLY_FIRE_SECONDS * 1000;
    if (earlyEveryMs > 0) {
      this.timers.push(setInterval(() => {
        void this.exclusive(async () => this.fireEarly(earlyEveryMs)).catch((err) => this.log.warn({ err }, 'early firing failed'));
      }, Math.min(1000, Math.max(100, earlyEveryMs / 2))));
    }
    this.timers.push(setInterval(() => {
      if (this.dirty && Date.now() - this.lastFlush >= c.PROCESSOR_FLUSH_INTERVAL_MS) {
        void this.exclusive(() => this.flushWhenIdle(), this.heartbeat).catch((err) => this.log.warn({ err }, 'timed flush failed'));
      }
    }, Math.max(50, Math.floor(c.PROCESSOR_FLUSH_INTERVAL_MS / 2))));
  }

  private async ensureDlqTopic(admin: Admin): Promise<void> {
    const existing = await admin.listTopics();
    if (existing.includes(this.dlqTopic)) return;
    await admin
      .createTopics({ waitForLeaders: true, topics: [{ topic: this.dlqTopic, numPartitions: this.rt.kafkaSettings.partitions, replicationFactor: this.rt.kafkaSettings.replicationFactor }] })
      .catch((err: Error) => {
        if (!/already exists/i.test(err.message)) throw err;
      });
  }

  /** Runs `fn` alone; while it waits or runs, keeps the group session alive. */
  private exclusive<T>(fn: () => Promise<T>, heartbeat?: () => Promise<void>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    if (!heartbeat) return run;
    const t = setInterval(() => void heartbeat().catch(() => undefined), HEARTBEAT_EVERY_MS);
    return run.finally(() => clearInterval(t));
  }

  private async onBatch({ batch, resolveOffset, heartbeat }: EachBatchPayload): Promise<void> {
    this.heartbeat = heartbeat;
    const { topic, partition } = batch;
    const items = await decodeBatch(
      { decode: this.decode, logicalName: this.nameOf, maxFutureSkewMs: this.rt.config.PROCESSOR_MAX_FUTURE_SKEW_SECONDS * 1000, signal: this.abort.signal, stats: this.stats, log: this.log },
      batch, heartbeat,
    );
    const caughtUp = batch.offsetLag() === '0';
    if (this.stateGeneration !== this.generation || !this.shards.has(partition)) {
      await this.exclusive(async () => {
        if (this.stateGeneration !== this.generation) this.resetState();
        if (!this.shards.has(partition)) this.shards.set(partition, await this.restore(partition));
      }, heartbeat);
    }
    // From here to the end no await runs before the push: nothing can interleave with it.
    const shard = this.shards.get(partition);
    if (!shard || this.stateGeneration !== this.generation) throw new Error('processor: group rebalanced while a batch was decoded; it will be fetched again');
    const expected = shard.enqueued.get(topic) ?? 0;
    // kafkajs may hand over a range again (a retried batch); what is already queued is not queued twice.
    const fresh = items.filter((i) => i.offset >= expected);
    if (fresh.length) shard.enqueued.set(topic, fresh[fresh.length - 1]!.offset + 1);
    shard.queue.push(topic, fresh, caughtUp);
    // Processing runs under the lock, after this returns, so kafkajs fetches the next batches meanwhile;
    // past MAX_QUEUED_EVENTS waiting events this batch waits for it (backpressure).
    const work = this.scheduleDrain();
    if (this.queuedEvents() > MAX_QUEUED_EVENTS) await work;
    else work.catch(() => undefined);
    const last = batch.messages[batch.messages.length - 1];
    if (last) resolveOffset(last.offset);
  }

  private restore(partition: number): Promise<Shard> {
    return restoreShard({
      admin: this.admin!, groupId: this.groupId, inputTopics: this.inputTopics, sink: this.sink, latenessMs: this.latenessMs, mergeSkewMs: this.skewMs,
      maxFutureSkewMs: this.rt.config.PROCESSOR_MAX_FUTURE_SKEW_SECONDS * 1000, rules: this.rules, log: this.log,
      withRetry: (target, fn) => this.withRetry(target, fn),
    }, partition);
  }

  private queuedEvents(): number {
    let n = 0;
    for (const shard of this.shards.values()) n += shard.queue.queued();
    return n;
  }

  /** One drain of every shard (and a flush when due) under the lock; pushes meanwhile join the next one. */
  private scheduleDrain(): Promise<void> {
    this.drainScheduled ??= this.exclusive(async () => {
      this.drainScheduled = undefined;
      if (this.stateGeneration !== this.generation) return this.resetState();
      const started = performance.now();
      const deps = {
        outputs: () => this.outputs, current: (sh: Shard) => this.shards.get(sh.partition) === sh && this.stateGeneration === this.generation,
        verifyLanes: (sh: Shard, topics: string[], upTo: number) => this.verifyLanes(sh, topics, upTo), logicalName: this.nameOf, stats: this.stats, log: this.log,
      };
      for (const shard of this.shards.values()) if (shard.queue.queued() > 0 && (await drainShard(deps, shard))) this.dirty = true;
      this.stats.ms.state += performance.now() - started;
      if (this.outputs.size >= this.rt.config.PROCESSOR_BATCH_MAX_EVENTS || Date.now() - this.lastFlush >= this.rt.config.PROCESSOR_FLUSH_INTERVAL_MS) {
        await this.flushWhenIdle();
      }
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
   * Asks the broker whether lanes that look idle are really at the end of their partition. The answer
   * covers every partition of the topic, so the other shards take it too, as if they had asked now for
   * the event time they are at (the answer is just as fresh for them): one round trip, not one per shard.
   */
  private async verifyLanes(shard: Shard, topics: string[], upTo: number): Promise<void> {
    this.stats.verifications++;
    const started = performance.now();
    const ends = await this.withRetry('Kafka offsets', () => Promise.all(topics.map((t) => this.admin!.fetchTopicOffsets(t))));
    topics.forEach((topic, i) => {
      for (const sh of this.shards.values()) {
        const high = Number(ends[i]!.find((o) => o.partition === sh.partition)?.high ?? 0);
        const atEnd = (sh.enqueued.get(topic) ?? 0) >= high;
        if (sh === shard) sh.queue.verified(topic, atEnd, upTo);
        else {
          const t = sh.queue.nextT();
          if (t !== undefined && Number.isFinite(t)) sh.queue.verified(topic, atEnd, t + this.skewMs);
        }
      }
    });
    this.stats.ms.verify += performance.now() - started;
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

  /** Under the lock: waits for the write in flight (backpressure), then starts the next one. */
  private async flushWhenIdle(): Promise<void> {
    await this.writer!.idle();
    void this.flush().catch((err) => this.log.warn({ err }, 'write abandoned; it will be replayed'));
  }

  /** Under the lock: the provisional figures of each changed channel's open window, at most every `everyMs` per channel. */
  private fireEarly(everyMs: number): void {
    if (!this.writer || this.stateGeneration !== this.generation) return;
    const now = Date.now();
    const due = (key: string) => now - (this.lastEarlyFire.get(key) ?? 0) >= everyMs;
    const fired = [...this.shards.values()].flatMap((shard) => shard.state.takeEarlyFirings(due));
    if (this.lastEarlyFire.size > 100_000) this.lastEarlyFire.clear();
    for (const w of fired) this.lastEarlyFire.set(`${w.platform}:${w.channelId}`, now);
    this.writer.sendProvisional(fired);
  }

  private withRetry<T>(target: string, fn: () => Promise<T>): Promise<T> {
    return retry(fn, {
      what: target,
      attempts: Number.POSITIVE_INFINITY,
      initialDelayMs: 200,
      maxDelayMs: 5000,
      retryOn: () => !this.abort.signal.aborted,
      signal: this.abort.signal,
      onRetry: (err, attempt, delayMs) => {
        M.sinkRetries.inc({ target });
        this.stats.retries++;
        this.log.warn({ target, attempt, delayMs, err }, 'write failed; consumption paused, retrying');
        void this.heartbeat?.().catch(() => undefined);
      },
    });
  }

  /** Waits until pending outputs are written and committed (tests, benchmark). */
  async flushNow(): Promise<void> {
    await this.exclusive(async () => {
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
      const stopped = this.consumer?.disconnect().catch((err: Error) => this.log.warn({ err }, 'consumer disconnect failed'));
      await Promise.race([stopped, new Promise((r) => setTimeout(r, 5000).unref())]);
      this.abort.abort(new Error('processor closing'));
      await stopped;
      for (const [name, step] of [
        ['producer', () => this.producer?.disconnect()],
        ['admin', () => this.admin?.disconnect()],
        ['clickhouse', () => this.repo.close()],
      ] as const) {
        try {
          await step();
        } catch (err) {
          this.log.warn({ step: name, err }, 'close step failed');
        }
      }
    })();
    return this.closing;
  }
}
