import type { Batch } from 'kafkajs';
import type { Logger } from '../../shared/logging/logger';
import { untilRegistryAnswers } from '../../shared/schema-registry/schema-registry';
import { processorMetrics as M } from '../processor.metrics';
import type { ProcessorStats } from '../processor.stats';
import { boundedEvent } from '../state/event-time';
import type { ProcessorEvent } from '../state/processor-event';
import type { MergeItem } from './merge.queue';
import type { Item } from './shard';
import type { StepResult } from './step.result';

export interface BatchDecodeDeps {
  decode(topic: string, value: Buffer | null): StepResult<ProcessorEvent> | Promise<StepResult<ProcessorEvent>>;
  /** Logical topic name (snapshots, …) of a Kafka topic, for metrics. */
  logicalName(topic: string): string;
  maxFutureSkewMs: number;
  signal: AbortSignal;
  stats: ProcessorStats;
  log: Logger;
}

/**
 * A fetched batch → merge items: each message decoded (the decode step), its event time bounded by its
 * arrival (`state/event-time.ts`), undecodable ones kept as DLQ items at −∞ so they are handled as soon
 * as they reach the head. Needs no state, so the loop runs it outside its lock.
 *
 * Only the decode step's slow path asks the Schema Registry; one that cannot answer is waited out here
 * (backoff, heartbeats), never dead-lettered: this batch and those behind it wait, and nothing is
 * committed past it.
 */
export async function decodeBatch(d: BatchDecodeDeps, batch: Batch, heartbeat: () => Promise<void>): Promise<MergeItem<Item>[]> {
  const { topic, partition } = batch;
  const started = performance.now();
  const items: MergeItem<Item>[] = [];
  let clamped = 0;
  for (const m of batch.messages) {
    const offset = Number(m.offset);
    const pending = d.decode(topic, m.value);
    const r = pending instanceof Promise
      ? await untilRegistryAnswers((attempt) => (attempt === 1 ? pending : Promise.resolve(d.decode(topic, m.value))), {
        what: 'processor decode', signal: d.signal,
        onRetry: (err, attempt, delayMs) => {
          d.log.warn({ topic, partition, offset, attempt, delayMs, err }, 'Schema Registry unavailable; waiting');
          void heartbeat().catch(() => undefined);
        },
      })
      : pending;
    if (r.kind === 'ok') {
      const event = boundedEvent(r.value, Number(m.timestamp), d.maxFutureSkewMs);
      if (event !== r.value) clamped++;
      items.push({ t: event.t, offset, payload: event });
    } else if (r.kind === 'dlq') {
      items.push({ t: Number.NEGATIVE_INFINITY, offset, payload: { kind: 'dlq', reason: r.reason, detail: r.detail, key: m.key, value: m.value, headers: m.headers ?? {} } });
    }
  }
  d.stats.ms.decode += performance.now() - started;
  if (clamped) {
    M.clampedEvents.inc({ topic: d.logicalName(topic) }, clamped);
    d.stats.clamped += clamped;
  }
  return items;
}
