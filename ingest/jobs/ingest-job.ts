/**
 * The jobs ingest runs, their data, and their deterministic ids. One BullMQ job scheduler exists per
 * (platform, channel, resource) — not per connection: a channel several users connected is polled
 * once (issue 16), with any one owner's token. Its id is a pure function of the three, so adding it
 * twice is an upsert and a restart finds the schedulers it made before (nothing orphaned, nothing doubled).
 */
import crypto from 'node:crypto';

export const RESOURCES = ['snapshot', 'followers', 'chat'] as const;
export type Resource = (typeof RESOURCES)[number];

/** The template data of every poll job. Identity fields only; the channel's owners are re-read per run. */
export interface PollJobData {
  platform: string;
  channelId: string;
  resource: Resource;
  /** The scheduler's current interval, so a run can tell whether it must re-schedule without a Redis read. */
  everyMs: number;
  /** How many times a platform 429 postponed this run (see worker). */
  deferrals?: number;
  /**
   * A batch job (issue 18): the stream state of a whole shard of the platform's channels (channelId is
   * then `shard-<n>`, for logs and the DLQ). Absent for a channel's own job.
   */
  shard?: number;
}

/** What a run reports as its BullMQ return value (kept small: it is stored with the completed job). */
export interface PollJobResult {
  outcome: 'produced' | 'skipped';
  events: number;
  reason?: string;
}

/** A channel as ingest sees it: the queue is per platform, the scheduler per channel. */
export interface ChannelRef {
  platform: string;
  channelId: string;
}

/** The fields of a platform connection ingest needs (platforms/connections Connection has them all). */
export interface ConnectionRef extends ChannelRef {
  connectionId: string;
  userId: string;
}

/**
 * `ch_<hash of platform and channel id>`: channel ids are the platforms' (any characters), while
 * scheduler ids must hold no ':' — BullMQ reads a missing scheduler whose id has colons as a legacy
 * repeatable key and returns a phantom entry for it — and no '.' (our resource separator).
 */
export const channelSlug = (c: ChannelRef) => `ch_${crypto.createHash('sha256').update(`${c.platform}\n${c.channelId}`).digest('base64url').slice(0, 22)}`;

export const schedulerId = (c: ChannelRef, resource: Resource) => `${channelSlug(c)}.${resource}`;

export function parseSchedulerId(id: string): { slug: string; resource: Resource } | null {
  const i = id.lastIndexOf('.');
  if (i <= 0) return null;
  const resource = id.slice(i + 1) as Resource;
  if (!RESOURCES.includes(resource)) return null;
  return { slug: id.slice(0, i), resource };
}

/** One queue per platform, so BullMQ's limiter (which is per queue) is a per-platform rate limit. */
export const pollQueueName = (platform: string) => `ingest-${platform}`;
export const DLQ_NAME = 'ingest-dlq';

/**
 * The poll slot a run belongs to: the planned time of the scheduler's iteration, which BullMQ puts
 * in the job id (`repeat:<schedulerId>:<millis>`). Retries and re-runs of a stalled job keep the id,
 * so the events they produce keep theirs. Jobs added by hand fall back to their creation time.
 */
export function slotOf(job: { id?: string; opts: { prevMillis?: number }; timestamp: number }): number {
  const m = job.id ? /^repeat:.+:(\d+)$/.exec(job.id) : null;
  if (m) return Number(m[1]);
  return job.opts.prevMillis ?? job.timestamp;
}
