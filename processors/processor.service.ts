import type { Admin, Consumer, EachBatchPayload, IHeaders, Producer } from 'kafkajs';
import type { Runtime } from '../shared/runtime';
import type { Logger } from '../shared/logging/logger';
import type { Alert, MetricWindow } from '../shared/events/events';
import { ClickHouseRepository, ClickHouseSettings } from '../shared/clickhouse/clickhouse.repository';
import { createIdempotentProducer } from '../shared/kafka/kafka.client';
import { rawTopicFor } from '../shared/kafka/topics';
import { retry } from '../shared/errors/retry';
import { untilRegistryAnswers } from '../shared/schema-registry/schema-registry';
import { alertIds, AlertRuleSettings, DEFAULT_ALERT_RULES, RaisedAlert } from './alerts/alert.rules';
import { CoPartitionedAssigner } from './kafka/copartitioned.assigner';
import { decodeCommitMetadata, encodeCommitMetadata } from './kafka/checkpoint';
import { AvroReader, createDecodeStep, INPUT_TOPICS, InputTopic } from './pipeline/decode.step';
import { MergeQueue } from './pipeline/merge.queue';
import type { DlqReason } from './pipeline/step.result';
import { processorMetrics as M } from './processor.metrics';
import { ProcessorClickHouseSink } from './sink/clickhouse.sink';
import { DlqMessage, Outputs, PendingEnd, SessionRow } from './sink/outputs';
import { WINDOW_MS, type Position, type ProcessorEvent } from './state/processor-event';
import { Checkpoint, ShardState } from './state/shard.state';
import type { ClosedWindow } from './state/window.accumulator';
import { boundEventTime } from './state/event-time';

type CommitPlan = Array<{ topic: string; partition: number; offset: string; metadata: string | null }>;

type Item =
  | { kind: 'event'; event: ProcessorEvent }
  | { kind: 'dlq'; reason: DlqReason; detail: string; key: Buffer | null; value: Buffer | null; headers: IHeaders };

interface Shard {
  partition: number;
  state: ShardState;
  queue: MergeQueue<Item>;
  /** Per topic: the next offset not yet processed (the start of what a replay must re-read). */
  next: Map<string, number>;
  /** Per topic: the offset after the last one queued (a re-delivered range is not queued twice). */
  enqueued: Map<string, number>;
  lastCommit: Map<string, string>;
}

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
 * The one loop: every batch is decoded by the decode step, merged in event-time order per shard and
 * fed to the shard's window state; the results are turned here — and only here — into metrics, DLQ
 * messages, late rows and, at flush time, ClickHouse inserts, Kafka messages and an offset commit.
 * All of it runs under one lock (`exclusive`), so state, outputs and commits never interleave.
 *
 * Exactly-once effect: outputs are written before the commit that covers them; a commit never passes
 * the lowest offset an open window or an unsummarised session end still needs, and carries the
 * shard's checkpoint in the offset metadata. After a crash or rebalance a shard is rebuilt by
 * replaying from the committed offsets (+ a small restore read from ClickHouse) and rewrites identical
 * rows under the same keys.
 */
export class ProcessorService {
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private admin: Admin | undefined;
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
  /** How far an event time may lie ahead of its record's arrival (PROCESSOR_MAX_FUTURE_SKEW_SECONDS). */
  private readonly maxFutureSkewMs: number;
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
  /** The write in flight (flush → ClickHouse, Kafka, commit); writes run one after another. */
  private writing: Promise<void> = Promise.resolve();
  private heartbeat: (() => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private earlyTimer: NodeJS.Timeout | undefined;
  /** Wall-clock time of each channel's last early firing. */
  private readonly lastEarlyFire = new Map<string, number>();
  /** The MetricWindow encoder, once resolved (early firings are synchronous under the lock). */
  private windowEncoder: ((value: object) => Buffer) | undefined;
  private readonly abort = new AbortController();
  private closing: Promise<void> | undefined;
  /** When the group was first joined (the benchmark measures from here). */
  joinedAt: number | undefined;
  /** Counters for tests and the benchmark. */
  readonly stats = {
    processed: 0, late: 0, dlq: 0, clamped: 0, earlyFirings: 0, windows: 0, flushes: 0, commits: 0, retries: 0, verifications: 0,
    /** Wall-clock ms spent per stage (the benchmark's "where time goes"). */
    ms: { decode: 0, state: 0, verify: 0, clickhouse: 0, kafka: 0, commit: 0 },
  };

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
    this.maxFutureSkewMs = c.PROCESSOR_MAX_FUTURE_SKEW_SECONDS * 1000;
    this.dlqTopic = rawTopicFor(rt.kafkaSettings.topicPrefix, 'processorDlq');
  }

