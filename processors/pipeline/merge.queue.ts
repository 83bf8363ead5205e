/**
 * Timestamp-synchronised merge of one shard's topic-partitions (the rule Kafka Streams uses for
 * co-partitioned inputs): the next event processed is the one with the lowest event time among the
 * heads of the lanes, and while a lane that still has unread messages in Kafka is empty we wait for it.
 * So a replay after a crash or a rebalance — when every lane is behind — feeds the window state in
 * event-time order, whatever order the fetches arrive in, and closes the same windows as the first run.
 *
 * An empty lane that looked caught up may be stale: kafkajs hands over one topic-partition's batch at a
 * time, and after a pause (a ClickHouse outage, a slow flush) the other lanes' backlog is just not
 * delivered yet. So before the merge runs more than `skewMs` of event time ahead of such a lane, it
 * asks (`verify`) whether the lane really is at the end of its partition; only a verified-idle lane
 * (sparse lifecycle events, a shard without chat) lets the others run on.
 */
export interface MergeItem<P> {
  /** Event time; −∞ for messages that failed to decode, which are handled as soon as they are at the head. */
  t: number;
  offset: number;
  payload: P;
}

interface Lane<P> {
  topic: string;
  items: MergeItem<P>[];
  head: number;
  caughtUp: boolean;
  /** Highest event time queued so far. */
  lastT: number;
  /** The others may run up to this event time without asking again (set by a verification). */
  clearedUpTo: number;
}

export type PopResult<P> =
  | { kind: 'item'; topic: string; item: MergeItem<P> }
  | { kind: 'wait' }
  | { kind: 'verify'; topics: string[]; upTo: number };

const WAIT: PopResult<never> = { kind: 'wait' };

export class MergeQueue<P> {
  private readonly lanes: Lane<P>[];
  /** The one `item` result, refilled by every pop (once per event): valid until the next pop. */
  private readonly popped: { kind: 'item'; topic: string; item: MergeItem<P> } = { kind: 'item', topic: '', item: undefined as unknown as MergeItem<P> };
  private readonly byTopic = new Map<string, Lane<P>>();

  constructor(topics: readonly string[], caughtUp: (topic: string) => boolean, private readonly skewMs: number) {
    this.lanes = topics.map((topic) => ({
      topic, items: [], head: 0, caughtUp: caughtUp(topic), lastT: Number.NEGATIVE_INFINITY, clearedUpTo: Number.NEGATIVE_INFINITY,
    }));
    for (const l of this.lanes) this.byTopic.set(l.topic, l);
  }

  private lane(topic: string): Lane<P> {
    const lane = this.byTopic.get(topic);
    if (!lane) throw new Error(`merge queue: unknown topic ${topic}`);
    return lane;
  }

  /** Appends a fetched batch; `caughtUp` says whether its last message was the partition's last one. */
  push(topic: string, items: MergeItem<P>[], caughtUp: boolean): void {
    const lane = this.lane(topic);
    for (const it of items) {
      lane.items.push(it);
      if (it.t > lane.lastT) lane.lastT = it.t;
    }
    lane.caughtUp = caughtUp;
  }

  /** The answer to a `verify`: the lane is at its partition's end (others may run to `upTo`), or behind. */
  verified(topic: string, atEnd: boolean, upTo: number): void {
    const lane = this.lane(topic);
    if (atEnd) lane.clearedUpTo = Math.max(lane.clearedUpTo, upTo);
    else if (lane.head >= lane.items.length) lane.caughtUp = false;
  }

  /** The next item in merged order (the result object is reused by the next pop), a request to wait for a lagging lane, or to verify idle-looking ones. */
  pop(): PopResult<P> {
    let best: Lane<P> | undefined;
    for (const lane of this.lanes) {
      if (lane.head >= lane.items.length) {
        if (!lane.caughtUp) return WAIT;
        continue;
      }
      if (!best || lane.items[lane.head]!.t < best.items[best.head]!.t) best = lane;
    }
    if (!best) return WAIT;
    const item = best.items[best.head]!;
    // Hot path (once per event): no allocation unless a lane needs verifying.
    let unverified: string[] | undefined;
    for (const l of this.lanes) {
      if (l !== best && l.head >= l.items.length && item.t > l.lastT + this.skewMs && item.t > l.clearedUpTo) (unverified ??= []).push(l.topic);
    }
    if (unverified) return { kind: 'verify', topics: unverified, upTo: item.t + this.skewMs };
    best.items[best.head] = undefined as unknown as MergeItem<P>;
    best.head++;
    if (best.head === best.items.length) {
      best.items = [];
      best.head = 0;
    }
    this.popped.topic = best.topic;
    this.popped.item = item;
    return this.popped;
  }

  /** The event time the merge would look at next (lowest head), ignoring blocking; undefined when empty. */
  nextT(): number | undefined {
    let t: number | undefined;
    for (const l of this.lanes) if (l.head < l.items.length && (t === undefined || l.items[l.head]!.t < t)) t = l.items[l.head]!.t;
    return t;
  }

  queued(): number {
    let n = 0;
    for (const l of this.lanes) n += l.items.length - l.head;
    return n;
  }
}
