import type { Redis } from 'ioredis';
import type { ChatActivity } from '../../shared/events/events';

/** A pending chat record outlives any retry or restart; a channel's next chat run produces it. */
const OUTBOX_TTL_MS = 86_400_000;

// Cursor advance + outbox append in one step. ARGV[1] = expected cursor ('' = absent, '*' = any),
// ARGV[2] = new cursor ('' = none), ARGV[3] = TTL ms, ARGV[4] = record ('' = nothing to produce).
const COMMIT = `
local cur = redis.call('GET', KEYS[1])
if ARGV[1] ~= '*' and ((cur == false and ARGV[1] ~= '') or (cur ~= false and cur ~= ARGV[1])) then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
if ARGV[4] ~= '' then
  redis.call('RPUSH', KEYS[2], ARGV[4])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
return 1`;

// Removes the first #ARGV records only if they are still the ones produced (another run may have done it).
const ACK = `
local n = #ARGV
local head = redis.call('LRANGE', KEYS[1], 0, n - 1)
if #head ~= n then return 0 end
for i = 1, n do if head[i] ~= ARGV[i] then return 0 end end
redis.call('LTRIM', KEYS[1], n, -1)
return 1`;

/**
 * One chat record per observation (issue 16, part 3). A chat read is not repeatable — Twitch's
 * EventSub counts are drained from memory, a YouTube page token re-read later returns more — so a
 * retry must not read again and give the same interval a second, different record. The transactional
 * outbox the lifecycle uses (ChannelStateStore), for chat:
 * 1. a run reads from the stored cursor, then commits *new cursor + its record* in one step, with a
 *    compare-and-set against the cursor it read: two runs that read from one cursor cannot both
 *    commit (the loser's read overlaps the winner's and is dropped; a page token re-reads losslessly);
 * 2. it produces the outbox to Kafka and removes what Kafka acknowledged;
 * 3. a later run (a retry, the next poll, another process) first produces what is left.
 * So each interval is read once and its record, once committed, is produced with the same content
 * every time; consecutive records of a channel cover consecutive intervals, and the event id
 * (platform, channel, interval start and end) names exactly one of them.
 */
export class ChatOutbox {
  constructor(private readonly redis: Redis) {}

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
  async commit(cursorKey: string, expected: string | null | undefined, next: string | null, record: ChatActivity | null): Promise<boolean> {
    const ok = await this.redis.eval(COMMIT, 2, cursorKey, this.outboxKey(cursorKey), expected === undefined ? '*' : (expected ?? ''), next ?? '', String(OUTBOX_TTL_MS), record ? JSON.stringify(record) : '');
    return ok === 1;
  }

  async pending(cursorKey: string): Promise<{ raw: string[]; records: ChatActivity[] }> {
    const raw = await this.redis.lrange(this.outboxKey(cursorKey), 0, -1);
    return { raw, records: raw.map((r) => JSON.parse(r) as ChatActivity) };
  }

  async ack(cursorKey: string, raw: string[]): Promise<void> {
    if (raw.length) await this.redis.eval(ACK, 1, this.outboxKey(cursorKey), ...raw);
  }
}
