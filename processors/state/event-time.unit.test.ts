import { DEFAULT_ALERT_RULES } from '../alerts/alert.rules';
import { Outputs } from '../sink/outputs';
import { boundEventTime } from './event-time';
import type { ProcessorEvent } from './processor-event';
import { ShardState } from './shard.state';

const T0 = Date.UTC(2025, 0, 1, 0, 0, 0);
const s = (sec: number) => T0 + sec * 1000;
const SKEW = 5000;
const settings = { latenessMs: 60_000, rules: DEFAULT_ALERT_RULES };

const snapB = (id: string, sec: number, viewers: number): ProcessorEvent => ({
  kind: 'snapshot', eventId: id, platform: 'twitch', channelId: 'B', userId: 'ub', t: s(sec), live: true, viewers, streamId: 'SB', startedAt: s(0), title: null, category: null,
});
const toolA = (id: string, t: number): ProcessorEvent => ({
  kind: 'lifecycle', eventId: id, platform: 'twitch', channelId: 'A', userId: 'ua', t, type: 'updated', streamId: 'SA', title: null, category: null,
});

/** Feeds [event, arrival] pairs through the bound into one shard, as the loop does. */
function run(events: Array<[ProcessorEvent, number]>) {
  const state = new ShardState(0, settings);
  const out = new Outputs();
  let clamped = 0;
  events.forEach(([e, arrival], offset) => {
    const b = boundEventTime(e, arrival, SKEW);
    if (b.clamped) clamped++;
    state.process(b.event, { topic: e.kind, partition: 0, offset }, out);
  });
  return { state, out, clamped };
}

describe('boundEventTime: event time never lies further than the skew after arrival (hand-computed)', () => {
  it('keeps an event inside the bound unchanged, and moves a later one back to arrival + skew', () => {
    const e = snapB('b', 10, 5);
    expect(boundEventTime(e, s(10), SKEW)).toEqual({ event: e, clamped: false });
    expect(boundEventTime(e, s(6), SKEW)).toEqual({ event: e, clamped: false }); // 4 s ahead of arrival: clock skew, allowed
    expect(boundEventTime(e, s(2), SKEW)).toEqual({ event: { ...e, t: s(7) }, clamped: true });
  });

  it('never moves an event forward: a past-dated one keeps its time (it can only be late for its own channel)', () => {
    const old = toolA('a', 1);
    expect(boundEventTime(old, s(100), SKEW)).toEqual({ event: old, clamped: false });
  });

  it('bounds a snapshot\'s stream start by its (bounded) observation time', () => {
    const e: ProcessorEvent = { ...snapB('b', 10, 5), startedAt: s(600) } as ProcessorEvent;
    expect(boundEventTime(e, s(10), SKEW)).toEqual({ event: { ...e, startedAt: s(10) }, clamped: true });
  });

  it('leaves a record without a timestamp (-1) unbounded rather than guessing', () => {
    const e = snapB('b', 10, 5);
    expect(boundEventTime(e, -1, SKEW)).toEqual({ event: e, clamped: false });
  });
});

describe('one channel cannot move another channel\'s windows', () => {
  // B: one live snapshot every 10 s for 4 minutes, each arriving 1 s after it was observed.
  const bOnly: Array<[ProcessorEvent, number]> = [];
  for (let sec = 0; sec < 240; sec += 10) bOnly.push([snapB(`b${sec}`, sec, 100 + sec), s(sec + 1)]);

  // A creator tool in the same partition reports instants from +5 min, +1 day, 2099 and 1970.
  const hostile = (at: number): Array<[ProcessorEvent, number]> => [
    [toolA(`a1:${at}`, s(at) + 5 * 60_000), s(at)],
    [toolA(`a2:${at}`, s(at) + 86_400_000), s(at)],
    [toolA(`a3:${at}`, Date.UTC(2099, 0, 1)), s(at)],
    [toolA(`a4:${at}`, 1), s(at)],
  ];
  const withA: Array<[ProcessorEvent, number]> = [];
  for (const [e, arrival] of bOnly) {
    withA.push([e, arrival]);
    if (e.eventId === 'b30' || e.eventId === 'b120') withA.push(...hostile((arrival - T0) / 1000));
  }

  it('without the bound (today\'s behaviour) the hostile events make B\'s later snapshots late', () => {
    const state = new ShardState(0, settings);
    const out = new Outputs();
    withA.forEach(([e], offset) => state.process(e, { topic: e.kind, partition: 0, offset }, out));
    expect(out.late.filter((l) => l.event.channelId === 'B').length).toBeGreaterThan(0);
  });

  it('with the bound, none of B\'s events is late and B\'s windows are those of a run without A', () => {
    const alone = run(bOnly);
    const shared = run(withA);
    expect(shared.clamped).toBe(6); // +5 min, +1 day and 2099, at each of two instants; 1970 is not moved
    expect(shared.out.late.filter((l) => l.event.channelId === 'B')).toEqual([]);
    const bWindows = (o: Outputs) => o.windows.filter((w) => w.channelId === 'B');
    expect(bWindows(shared.out)).toEqual(bWindows(alone.out));
    // A's events count at most arrival + 5 s (121 s + 5 s), below B's own 230 s: the watermark is B's,
    // 230 s − 60 s = 170 s, so minutes 0 and 1 are closed and minute 2 is still open — as without A.
    expect(bWindows(shared.out).map((w) => (w.windowStart - T0) / 1000)).toEqual([0, 60]);
    expect(shared.state.watermark()).toBe(s(170));
  });
});

describe('ShardState.takeEarlyFirings: provisional figures of open windows (hand-computed)', () => {
  it('fires each changed open window of a channel once per change (a late poll of the previous minute too), and closes nothing', () => {
    const state = new ShardState(0, settings);
    const out = new Outputs();
    const feed = (e: ProcessorEvent, offset: number) => state.process(e, { topic: e.kind, partition: 0, offset }, out);
    feed(snapB('b0', 0, 100), 0);
    feed(snapB('b10', 10, 200), 1);
    const all = () => true;
    const first = state.takeEarlyFirings(all);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ channelId: 'B', windowStart: s(0), samples: 2, avgViewers: 150, peakViewers: 200, live: true });
    expect(state.takeEarlyFirings(all)).toEqual([]); // no change since
    feed(snapB('b70', 70, 50), 2); // a new minute opens…
    feed(snapB('b50', 50, 300), 3); // …and the previous minute's last poll lands after it (within lateness)
    expect(state.takeEarlyFirings(() => false)).toEqual([]); // not due: kept for later
    expect(state.takeEarlyFirings(all).map((w) => [w.windowStart, w.avgViewers])).toEqual([[s(0), 200], [s(60), 50]]);
    feed(snapB('b80', 80, 70), 4);
    expect(state.takeEarlyFirings(all).map((w) => [w.windowStart, w.avgViewers])).toEqual([[s(60), 60]]); // only the window that changed
    expect(out.windows).toEqual([]); // watermark 10 s: nothing closed, nothing written
  });
});
