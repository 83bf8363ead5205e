/**
 * Batched stream-state polling (issue 18.1), the pure part: which shard a channel belongs to, and which
 * channels a shard's run asks the platform about. One job scheduler per (platform, shard) runs at the
 * live cadence; every run asks about the shard's live channels (and those never seen yet) and about
 * the offline ones whose turn it is, so each offline channel is asked once per offline interval and
 * the offline load is spread evenly over the runs.
 */
import crypto from 'node:crypto';

const hash32 = (s: string) => crypto.createHash('sha256').update(s).digest().readUInt32BE(0);

/** The shard of a channel: a pure function of its id, so every process agrees without coordination. */
export const shardOf = (channelId: string, shards: number) => hash32(channelId) % Math.max(1, shards);

/** Whether a channel is asked about in the run planned for `slot` (ms; the run's deterministic time). */
export function dueThisRun(p: { channelId: string; live: boolean | null; slot: number; liveEveryMs: number; offlineEveryMs: number }): boolean {
  if (p.live !== false) return true;
  const k = Math.max(1, Math.round(p.offlineEveryMs / p.liveEveryMs));
  return Math.round(p.slot / p.liveEveryMs) % k === hash32(`turn:${p.channelId}`) % k;
}

/** `batch_<platform>_<shard>.snapshot`: no ':' (see channelSlug) and never a `ch_` channel slug. */
export const batchSchedulerId = (platform: string, shard: number) => `batch_${platform}_${shard}.snapshot`;

export function parseBatchSchedulerId(id: string): { platform: string; shard: number } | null {
  const m = /^batch_(.+)_(\d+)\.snapshot$/.exec(id);
  return m ? { platform: m[1]!, shard: Number(m[2]) } : null;
}
