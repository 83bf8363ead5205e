import type { Redis } from 'ioredis';
import type { ChatActivity } from '../../shared/events/events';
import { Outbox } from './outbox';

/** A pending chat record outlives any retry or restart; a channel's next chat run produces it. */
const OUTBOX_TTL_MS = 86_400_000;

/**
 * One chat record per observation (issue 16, part 3). A chat read is not repeatable — Twitch's
 * EventSub counts are drained from memory, a YouTube page token re-read later returns more — so a
 * retry must not read again and give the same interval a second, different record. The outbox the
 * lifecycle uses (output/outbox.ts), guarded by the chat cursor:
 * 1. a run reads from the stored cursor, then commits *new cursor + its record* in one step, with a
 *    compare-and-set against the cursor it read: two runs that read from one cursor cannot both
 *    commit (the loser's read overlaps the winner's and is dropped; a page token re-reads losslessly);
 * 2. it produces the outbox to Kafka (under the outbox's produce lease) and removes what Kafka acknowledged;
 * 3. a later run (a retry, the next poll, another process) first produces what is left.
 * So each interval is read once and its record, once committed, is produced with the same content
 * every time; consecutive records of a channel cover consecutive intervals, and the event id
 * (platform, channel, interval start and end) names exactly one of them.
 */
export class ChatOutbox {
  private readonly outbox: Outbox<ChatActivity>;

  constructor(private readonly redis: Redis) {
    this.outbox = new Outbox(redis);
  }

  private outboxKey(cursorKey: string) {
    return `${cursorKey}:outbox`;
  }

  cursor(cursorKey: string): Promise<string | null> {
    return this.redis.get(cursorKey);
  }

  /**
   * Advances the cursor from `expected` (null = none; undefined = whatever it is, for sources whose
   * cursor is informational) to `next`, and queues `record`. False when another run moved the cursor.
   */
  commit(cursorKey: string, expected: string | null | undefined, next: string | null, record: ChatActivity | null): Promise<boolean> {
    return this.outbox.commit(this.outboxKey(cursorKey), { key: cursorKey, expected, next, ttlMs: OUTBOX_TTL_MS }, record ? [record] : []);
  }

  /** Sends the pending records (this run's and any an earlier run left) and removes them once acknowledged. */
  produce(cursorKey: string, send: (records: ChatActivity[]) => Promise<void>): Promise<number> {
    return this.outbox.produce(this.outboxKey(cursorKey), send);
  }
}
