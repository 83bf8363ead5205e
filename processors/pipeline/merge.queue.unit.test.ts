import { MergeQueue, PopResult } from './merge.queue';

const items = (...ts: number[]) => ts.map((t, offset) => ({ t, offset, payload: t }));
const label = (r: PopResult<number>) => (r.kind === 'item' ? `${r.topic}${r.item.payload}` : r.kind);

describe('MergeQueue: event-time order across a shard’s topics', () => {
  it('pops the lowest event time among lane heads, keeping each lane in offset order', () => {
    const q = new MergeQueue<number>(['a', 'b'], () => false, 100);
    q.push('a', items(1, 5, 3), true);
    q.push('b', items(2, 4), true);
    const order = [];
    for (let r = q.pop(); r.kind === 'item'; r = q.pop()) order.push(label(r));
    expect(order).toEqual(['a1', 'b2', 'b4', 'a5', 'a3']);
  });

  it('waits for an empty lane that is behind its partition end', () => {
    const q = new MergeQueue<number>(['a', 'b'], () => false, 100);
    q.push('a', items(10), true);
    expect(q.pop()).toEqual({ kind: 'wait' });
    q.push('b', items(20), false);
    expect(label(q.pop())).toBe('a10');
    expect(label(q.pop())).toBe('b20'); // a caught up and within the skew
    expect(q.pop()).toEqual({ kind: 'wait' }); // b is empty and behind
  });

  it('asks before running more than the skew ahead of a lane that looks idle, and waits if it is not', () => {
    const q = new MergeQueue<number>(['a', 'b'], () => true, 100);
    q.push('b', items(10), true);
    q.push('a', items(50, 500), true);
    expect(label(q.pop())).toBe('b10');
    expect(label(q.pop())).toBe('a50'); // within 100 of b's last event
    expect(q.pop()).toEqual({ kind: 'verify', topics: ['b'], upTo: 600 });
    q.verified('b', false, 600); // b has unread messages: the flag was stale
    expect(q.pop()).toEqual({ kind: 'wait' });
    q.push('b', items(400), true);
    expect(label(q.pop())).toBe('b400');
    expect(label(q.pop())).toBe('a500');
  });

  it('lets the others run on past a lane verified idle', () => {
    const q = new MergeQueue<number>(['a', 'b'], () => true, 100);
    q.push('a', items(1000, 1050, 1200), true);
    expect(q.pop()).toEqual({ kind: 'verify', topics: ['b'], upTo: 1100 });
    q.verified('b', true, 1100);
    expect(label(q.pop())).toBe('a1000');
    expect(label(q.pop())).toBe('a1050');
    expect(q.pop()).toEqual({ kind: 'verify', topics: ['b'], upTo: 1300 });
  });
});
