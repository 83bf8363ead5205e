import type { Admin, IHeaders } from 'kafkajs';
import type { Logger } from '../../shared/logging/logger';
import type { AlertRuleSettings } from '../alerts/alert.rules';
import { decodeCommitMetadata } from '../kafka/checkpoint';
import { processorMetrics as M } from '../processor.metrics';
import type { ProcessorClickHouseSink } from '../sink/clickhouse.sink';
import type { ProcessorEvent } from '../state/processor-event';
import { Checkpoint, RestoredChannel, ShardState } from '../state/shard.state';
import { MergeItem, MergeQueue } from './merge.queue';
import type { DlqReason } from './step.result';

/** What the decode step leaves for the loop: an event itself (no wrapper per event), or a message bound for the DLQ. */
export type Item = ProcessorEvent | DlqItem;
export interface DlqItem { kind: 'dlq'; reason: DlqReason; detail: string; key: Buffer | null; value: Buffer | null; headers: IHeaders }

/** Partition p of every input topic: its window state, its event-time merge and its positions. */
export interface Shard {
  partition: number;
  state: ShardState;
  queue: MergeQueue<Item>;
  /** Per topic: the next offset not yet processed (the start of what a replay must re-read). */
  next: Map<string, number>;
  /** Per topic: the offset after the last one queued (a re-delivered range is not queued twice). */
  enqueued: Map<string, number>;
  /** Per topic: `${offset}|${metadata}` of the last planned commit. */
  lastCommit: Map<string, string>;
}

export interface ShardRestoreDeps {
  admin: Admin;
  groupId: string;
  inputTopics: string[];
  sink: ProcessorClickHouseSink;
  latenessMs: number;
  /** How far the merge may run ahead of an idle-looking lane before asking the broker. */
  mergeSkewMs: number;
  maxFutureSkewMs: number;
  rules: AlertRuleSettings;
  log: Logger;
  withRetry<T>(target: string, fn: () => Promise<T>): Promise<T>;
}

/**
 * A shard starts from the committed offsets of its topic-partitions; their metadata is the checkpoint
 * (watermark, replay positions), and ClickHouse gives back the recent windows and open sessions of its
 * channels (processors/README.md, "Exactly-once effect" 4).
 */
export async function restoreShard(d: ShardRestoreDeps, partition: number, now = Date.now()): Promise<Shard> {
  const [committed, ends] = await Promise.all([
    d.admin.fetchOffsets({ groupId: d.groupId, topics: d.inputTopics }),
    Promise.all(d.inputTopics.map(async (t) => [t, await d.admin.fetchTopicOffsets(t)] as const)),
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
  const ceiling = now + d.maxFutureSkewMs;
  if (Number.isFinite(maxEventTime) && maxEventTime > ceiling) {
    d.log.warn({ partition, checkpointEventTime: new Date(maxEventTime).toISOString() }, 'checkpoint event time lies in the future; bounded by the wall clock');
    M.clampedEvents.inc({ topic: 'checkpoint' });
    maxEventTime = ceiling;
  }
  let checkpoint: Checkpoint | null = null;
  let restored: RestoredChannel[] = [];
  if (Number.isFinite(maxEventTime)) {
    checkpoint = { maxEventTime, replayUntil };
    restored = await d.withRetry('ClickHouse restore', () => d.sink.restoreShard(partition, partitions, maxEventTime - d.latenessMs, d.rules));
  }
  d.log.info({ partition, checkpoint: checkpoint ? { maxEventTime, replayUntil: Object.fromEntries(replayUntil) } : null, restoredChannels: restored.length }, 'shard initialised');
  return {
    partition,
    state: new ShardState(partition, { latenessMs: d.latenessMs, rules: d.rules }, checkpoint, restored),
    queue: new MergeQueue<Item>(d.inputTopics, (t) => caughtUp.get(t) ?? true, d.mergeSkewMs),
    next,
    enqueued: new Map(next),
    lastCommit: new Map(),
  };
}

/** Queues a decoded batch; kafkajs may hand over a range again (a retried batch), and what is already queued is not queued twice. */
export function enqueue(shard: Shard, topic: string, items: MergeItem<Item>[], caughtUp: boolean): void {
  const expected = shard.enqueued.get(topic) ?? 0;
  // Normally nothing of the batch is queued yet: the batch itself, not a copy.
  const fresh = items.length === 0 || items[0]!.offset >= expected ? items : items.filter((i) => i.offset >= expected);
  if (fresh.length) shard.enqueued.set(topic, fresh[fresh.length - 1]!.offset + 1);
  shard.queue.push(topic, fresh, caughtUp);
}