  async start(): Promise<void> {
    const { kafka } = this.rt;
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
    // Every (re)join resets all shards: kafkajs re-reads from the committed offsets after a rebalance,
    // so the state must be rebuilt from there too — also for partitions this member keeps.
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.generation++;
      this.joinedAt ??= performance.now();
      this.log.info({ generation: this.generation, assignment: e.payload.memberAssignment }, 'joined group; shards will be rebuilt from committed offsets');
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.inputTopics, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (p) => this.onBatch(p),
    });
    const earlyEveryMs = this.rt.config.PROCESSOR_EARLY_FIRE_SECONDS * 1000;
    if (earlyEveryMs > 0) {
      this.earlyTimer = setInterval(() => {
        void this.exclusive(async () => this.fireEarly(earlyEveryMs)).catch((err) => this.log.warn({ err }, 'early firing failed'));
      }, Math.min(1000, Math.max(100, earlyEveryMs / 2)));
    }
    this.timer = setInterval(() => {
      if (this.dirty && Date.now() - this.lastFlush >= this.rt.config.PROCESSOR_FLUSH_INTERVAL_MS) {
        void this.exclusive(() => this.flushWhenIdle(), this.heartbeat).catch((err) => this.log.warn({ err: (err as Error).message }, 'timed flush failed'));
      }
    }, Math.max(50, Math.floor(this.rt.config.PROCESSOR_FLUSH_INTERVAL_MS / 2)));
  }

  /**
   * Early firing (processors/README.md): under the lock, the provisional figures of each changed
   * channel's newest open window, at most every PROCESSOR_EARLY_FIRE_SECONDS per channel, go to the
   * MetricWindow topic flagged provisional. Fire-and-forget on the same producer as the final windows,
   * so per key they stay in order before the final; never written to ClickHouse, never committed.
   */
  private fireEarly(everyMs: number): void {
    if (!this.producer || this.stateGeneration !== this.generation) return;
    const now = Date.now();
    const due = (key: string) => now - (this.lastEarlyFire.get(key) ?? 0) >= everyMs;
    const fired: ClosedWindow[] = [];
    for (const shard of this.shards.values()) fired.push(...shard.state.takeEarlyFirings(due));
    if (fired.length === 0 || !this.windowEncoder) return;
    const encode = this.windowEncoder;
    for (const w of fired) this.lastEarlyFire.set(`${w.platform}:${w.channelId}`, now);
    if (this.lastEarlyFire.size > 100_000) this.lastEarlyFire.clear();
    this.stats.earlyFirings += fired.length;
    M.earlyFirings.inc(fired.length);
    void this.producer
      .send({ topic: this.rt.topics.windows, messages: fired.map((w) => ({ key: w.userId, value: encode({ ...toMetricWindow(w, undefined), provisional: true }) })) })
      .catch((err) => this.log.debug({ err }, 'provisional windows not sent; the final ones follow'));
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
    // Decoding needs no state, so it runs outside the lock.
    const decodeStarted = performance.now();
    const items: { t: number; offset: number; payload: Item }[] = [];
    const clamped: Record<string, { n: number }> = {};
    for (const m of batch.messages) {
      const offset = Number(m.offset);
      const pending = this.decode(topic, m.value);
      // Only the slow path asks the Schema Registry; one that cannot answer is waited out here (backoff,
      // heartbeats), never dead-lettered: this batch and those behind it wait, nothing is committed past it.
      const r = pending instanceof Promise
        ? await untilRegistryAnswers((attempt) => (attempt === 1 ? pending : Promise.resolve(this.decode(topic, m.value))), {
          what: 'processor decode', signal: this.abort.signal,
          onRetry: (err, attempt, delayMs) => {
            this.log.warn({ topic, partition, offset, attempt, delayMs, err: (err as Error).message }, 'Schema Registry unavailable; waiting');
            void heartbeat().catch(() => undefined);
          },
        })
        : pending;
      if (r.kind === 'ok') {
        // Event time is bounded by arrival (the record timestamp our producer wrote): no source can move the shard's clock ahead.
        const bounded = boundEventTime(r.value, Number(m.timestamp), this.maxFutureSkewMs);
        if (bounded.clamped) (clamped[this.logicalName.get(topic) ?? topic] ??= { n: 0 }).n++;
        items.push({ t: bounded.event.t, offset, payload: { kind: 'event', event: bounded.event } });
      }
      else if (r.kind === 'dlq') {
        items.push({ t: Number.NEGATIVE_INFINITY, offset, payload: { kind: 'dlq', reason: r.reason, detail: r.detail, key: m.key, value: m.value, headers: m.headers ?? {} } });
      }
    }
    this.stats.ms.decode += performance.now() - decodeStarted;
    for (const [name, { n }] of Object.entries(clamped)) {
      M.clampedEvents.inc({ topic: name }, n);
      this.stats.clamped += n;
    }
    const caughtUp = batch.offsetLag() === '0';
    if (this.stateGeneration !== this.generation || !this.shards.has(partition)) {
      await this.exclusive(async () => {
        if (this.stateGeneration !== this.generation) this.resetState();
        if (!this.shards.has(partition)) await this.initShard(partition);
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
      const drainStarted = performance.now();
      for (const shard of this.shards.values()) if (shard.queue.queued() > 0) await this.drain(shard);
      this.stats.ms.state += performance.now() - drainStarted;
      if (this.outputs.size >= this.rt.config.PROCESSOR_BATCH_MAX_EVENTS || Date.now() - this.lastFlush >= this.rt.config.PROCESSOR_FLUSH_INTERVAL_MS) {
        await this.flushWhenIdle();
      }
    }, this.heartbeat).catch((err: Error) => {
      this.log.warn({ err: err.message }, 'drain failed; uncommitted input will be replayed');
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
   * A shard starts from the committed offsets of its topic-partitions; their metadata is the
   * checkpoint (watermark, replay positions), and ClickHouse gives back the recent windows and open
   * sessions of its channels.
   */
  private async initShard(partition: number): Promise<Shard> {
    const admin = this.admin!;
    const [committed, ends] = await Promise.all([
      admin.fetchOffsets({ groupId: this.groupId, topics: this.inputTopics }),
      Promise.all(this.inputTopics.map(async (t) => [t, await admin.fetchTopicOffsets(t)] as const)),
    ]);
    const next = new Map<string, number>();
    const caughtUp = new Map<string, boolean>();
    const replayUntil = new Map<string, number>();
    let maxEventTime = Number.NEGATIVE_INFINITY;
    let partitions = 0;
    for (const [topic, offsets] of ends) {
      partitions = Math.max(partitions, offsets.length);
      const end = offsets.find((o) => o.partition === partition);
      const c = committed.find((x) => x.topic === topic)?.partitions.find((x) => x.partition === partition);
      const low = Number(end?.low ?? 0);
      const high = Number(end?.high ?? 0);
      const from = c && Number(c.offset) >= 0 ? Math.max(Number(c.offset), low) : low;
      next.set(topic, from);
      caughtUp.set(topic, from >= high);
      const meta = decodeCommitMetadata(c?.metadata);
      if (meta) {
        maxEventTime = Math.max(maxEventTime, meta.m);
        replayUntil.set(topic, meta.p);
      }
    }
    // A checkpoint from before event time was bounded by arrival may lie in the future; its clock
    // would keep every channel's events late until the wall clock caught up, so it is brought back.
    const ceiling = Date.now() + this.maxFutureSkewMs;
    if (Number.isFinite(maxEventTime) && maxEventTime > ceiling) {
      this.log.warn({ partition, checkpointEventTime: new Date(maxEventTime).toISOString() }, 'checkpoint event time lies in the future; bounded by the wall clock');
      M.clampedEvents.inc({ topic: 'checkpoint' });
      maxEventTime = ceiling;
    }
    let checkpoint: Checkpoint | null = null;
    let restored: Awaited<ReturnType<ProcessorClickHouseSink['restoreShard']>> = [];
    if (Number.isFinite(maxEventTime)) {
      checkpoint = { maxEventTime, replayUntil };
      restored = await this.withRetry('ClickHouse restore', () => this.sink.restoreShard(partition, partitions, maxEventTime - this.latenessMs, this.rules));
    }
    const shard: Shard = {
      partition,
      state: new ShardState(partition, { latenessMs: this.latenessMs, rules: this.rules }, checkpoint, restored),
      queue: new MergeQueue<Item>(this.inputTopics, (t) => caughtUp.get(t) ?? true, this.skewMs),
      next,
      enqueued: new Map(next),
      lastCommit: new Map(),
    };
    this.shards.set(partition, shard);
    this.log.info({ partition, checkpoint: checkpoint ? { maxEventTime, replayUntil: Object.fromEntries(replayUntil) } : null, restoredChannels: restored.length }, 'shard initialised');
    return shard;
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

  /** Feeds the shard's merged events to its state and routes each result. */
  private async drain(shard: Shard): Promise<void> {
    // A rebalance replaced the shards: this one's events are re-read by the new state, not processed here.
    const current = () => this.shards.get(shard.partition) === shard && this.stateGeneration === this.generation;
    // Counted locally and added to Prometheus once per drain (a labelled inc per event is measurable).
    const counts: Record<string, Record<string, number>> = {};
    const bump = (topic: string, outcome: string) => {
      const byOutcome = (counts[topic] ??= {});
      byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
    };
    while (current()) {
      const next = shard.queue.pop();
      if (next.kind === 'wait') break;
      if (next.kind === 'verify') {
        await this.verifyLanes(shard, next.topics, next.upTo);
        continue;
      }
      const { topic, item } = next;
      const pos: Position = { topic, partition: shard.partition, offset: item.offset };
      shard.next.set(topic, item.offset + 1);
      this.dirty = true;
      const name = this.logicalName.get(topic) ?? topic;
      const p = item.payload;
      if (p.kind === 'dlq') {
        if (shard.state.replayUntilFor(topic, 0) > item.offset) {
          bump(name, 'replayed');
          continue;
        }
        this.outputs.dlq.push(dlqMessage(p, pos));
        M.deadLetters.inc({ topic: name, reason: p.reason });
        this.stats.dlq++;
        bump(name, 'dlq');
        this.log.warn({ topic, partition: pos.partition, offset: pos.offset, reason: p.reason }, 'message sent to the DLQ');
        continue;
      }
      const windowsBefore = this.outputs.windows.length;
      const r = shard.state.process(p.event, pos, this.outputs);
      this.stats.processed++;
      this.stats.windows += this.outputs.windows.length - windowsBefore;
      if (r.kind === 'ok') bump(name, 'ok');
      else if (r.kind === 'drop') bump(name, r.reason);
      else if (r.kind === 'redirect') {
        bump(name, 'late');
        M.lateEvents.inc({ topic: name });
        this.stats.late++;
      }
    }
    for (const [topic, byOutcome] of Object.entries(counts)) {
      for (const [outcome, n] of Object.entries(byOutcome)) M.events.inc({ topic, outcome }, n);
    }
    M.watermark.set({ partition: String(shard.partition) }, Math.max(0, shard.state.watermark() / 1000));
  }

  /**
   * Hands everything pending to the writer, with the commit that covers it (computed now, under the
   * lock, so offsets and metadata match exactly these outputs). Writes are chained: one at a time, in
   * order, and processing goes on while one runs; callers wait for the previous write before starting
   * the next (`flushWhenIdle`), so at most one batch of outputs is in flight — a ClickHouse outage
   * therefore pauses consumption instead of piling up memory.
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
    const ends = [...this.shards.values()].flatMap((shard) => shard.state.takeReadyEnds());
    const commit = this.commitPlan();
    M.openWindows.set([...this.shards.values()].reduce((n, sh) => n + sh.state.openWindowCount(), 0));
    const run = this.writing.then(() => this.write(out, ends, commit, generation));
    this.writing = run.catch(() => undefined);
    return run;
  }

  /** Under the lock: waits for the write in flight (backpressure), then starts the next one. */
  private async flushWhenIdle(): Promise<void> {
    await this.writing;
    void this.flush().catch((err) => this.log.warn({ err: (err as Error).message }, 'write abandoned; it will be replayed'));
  }

  /**
   * Order matters for a crash at any point: windows and late rows first (session summaries read them),
   * then Kafka (alerts, windows, DLQ), then the session and alert rows, then the commit. Each write
   * retries with backoff until it succeeds, so an outage delays, never loses; nothing is committed
   * before everything it covers is written.
   */
  private async write(out: Outputs, ends: PendingEnd[], commit: CommitPlan, generation: number): Promise<void> {
    const started = performance.now();
    const version = Date.now();
    let t = performance.now();
    await this.withRetry('ClickHouse windows', () => this.sink.insertWindowsAndLate(out.windows, out.late, version));
    for (const p of ends) {
      const row = await this.withRetry('ClickHouse session summary', () => this.sink.summarizeSession(p));
      out.sessions.push(row);
      out.alerts.push(endedAlert(row));
    }
    // Sessions still live get their running summary from the windows just written; a session that
    // ended in this flush keeps only its final summary. The running row replaces this flush's start row.
    const sessionKey = (x: { platform: string; channelId: string; streamId: string }) => `${x.platform}:${x.channelId}:${x.streamId}`;
    const endedNow = new Set(ends.map(sessionKey));
    const liveRefs = [...out.liveSessions.values()].filter((r) => !endedNow.has(sessionKey(r)));
    if (liveRefs.length) {
      const running = await this.withRetry('ClickHouse running session summaries', () => this.sink.summarizeLiveSessions(liveRefs));
      const updated = new Set(running.map(sessionKey));
      out.sessions = [...out.sessions.filter((x) => x.status !== 'live' || !updated.has(sessionKey(x))), ...running];
    }
    this.stats.ms.clickhouse += performance.now() - t;
    t = performance.now();
    await this.withRetry('Kafka produce', () => this.produce(out));
    this.stats.ms.kafka += performance.now() - t;
    t = performance.now();
    await this.withRetry('ClickHouse sessions and alerts', () => this.sink.insertSessionsAndAlerts(out.sessions, out.alerts, version));
    this.stats.ms.clickhouse += performance.now() - t;
    M.windowsClosed.inc(out.windows.length);
    for (const a of out.alerts) M.alerts.inc({ type: a.type });
    t = performance.now();
    if (generation === this.generation) await this.commit(commit);
    this.stats.ms.commit += performance.now() - t;
    this.stats.flushes++;
    M.flushSeconds.observe((performance.now() - started) / 1000);
  }

  /**
   * Confluent wire format (magic byte 0, schema id, Avro body) with the registered schema's avsc type,
   * encoded synchronously: one promise per MetricWindow was a visible share of the flush.
   */
  private async encoderFor(name: 'windows' | 'alerts'): Promise<(value: object) => Buffer> {
    const id = this.rt.registry.schemaId(name);
    const type = (await this.rt.registry.registry.getSchema(id)) as unknown as { toBuffer(v: object): Buffer };
    const header = Buffer.alloc(5);
    header.writeInt32BE(id, 1);
    return (value) => Buffer.concat([header, type.toBuffer(value)]);
  }

  private async produce(out: Outputs): Promise<void> {
    const { topics } = this.rt;
    const topicMessages = [];
    if (out.windows.length) {
      const encode = await this.encoderFor('windows');
      this.windowEncoder = encode;
      const running = new Map(out.sessions.filter((x) => x.status === 'live').map((x) => [`${x.platform}:${x.channelId}`, x]));
      topicMessages.push({ topic: topics.windows, messages: out.windows.map((w) => ({ key: w.userId, value: encode(toMetricWindow(w, running.get(`${w.platform}:${w.channelId}`))) })) });
    }
    if (out.alerts.length) {
      const encode = await this.encoderFor('alerts');
      topicMessages.push({ topic: topics.alerts, messages: out.alerts.map((a) => ({ key: a.userId, value: encode(toAlert(a)) })) });
    }
    if (out.dlq.length) topicMessages.push({ topic: this.dlqTopic, messages: out.dlq });
    if (topicMessages.length) await this.producer!.sendBatch({ acks: -1, topicMessages });
  }

  /**
   * Per shard, all topic-partitions together (their metadata must agree): the lowest offset still
   * needed, and the checkpoint. Nothing when a shard's position has not changed since its last commit.
   */
  private commitPlan(): CommitPlan {
    const offsets: CommitPlan = [];
    for (const shard of this.shards.values()) {
      const m = shard.state.highestEventTime();
      const planned: CommitPlan = [];
      let anyChange = false;
      for (const topic of this.inputTopics) {
        const next = shard.next.get(topic);
        if (next === undefined) continue;
        const offset = String(shard.state.committableOffset(topic, next));
        const metadata = Number.isFinite(m) ? encodeCommitMetadata({ m, p: shard.state.replayUntilFor(topic, next) }) : null;
        if (shard.lastCommit.get(topic) !== `${offset}|${metadata}`) anyChange = true;
        planned.push({ topic, partition: shard.partition, offset, metadata });
      }
      if (anyChange) {
        offsets.push(...planned);
        // Planned is as good as done for the next plan: writes and commits run in order.
        for (const o of planned) shard.lastCommit.set(o.topic, `${o.offset}|${o.metadata}`);
      }
    }
    return offsets;
  }

  private async commit(offsets: CommitPlan): Promise<void> {
    if (offsets.length === 0) return;
    try {
      await this.consumer!.commitOffsets(offsets);
      this.stats.commits++;
    } catch (err) {
      // A rebalance is under way: the next owner replays from the previous commit, which is safe.
      this.log.warn({ err: (err as Error).message }, 'offset commit failed; the partitions will be replayed from the previous commit');
    }
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
        this.log.warn({ target, attempt, delayMs, err: (err as Error).message }, 'write failed; consumption paused, retrying');
        void this.heartbeat?.().catch(() => undefined);
      },
    });
  }

  /** Waits until pending outputs are written and committed (tests, benchmark). */
  async flushNow(): Promise<void> {
    await this.exclusive(async () => {
      await this.writing;
      await this.flush();
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      if (this.earlyTimer) clearInterval(this.earlyTimer);
      // Best effort: write and commit what is pending, so a restart replays less (bounded: with
      // ClickHouse down it would wait forever, and the replay covers it anyway).
      await Promise.race([this.flushNow().catch(() => undefined), new Promise((r) => setTimeout(r, 5000).unref())]);
      // Stop consuming first: disconnect waits for the batch in progress. If that batch is stuck in a
      // write retry (ClickHouse down), abandon the retry; nothing uncommitted is lost, it is replayed.
      const stopped = this.consumer?.disconnect().catch((err: Error) => this.log.warn({ err: err.message }, 'consumer disconnect failed'));
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
          this.log.warn({ step: name, err: (err as Error).message }, 'close step failed');
        }
      }
    })();
    return this.closing;
  }
}

