import type { Redis } from 'ioredis';
import type { StreamLifecycle } from '../../shared/events/events';
import type { ChannelLiveState } from './lifecycle.derive';

/** State of channels nobody polls any more fades away; a live poll refreshes it every interval. */
const STATE_TTL_MS = 30 * 86_400_000;

// Compare-and-set of the channel state plus an append to its outbox, in one atomic step.
// ARGV[1] = expected current value ('' = absent), ARGV[2] = new value, ARGV[3] = TTL ms, ARGV[4..] = outbox items.
const COMMIT = `
local cur = redis.call('GET', KEYS[1])
if (cur == false and ARGV[1] ~= '') or (cur ~= false and cur ~= ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
for i = 4, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
if #ARGV >= 4 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return 1`;

// Removes the first #ARGV outbox items only if they are still the ones we produced (another run may have done it).
const ACK = `
local n = #ARGV
local head = redis.call('LRANGE', KEYS[1], 0, n - 1)
if #head ~= n then return 0 end
for i = 1, n do if head[i] ~= ARGV[i] then return 0 end end
redis.call('LTRIM', KEYS[1], n, -1)
return 1`;

/**
 * Last-known live state per channel, and an outbox of lifecycle events (the transactional-outbox
 * pattern, with Redis as the one store we can update atomically):
 * 1. a run computes the transition and commits new state + its events to the outbox with a
 *    compare-and-set against the state it read — two runs cannot both commit the same transition;
 * 2. it produces the outbox to Kafka and, once acknowledged, acks (removes) those items;
 * 3. any later run of the channel first produces what is left in the outbox.
 * So each lifecycle event is produced at least once, in order, and the state machine never loses a
 * transition (a crash between 1 and 2 leaves the event in the outbox, not forgotten). The only
 * duplicate on the topic is a crash between Kafka's ack and the outbox ack: the re-send carries the
 * same deterministic event id, which consumers de-duplicate.
 */
export class ChannelStateStore {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private stateKey(platform: string, channelId: string) {
    return `${this.prefix}:ingest:state:${platform}:${channelId}`;
  }
  private outboxKey(platform: string, channelId: string) {
    return `${this.prefix}:ingest:outbox:${platform}:${channelId}`;
  }

  /** The raw stored value (for the compare-and-set) and its parsed form. */
  async read(platform: string, channelId: string): Promise<{ raw: string | null; state: ChannelLiveState | null }> {
    const raw = await this.redis.get(this.stateKey(platform, channelId));
    return { raw, state: raw ? (JSON.parse(raw) as ChannelLiveState) : null };
  }

  /** False when another run changed the state since `expectedRaw` was read. */
  async commit(platform: string, channelId: string, expectedRaw: string | null, next: ChannelLiveState, events: StreamLifecycle[]): Promise<boolean> {
    const ok = await this.redis.eval(
      COMMIT, 2, this.stateKey(platform, channelId), this.outboxKey(platform, channelId),
      expectedRaw ?? '', JSON.stringify(next), String(STATE_TTL_MS), ...events.map((e) => JSON.stringify(e)),
    );
    return ok === 1;
  }

  async pending(platform: string, channelId: string): Promise<{ raw: string[]; events: StreamLifecycle[] }> {
    const raw = await this.redis.lrange(this.outboxKey(platform, channelId), 0, -1);
    return { raw, events: raw.map((r) => JSON.parse(r) as StreamLifecycle) };
  }

  async ack(platform: string, channelId: string, raw: string[]): Promise<void> {
    if (raw.length === 0) return;
    await this.redis.eval(ACK, 1, this.outboxKey(platform, channelId), ...raw);
  }
}
