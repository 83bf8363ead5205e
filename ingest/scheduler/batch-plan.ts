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

/**
 * A channel's turn among the offline runs: the same SHA-256 value as ever (so no channel's phase moves),
 * computed once per process and channel instead of on every run — a shard's runs otherwise hash every
 * offline member each time (100,000 channels: ~90,000 SHA-256 per live interval). Bounded: a full memory
 * starts again (at ~100 bytes an entry, 262,144 channels ≈ 26 MB), which costs one hash per channel.
 */
const TURNS_MAX = 1 << 18;
const turns = new Map<string, number>();
function turnOf(channelId: string): number {
  let turn = turns.get(channelId);
  if (turn === undefined) {
    if (turns.size >= TURNS_MAX) turns.clear();
    turn = hash32(`turn:${channelId}`);
    turns.set(channelId, turn);
  }
  return turn;
}

/** Whether a channel is asked about in the run planned for `slot` (ms; the run's deterministic time). */
export function dueThisRun(p: { channelId: string; live: boolean | null; slot: number; liveEveryMs: number; offlineEveryMs: number }): boolean {
  if (p.live !== false) return true;
  const k = Math.max(1, Math.round(p.offlineEveryMs / p.liveEveryMs));
  return Math.round(p.slot / p.liveEveryMs) % k === turnOf(p.channelId) % k;
}

/** What a platform's batch read costs: ids per call, and the points its app credentials get a minute. */
export interface BatchBudget {
  idsPerCall: number;
  pointsPerMinute: number;
}

/**
 * Share of a minute's points the shards' runs may plan. The rest is headroom for what the plan cannot
 * see: a retried run, a late run that lands in the same minute as the next one.
 */
export const PLANNED_BUCKET_SHARE = 0.8;

/**
 * The most ids one shard's run may ask about: its share of the planned points of a minute, divided by
 * the runs of a shard that fit in one minute (a 30 s cadence: 2). Live channels and the offline ones
 * whose turn it is are asked whatever this says; it bounds only the never-seen ones (planRun).
 */
export function idsPerRun(b: BatchBudget, p: { shards: number; liveEveryMs: number }): number {
  const runsPerMinute = Math.max(1, Math.ceil(60_000 / p.liveEveryMs));
  const calls = Math.floor((b.pointsPerMinute * PLANNED_BUCKET_SHARE) / runsPerMinute / Math.max(1, p.shards));
  return Math.max(1, calls) * b.idsPerCall;
}

/**
 * The channels a shard's run asks about: the live ones and the offline ones whose turn it is
 * (dueThisRun), then never-seen channels (no last-known state) up to `maxIds` in all. Without the bound
 * a fresh deployment of 100,000 channels — or a shard whose states were lost — asks about every
 * channel in its first run (1,005 Twitch calls in one minute against 800 points); with it, the first
 * pass spreads over the first minutes and no minute plans more than PLANNED_BUCKET_SHARE of the bucket.
 * A lone new channel (a creator who just connected) is still asked in the next run. Never-seen
 * channels are taken in id order so a retried run asks about the same ones.
 */
export function planRun(p: { members: ReadonlyArray<{ channelId: string; live: boolean | null }>; slot: number; liveEveryMs: number; offlineEveryMs: number; maxIds?: number }): string[] {
  const due: string[] = [];
  const unseen: string[] = [];
  for (const m of p.members) {
    if (m.live === null) unseen.push(m.channelId);
    else if (dueThisRun({ channelId: m.channelId, live: m.live, slot: p.slot, liveEveryMs: p.liveEveryMs, offlineEveryMs: p.offlineEveryMs })) due.push(m.channelId);
  }
  const room = p.maxIds === undefined ? unseen.length : Math.max(0, p.maxIds - due.length);
  if (room < unseen.length) unseen.sort();
  return due.concat(unseen.slice(0, room));
}

/** `batch_<platform>_<shard>.snapshot`: no ':' (see channelSlug) and never a `ch_` channel slug. */
export const batchSchedulerId = (platform: string, shard: number) => `batch_${platform}_${shard}.snapshot`;

export function parseBatchSchedulerId(id: string): { platform: string; shard: number } | null {
  const m = /^batch_(.+)_(\d+)\.snapshot$/.exec(id);
  return m ? { platform: m[1]!, shard: Number(m[2]) } : null;
}
