import type { Redis } from 'ioredis';
import type { StreamLifecycle } from '../../shared/events/events';
import { Outbox } from '../output/outbox';
import type { ChannelLiveState } from './lifecycle.derive';

/** State of channels nobody polls any more fades away; a live poll refreshes it every interval. */
const STATE_TTL_MS = 30 * 86_400_000;

/**
 * Last-known live state per channel, and its outbox of lifecycle events (output/outbox.ts):
 * 1. a run computes the transition and commits new state + its events with a compare-and-set against
 *    the state it read — two runs cannot both commit the same transition;
 * 2. it produces the outbox to Kafka and, once acknowledged, acks (removes) those items;
 * 3. any later run of the channel first produces what is left in the outbox.
 * So each lifecycle event is produced at least once, in order, and the state machine never loses a
 * transition (a crash between 1 and 2 leaves the event in the outbox, not forgotten). The only
 * duplicate on the topic is a crash between Kafka's ack and the outbox ack: the re-send carries the
 * same deterministic event id, which consumers de-duplicate.
 */
export class ChannelStateStore {
  private readonly outbox: Outbox<StreamLifecycle>;

  constructor(private readonly redis: Redis, private readonly prefix: string) {
    this.outbox = new Outbox(redis);
  }

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

  /** The parsed state of many channels in one round trip (a batch run plans which to ask about). */
  async readMany(platform: string, channelIds: readonly string[]): Promise<Map<string, ChannelLiveState | null>> {
    const out = new Map<string, ChannelLiveState | null>();
    if (channelIds.length === 0) return out;
    const raws = await this.redis.mget(...channelIds.map((id) => this.stateKey(platform, id)));
    channelIds.forEach((id, i) => out.set(id, raws[i] ? (JSON.parse(raws[i]!) as ChannelLiveState) : null));
    return out;
  }

  /** False when another run changed the state since `expectedRaw` was read. */
  commit(platform: string, channelId: string, expectedRaw: string | null, next: ChannelLiveState, events: StreamLifecycle[]): Promise<boolean> {
    return this.outbox.commit(this.outboxKey(platform, channelId), { key: this.stateKey(platform, channelId), expected: expectedRaw, next: JSON.stringify(next), ttlMs: STATE_TTL_MS }, events);
  }

  /**
   * Produces the channel's outbox: `send` gets the pending events (this run's and any a crashed run
   * left; possibly none) and must resolve only once Kafka acknowledged them; they are then removed.
   */
  produce(platform: string, channelId: string, send: (events: StreamLifecycle[]) => Promise<void>): Promise<number> {
    return this.outbox.produce(this.outboxKey(platform, channelId), send);
  }

  async pending(platform: string, channelId: string): Promise<{ raw: string[]; events: StreamLifecycle[] }> {
    const { raw, items } = await this.outbox.pending(this.outboxKey(platform, channelId));
    return { raw, events: items };
  }

  ack(platform: string, channelId: string, raw: string[]): Promise<void> {
    return this.outbox.ack(this.outboxKey(platform, channelId), raw);
  }
}
