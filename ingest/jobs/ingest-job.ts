/**
 * The jobs ingest runs, their data, and their deterministic ids. One BullMQ job scheduler exists per
 * (connection, resource); its id is a pure function of both, so adding it twice is an upsert and a
 * restart finds the schedulers it made before (nothing orphaned, nothing doubled).
 */
export const RESOURCES = ['snapshot', 'followers', 'chat'] as const;
export type Resource = (typeof RESOURCES)[number];

/** The template data of every poll job. Identity fields only; the connection is re-read per run. */
export interface PollJobData {
  connectionId: string;
  userId: string;
  platform: string;
  channelId: string;
  resource: Resource;
  /** The scheduler's current interval, so a run can tell whether it must re-schedule without a Redis read. */
  everyMs: number;
  /** How many times a platform 429 postponed this run (see worker). */
  deferrals?: number;
}

/** What a run reports as its BullMQ return value (kept small: it is stored with the completed job). */
export interface PollJobResult {
  outcome: 'produced' | 'skipped';
  events: number;
  reason?: string;
}

/**
 * No ':' in scheduler ids: BullMQ reads a missing scheduler whose id has colons as a legacy
 * repeatable key and returns a phantom entry for it.
 */
export const schedulerId = (connectionId: string, resource: Resource) => `${connectionId}.${resource}`;

export function parseSchedulerId(id: string): { connectionId: string; resource: Resource } | null {
  const i = id.lastIndexOf('.');
  if (i <= 0) return null;
  const resource = id.slice(i + 1) as Resource;
  if (!RESOURCES.includes(resource)) return null;
  return { connectionId: id.slice(0, i), resource };
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
