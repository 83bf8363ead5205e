import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '../../shared/errors/app-error';
import { retry, RetriesExhaustedError } from '../../shared/errors/retry';

// A guard value (the channel's state, a chat cursor) moved by compare-and-set, and items appended to
// the outbox, in one atomic step. KEYS[1] = guard, KEYS[2] = outbox list. ARGV[1] = expected guard
// ('' = absent, '*' = whatever it is), ARGV[2] = new guard ('' = delete it), ARGV[3] = TTL ms,
// ARGV[4..] = items.
const COMMIT = `
local cur = redis.call('GET', KEYS[1])
if ARGV[1] ~= '*' and ((cur == false and ARGV[1] ~= '') or (cur ~= false and cur ~= ARGV[1])) then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
for i = 4, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
if #ARGV >= 4 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return 1`;

// Removes the first #ARGV items only if they are still the ones produced (another run may have done it).
const ACK = `
local n = #ARGV
local head = redis.call('LRANGE', KEYS[1], 0, n - 1)
if #head ~= n then return 0 end
for i = 1, n do if head[i] ~= ARGV[i] then return 0 end end
redis.call('LTRIM', KEYS[1], n, -1)
return 1`;

// Releases the produce lease only if this run still holds it (it may have expired and been taken).
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * How long one run may hold an outbox's produce lease: more than a produce takes (acks=all, the
 * producer's own retries), short enough that a process killed while holding it delays the channel's
 * next produce by seconds only. A lease that outlives its holder's produce by expiring can at worst
 * let a second run re-send the same items: the identical records the guarantee already allows.
 */
export const OUTBOX_LEASE_MS = 10_000;

/** Another run holds the outbox's produce lease (retriable: the job runs again and produces then). */
export class OutboxBusyError extends AppError {
  constructor(outboxKey: string, waitedMs: number, cause?: unknown) {
    super('OUTBOX_BUSY', `another run kept producing outbox ${outboxKey} for ${waitedMs} ms`, { retriable: true, cause, context: { outboxKey } });
  }
}

export interface GuardMove {
  /** The Redis key of the value the commit is conditional on (channel state, chat cursor). */
  key: string;
  /** What the run read: null = absent; undefined = whatever it is now (the guard is informational). */
  expected: string | null | undefined;
  /** The new value; null deletes it. */
  next: string | null;
  /** TTL of the guard and, when items are appended, of the outbox. */
  ttlMs: number;
}

/**
 * The transactional outbox ingest uses for what it must produce exactly once in effect (lifecycle
 * transitions, chat records), with Redis as the one store it can update atomically:
 * 1. `commit`: a run moves its guard (the state or cursor it read) and appends the items that move
 *    implies, in one compare-and-set — two runs that read the same guard cannot both commit;
 * 2. `produce`: it sends what the outbox holds to Kafka and, once acknowledged, removes those items;
 * 3. any later run first produces what an earlier, crashed run left.
 * Step 2 runs under a per-outbox produce lease: two overlapping runs of one channel (a stalled job
 * re-run beside the original, a retry beside the next poll) would otherwise both read the same
 * pending items before either acked them and both produce them. The second run waits for the lease,
 * then finds the items acked and sends only its own records.
 * So every committed item is produced at least once, in order, unchanged; the only repeat on the
 * topic is a crash between Kafka's ack and the outbox's ack (or a lease that expired under a stuck
 * producer), and it carries the same event id.
 */
export class Outbox<T> {
  constructor(private readonly redis: Redis, private readonly leaseMs = OUTBOX_LEASE_MS) {}

  /** False when the guard is no longer what the run read (another run committed first). */
  async commit(outboxKey: string, guard: GuardMove, items: readonly T[]): Promise<boolean> {
    const expected = guard.expected === undefined ? '*' : (guard.expected ?? '');
    const ok = await this.redis.eval(COMMIT, 2, guard.key, outboxKey, expected, guard.next ?? '', String(guard.ttlMs), ...items.map((i) => JSON.stringify(i)));
    return ok === 1;
  }

  async pending(outboxKey: string): Promise<{ raw: string[]; items: T[] }> {
    const raw = await this.redis.lrange(outboxKey, 0, -1);
    return { raw, items: raw.map((r) => JSON.parse(r) as T) };
  }

  async ack(outboxKey: string, raw: readonly string[]): Promise<void> {
    if (raw.length) await this.redis.eval(ACK, 1, outboxKey, ...raw);
  }

  /**
   * Sends what the outbox holds (possibly nothing: `send` is called all the same, so a caller can
   * produce its own records with them, in one request) and removes it once `send` resolved.
   * Returns how many outbox items were produced. Runs under the outbox's produce lease.
   */
  async produce(outboxKey: string, send: (items: T[]) => Promise<void>): Promise<number> {
    const lease = `${outboxKey}:lease`;
    const token = await this.acquire(lease, outboxKey);
    try {
      const pending = await this.pending(outboxKey);
      await send(pending.items);
      await this.ack(outboxKey, pending.raw);
      return pending.items.length;
    } finally {
      await this.redis.eval(RELEASE, 1, lease, token);
    }
  }

  /** Waits for the lease: its holder releases it when done, or it expires if the holder died. */
  private async acquire(lease: string, outboxKey: string): Promise<string> {
    const token = crypto.randomBytes(12).toString('base64url');
    const started = Date.now();
    try {
      // A dead holder's lease expires within leaseMs; waiting longer means something else is wrong.
      await retry(async () => {
        if ((await this.redis.set(lease, token, 'PX', this.leaseMs, 'NX')) !== 'OK') throw new OutboxBusyError(outboxKey, Date.now() - started);
      }, { attempts: Infinity, timeoutMs: 2 * this.leaseMs, initialDelayMs: 10, maxDelayMs: 100, jitter: 0.5, what: `the produce lease of ${outboxKey}` });
    } catch (err) {
      throw err instanceof RetriesExhaustedError ? new OutboxBusyError(outboxKey, Date.now() - started, err) : err;
    }
    return token;
  }
}
