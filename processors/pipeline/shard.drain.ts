import type { Logger } from '../../shared/logging/logger';
import { processorMetrics as M } from '../processor.metrics';
import type { ProcessorStats } from '../processor.stats';
import { dlqMessage } from '../sink/records';
import type { Outputs } from '../sink/outputs';
import type { Position } from '../state/processor-event';
import type { Shard } from './shard';

export interface DrainDeps {
  outputs(): Outputs;
  /** False once a rebalance replaced the shards: the rest is re-read by the new state, not processed here. */
  current(shard: Shard): boolean;
  /** Asks the broker whether idle-looking lanes are at their partition's end (the merge's `verify`). */
  verifyLanes(shard: Shard, topics: string[], upTo: number): Promise<void>;
  logicalName(topic: string): string;
  stats: ProcessorStats;
  log: Logger;
}

/**
 * Feeds a shard's merged events to its window state and routes each step result (PostHog's rule: the
 * loop alone decides): `ok` counted; `drop` counted by reason; `redirect` (late) counted — its row is
 * already in the outputs; DLQ items become DLQ messages unless the checkpoint says they were handled
 * before the last commit. Returns true when it processed anything.
 */
export async function drainShard(d: DrainDeps, shard: Shard): Promise<boolean> {
  // Counted locally and added to Prometheus once per drain (a labelled inc per event is measurable).
  const counts: Record<string, Record<string, number>> = {};
  const bump = (topic: string, outcome: string) => {
    const byOutcome = (counts[topic] ??= {});
    byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
  };
  let any = false;
  // One position for the whole drain, updated per event: the state copies it where it keeps one (late rows, session ends).
  const pos: Position = { topic: '', partition: shard.partition, offset: 0 };
  while (d.current(shard)) {
    const next = shard.queue.pop();
    if (next.kind === 'wait') break;
    if (next.kind === 'verify') {
      await d.verifyLanes(shard, next.topics, next.upTo);
      continue;
    }
    const { topic, item } = next;
    pos.topic = topic;
    pos.offset = item.offset;
    shard.next.set(topic, item.offset + 1);
    any = true;
    const name = d.logicalName(topic);
    const p = item.payload;
    const out = d.outputs();
    if (p.kind === 'dlq') {
      if (shard.state.replayUntilFor(topic, 0) > item.offset) {
        bump(name, 'replayed');
        continue;
      }
      out.dlq.push(dlqMessage(p, pos));
      M.deadLetters.inc({ topic: name, reason: p.reason });
      d.stats.dlq++;
      bump(name, 'dlq');
      d.log.warn({ topic, partition: pos.partition, offset: pos.offset, reason: p.reason }, 'message sent to the DLQ');
      continue;
    }
    const windowsBefore = out.windows.length;
    const r = shard.state.process(p, pos, out);
    d.stats.processed++;
    d.stats.windows += out.windows.length - windowsBefore;
    if (r.kind === 'ok') bump(name, 'ok');
    else if (r.kind === 'drop') bump(name, r.reason);
    else if (r.kind === 'redirect') {
      bump(name, 'late');
      M.lateEvents.inc({ topic: name });
      d.stats.late++;
    }
  }
  for (const [topic, byOutcome] of Object.entries(counts)) {
    for (const [outcome, n] of Object.entries(byOutcome)) M.events.inc({ topic, outcome }, n);
  }
  M.watermark.set({ partition: String(shard.partition) }, Math.max(0, shard.state.watermark() / 1000));
  return any;
}
