import { DEFAULT_ALERT_RULES } from '../alerts/alert.rules';
import type { ProcessorEvent } from '../state/processor-event';
import { ShardState } from '../state/shard.state';
import { CommitShard, planCommit } from './commit.plan';
import { Outputs } from './outputs';

const T0 = Date.UTC(2025, 0, 1);
const s = (sec: number) => T0 + sec * 1000;
const ch = { platform: 'twitch', channelId: 'c1', userId: 'u1' };
const snap = (id: string, sec: number): ProcessorEvent => ({ ...ch, kind: 'snapshot', eventId: id, t: s(sec), live: true, viewers: 10, streamId: 'S', startedAt: s(0), title: null, category: null });
const life = (type: 'started' | 'ended', sec: number): ProcessorEvent => ({ ...ch, kind: 'lifecycle', eventId: `l:${type}`, t: s(sec), type, streamId: 'S', title: null, category: null });
const TOPICS = ['snap', 'chat', 'life'];

function shardWith(events: Array<[string, number, ProcessorEvent]>, next: Record<string, number>): CommitShard {
  const state = new ShardState(0, { latenessMs: 60_000, rules: DEFAULT_ALERT_RULES });
  const out = new Outputs();
  for (const [topic, offset, e] of events) state.process(e, { topic, partition: 0, offset }, out);
  return { partition: 0, next: new Map(Object.entries(next)), lastCommit: new Map(), state };
}

describe('planCommit: which offsets may be committed (hand-computed)', () => {
  it('stops at the lowest offset an open window still needs; a topic with nothing open commits its next offset', () => {
    // Watermark = 130 s − 60 s = 70 s: window [0, 60) is closed; [60, 120) (offset 1) and [120, 180) (offset 2) are open.
    const shard = shardWith([['snap', 0, snap('a', 10)], ['snap', 1, snap('b', 70)], ['snap', 2, snap('c', 130)]], { snap: 3, chat: 5 });
    expect(planCommit([shard], TOPICS)).toEqual([
      { topic: 'snap', partition: 0, offset: '1', metadata: JSON.stringify({ v: 1, m: s(130), p: 3 }) },
      { topic: 'chat', partition: 0, offset: '5', metadata: JSON.stringify({ v: 1, m: s(130), p: 5 }) },
    ]);
  });

  it('plans nothing for a shard whose position did not change since the last plan', () => {
    const shard = shardWith([['snap', 0, snap('a', 10)]], { snap: 1 });
    expect(planCommit([shard], TOPICS)).toHaveLength(1);
    expect(planCommit([shard], TOPICS)).toEqual([]);
    shard.next = new Map([['snap', 2]]); // one more message processed (a duplicate, say): the replay position moved
    expect(planCommit([shard], TOPICS)).toEqual([{ topic: 'snap', partition: 0, offset: '0', metadata: JSON.stringify({ v: 1, m: s(10), p: 2 }) }]);
  });

  it('holds the offset of a session end until the session is summarised, even when its windows are closed', () => {
    // The stream ends at 100 s (lifecycle offset 1); its last window [60, 120) closes when the watermark passes 120 s.
    const events: Array<[string, number, ProcessorEvent]> = [['life', 0, life('started', 0)], ['snap', 0, snap('a', 10)], ['life', 1, life('ended', 100)], ['snap', 1, snap('b', 175)]];
    const shard = shardWith(events, { snap: 2, life: 2 });
    // Watermark 115 s: [0, 60) closed, [60, 120) holds the end (life offset 1), [120, 180) holds snap offset 1.
    expect(planCommit([shard], TOPICS).map((o) => [o.topic, o.offset])).toEqual([['snap', '1'], ['life', '1']]);
  });

  it('without any event time yet, commits positions without a checkpoint', () => {
    const shard = shardWith([], { chat: 4 });
    expect(planCommit([shard], TOPICS)).toEqual([{ topic: 'chat', partition: 0, offset: '4', metadata: null }]);
  });
});
