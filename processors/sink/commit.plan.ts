import { encodeCommitMetadata } from '../kafka/checkpoint';

export type CommitPlan = Array<{ topic: string; partition: number; offset: string; metadata: string | null }>;

/** What the plan needs of a shard: where it is, and what its window state still holds on to. */
export interface CommitShard {
  partition: number;
  /** Per topic: the next offset not yet processed. */
  next: ReadonlyMap<string, number>;
  /** Per topic: `${offset}|${metadata}` of the last planned commit (updated by `planCommit`). */
  lastCommit: Map<string, string>;
  state: {
    highestEventTime(): number;
    committableOffset(topic: string, nextUnprocessed: number): number;
    replayUntilFor(topic: string, nextUnprocessed: number): number;
  };
}

/**
 * The offsets that may be committed (processors/README.md, "Exactly-once effect"): per shard, for all
 * of its topic-partitions together (their checkpoint metadata must agree), the lowest offset still
 * needed by an open window or an unsummarised session end — never past the next unprocessed one —
 * with the checkpoint `{m: highest event time, p: replay position}`. A shard whose position has not
 * changed since its last plan is left out. Planned is as good as done for the next plan (writes and
 * commits run in order), so each shard's `lastCommit` is updated here.
 */
export function planCommit(shards: Iterable<CommitShard>, topics: readonly string[]): CommitPlan {
  const offsets: CommitPlan = [];
  for (const shard of shards) {
    const m = shard.state.highestEventTime();
    const planned: CommitPlan = [];
    let anyChange = false;
    for (const topic of topics) {
      const next = shard.next.get(topic);
      if (next === undefined) continue;
      const offset = String(shard.state.committableOffset(topic, next));
      const metadata = Number.isFinite(m) ? encodeCommitMetadata({ m, p: shard.state.replayUntilFor(topic, next) }) : null;
      if (shard.lastCommit.get(topic) !== `${offset}|${metadata}`) anyChange = true;
      planned.push({ topic, partition: shard.partition, offset, metadata });
    }
    if (anyChange) {
      offsets.push(...planned);
      for (const o of planned) shard.lastCommit.set(o.topic, `${o.offset}|${o.metadata}`);
    }
  }
  return offsets;
}