function dlqMessage(p: Extract<Item, { kind: 'dlq' }>, pos: Position): DlqMessage {
  return {
    key: p.key,
    value: p.value,
    headers: {
      ...p.headers,
      'x-dlq-reason': p.reason,
      'x-dlq-detail': p.detail.slice(0, 500),
      'x-dlq-topic': pos.topic,
      'x-dlq-partition': String(pos.partition),
      'x-dlq-offset': String(pos.offset),
    },
  };
}

function endedAlert(s: SessionRow): RaisedAlert {
  const hours = s.hoursWatched;
  return {
    alertId: alertIds.streamEnded(s.platform, s.channelId, s.streamId),
    type: 'stream_ended',
    userId: s.userId,
    platform: s.platform,
    channelId: s.channelId,
    occurredAt: s.endedAt ?? s.startedAt,
    severity: 'info',
    message: `Stream ended after ${Math.round(s.durationSeconds / 60)} min: peak ${s.peakViewers} viewers, ${hours.toFixed(1)} hours watched`,
    details: {
      streamId: s.streamId, startedAt: s.startedAt, endedAt: s.endedAt, durationSeconds: s.durationSeconds, peakViewers: s.peakViewers,
      avgViewers: s.avgViewers, hoursWatched: s.hoursWatched, followersGained: s.followersGained, chatMessages: s.chatMessages,
      title: s.title, category: s.category,
    },
  };
}

function toAlert(a: RaisedAlert): Alert {
  return {
    alertId: a.alertId, type: a.type, userId: a.userId, platform: a.platform, channelId: a.channelId, occurredAt: a.occurredAt,
    severity: a.severity, message: a.message, detailsJson: JSON.stringify(a.details),
  };
}

function toMetricWindow(w: ClosedWindow, running: SessionRow | undefined): MetricWindow {
  // Only the session's newest closed window carries its running figures (older ones of a catch-up do not).
  const session = running && running.streamId === w.streamId && Math.abs(running.startedAt + running.durationSeconds * 1000 - (w.windowStart + WINDOW_MS)) < 1000
    ? {
      streamId: running.streamId, startedAt: running.startedAt, durationSeconds: running.durationSeconds, peakViewers: running.peakViewers,
      avgViewers: running.avgViewers, hoursWatched: running.hoursWatched, followersGained: running.followersGained, chatMessages: running.chatMessages,
    }
    : null;
  return {
    session,
    provisional: false,
    platform: w.platform, channelId: w.channelId, userId: w.userId, windowStart: w.windowStart, samples: w.samples,
    avgViewers: w.avgViewers, peakViewers: w.peakViewers, minViewers: w.minViewers, viewerMinutes: w.viewerMinutes,
    followers: w.followers, followerDelta: w.followerDelta, chatMessages: w.chatMessages, uniqueChatters: w.uniqueChatters,
    engagementRate: w.engagementRate, live: w.live,
  };
}
