import { DEFAULT_ALERT_RULES } from '../alerts/alert.rules';
import { Outputs } from '../sink/outputs';
import type { Position, ProcessorEvent } from './processor-event';
import { ShardState } from './shard.state';

const T0 = Date.UTC(2025, 0, 1, 0, 0, 0);
const s = (sec: number) => T0 + sec * 1000;
const base = { platform: 'twitch', channelId: 'c1', userId: 'u1' };

const snap = (id: string, sec: number, viewers: number | null, live = true, streamId: string | null = 'S1'): ProcessorEvent => ({
  ...base, kind: 'snapshot', eventId: id, t: s(sec), live, viewers, streamId: live ? streamId : null, startedAt: live ? s(0) : null, title: 'T', category: 'C',
});
const followers = (id: string, sec: number, n: number, paid: { subscribers: number; points: number } | null = null): ProcessorEvent => ({
  ...base, kind: 'followers', eventId: id, t: s(sec), followers: n, paidSubscribers: paid?.subscribers ?? null, subscriptionPoints: paid?.points ?? null,
});
const chat = (id: string, endSec: number, messages: number, chatterIds: string[]): ProcessorEvent => ({
  ...base, kind: 'chat', eventId: id, t: s(endSec) - 1, messages, chatterIds,
});
const lifecycle = (type: 'started' | 'ended', sec: number, streamId = 'S1'): ProcessorEvent => ({
  ...base, kind: 'lifecycle', type, eventId: `twitch:c1:${streamId}:${type}`, t: s(sec), streamId, title: 'T', category: 'C',
});

const settings = { latenessMs: 60_000, rules: DEFAULT_ALERT_RULES };

/** Feeds events in order, each with the next offset of its topic. */
function feed(state: ShardState, events: Array<[string, ProcessorEvent]>, out: Outputs, offsets = new Map<string, number>()) {
  const results = [];
  for (const [topic, e] of events) {
    const offset = offsets.get(topic) ?? 0;
    offsets.set(topic, offset + 1);
    const pos: Position = { topic, partition: 0, offset };
    results.push(state.process(e, pos, out).kind);
  }
  return results;
}

/**
 * A crash after the first `crashAfter` events and the restart the processor makes: the first run's
 * outputs (what its flush wrote), then a new ShardState from the checkpoint and the windows ClickHouse
 * holds closed at its watermark, fed every event from the committed offsets on.
 */
function crashAndReplay(events: Array<[string, ProcessorEvent]>, crashAfter: number) {
  const first = new Outputs();
  const a = new ShardState(0, settings);
  const offsets = new Map<string, number>();
  feed(a, events.slice(0, crashAfter), first, offsets);
  // The flush wrote `first`, then committed these offsets and this checkpoint.
  const committed = new Map([...offsets].map(([topic, next]) => [topic, a.committableOffset(topic, next)]));
  const checkpoint = { maxEventTime: a.highestEventTime(), replayUntil: new Map([...offsets].map(([t, n]) => [t, a.replayUntilFor(t, n)])) };
  // What the restore read from ClickHouse returns: the windows closed at the checkpoint's watermark.
  const wm = checkpoint.maxEventTime - settings.latenessMs;
  const history = first.windows.filter((w) => w.windowStart + 60_000 <= wm).map((w) => ({ ...w, spike: false, drop: false }));
  const b = new ShardState(0, settings, Number.isFinite(checkpoint.maxEventTime) ? checkpoint : null, [{ ...base, history, session: null }]);
  const replayed = new Outputs();
  const counters = new Map<string, number>();
  for (const [topic, e] of events) {
    const offset = counters.get(topic) ?? 0;
    counters.set(topic, offset + 1);
    if (offset < (committed.get(topic) ?? 0)) continue;
    b.process(e, { topic, partition: 0, offset }, replayed);
  }
  return { first, replayed };
}

/**
 * The windows of both runs keyed like metrics_1m, with no double counts: a key written twice must carry
 * identical values (that is what ReplacingMergeTree keeps).
 */
function windowsByKey(first: Outputs, replayed: Outputs) {
  const byKey = new Map<number, unknown>();
  for (const w of [...first.windows, ...replayed.windows]) {
    const prev = byKey.get(w.windowStart);
    if (prev) expect(w).toEqual(prev);
    byKey.set(w.windowStart, w);
  }
  return [...byKey.values()];
}

describe('ShardState: event-time windows with a watermark (hand-computed)', () => {
  const events: Array<[string, ProcessorEvent]> = [
    ['snap', snap('a', 10, 100)],
    ['snap', snap('b', 40, 200)],
    ['snap', snap('b', 40, 200)], // duplicate (a producer retry)
    ['snap', snap('c', 70, 300)], // window 1; watermark → 10 s
    ['snap', snap('d', 50, 150)], // out of order, window 0 still open
    ['fol', followers('f1', 20, 990)],
    ['fol', followers('f2', 80, 1005)],
    ['chat', chat('m1', 30, 10, ['a', 'b', 'c'])],
    ['chat', chat('m2', 60, 5, ['c', 'd'])], // last instant 59.999 s → window 0
    ['snap', snap('e', 130, 400)], // watermark → 70 s: window 0 closes
    ['snap', snap('late', 30, 999)], // window 0 is closed: late
    ['snap', snap('f', 250, 500)], // watermark → 190 s: windows 1 and 2 close
  ];

  it('aggregates in-order, out-of-order and duplicate events exactly; late ones go to the side output', () => {
    const out = new Outputs();
    const state = new ShardState(0, settings);
    const results = feed(state, events, out);
    expect(results).toEqual(['ok', 'ok', 'drop', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'redirect', 'ok']);
    expect(out.windows.map((w) => w.windowStart)).toEqual([s(0), s(60), s(120)]);
    const [w0, w1, w2] = out.windows;
    expect(w0).toEqual({
      ...base, windowStart: s(0), samples: 3, avgViewers: 150, peakViewers: 200, minViewers: 100, viewerMinutes: 150,
      followers: 990, followerDelta: 0, chatMessages: 15, uniqueChatters: 4, engagementRate: 4 / 150, messagesPerViewerMinute: 0.1,
      live: true, streamId: 'S1', paidSubscribers: null, paidSubscriberDelta: 0, subscriptionPoints: null, chatSamplingRate: 1,
    });
    expect(w1).toMatchObject({ samples: 1, avgViewers: 300, peakViewers: 300, minViewers: 300, followers: 1005, followerDelta: 15, chatMessages: 0, uniqueChatters: 0, engagementRate: 0 });
    expect(w2).toMatchObject({ samples: 1, avgViewers: 400, followers: 1005, followerDelta: 0 });
    expect(out.late).toHaveLength(1);
    expect(out.late[0]).toMatchObject({ event: { eventId: 'late' }, watermark: s(70) });
    expect(out.alerts.map((a) => a.alertId)).toEqual(['stream_started:twitch:c1:S1', 'follower_milestone:twitch:c1:1000']);
    expect(out.sessions).toEqual([expect.objectContaining({ streamId: 'S1', status: 'live', startedAt: s(0) })]);
    expect(state.watermark()).toBe(s(190));
  });

  it('never commits past an offset an open window still needs', () => {
    const out = new Outputs();
    const state = new ShardState(0, settings);
    feed(state, events.slice(0, 5), out); // windows 0 and 1 open; snap offsets 0..4
    expect(state.committableOffset('snap', 5)).toBe(0);
    feed(state, events.slice(5, 10), out, new Map([['snap', 5]])); // window 0 closed; window 1 holds snap offset 3, window 2 offset 5
    expect(state.committableOffset('snap', 6)).toBe(3);
    expect(state.committableOffset('fol', 2)).toBe(1); // f2 is in window 1
    expect(state.committableOffset('chat', 2)).toBe(2); // both chat records were in window 0, now closed
  });

  it('a replay from the committed offsets with the checkpoint gives the same windows as an uninterrupted run', () => {
    const reference = new Outputs();
    feed(new ShardState(0, settings), events, reference);

    for (let crashAfter = 1; crashAfter < events.length; crashAfter++) {
      const { first, replayed } = crashAndReplay(events, crashAfter);
      expect(windowsByKey(first, replayed)).toEqual(reference.windows);
      const late = new Set([...first.late, ...replayed.late].map((l) => `${l.pos.topic}:${l.pos.offset}`));
      expect([...late]).toEqual(reference.late.map((l) => `${l.pos.topic}:${l.pos.offset}`));
    }
  });
});

describe('ShardState: sampled chat (issue 18, YouTube quota planner; hand-computed)', () => {
  it('a window keeps the lowest sampling rate of its chat records and its chat figures as read, not scaled up; 1 without sampled chat', () => {
    const out = new Outputs();
    const sampled = (id: string, endSec: number, messages: number, ids: string[], samplingRate: number): ProcessorEvent => ({ ...chat(id, endSec, messages, ids), samplingRate } as ProcessorEvent);
    feed(new ShardState(0, settings), [
      ['snap', snap('a', 10, 100)],
      ['chat', sampled('m1', 30, 8, ['a', 'b'], 1)],
      ['chat', sampled('m2', 50, 4, ['c'], 0.25)],
      ['snap', snap('b', 70, 100)],
      ['chat', chat('m3', 100, 6, ['a'])], // a record from before the field: all of the chat
      ['snap', snap('c', 250, 100)], // watermark → 190 s: windows 0 and 1 close
    ], out);
    expect(out.windows.map((w) => [w.windowStart, w.chatMessages, w.uniqueChatters, w.engagementRate, w.chatSamplingRate])).toEqual([
      [s(0), 12, 3, 3 / 100, 0.25],
      [s(60), 6, 1, 1 / 100, 1],
    ]);
  });
});

describe('ShardState: Twitch paid subscribers beside followers (issue 18.3, hand-computed)', () => {
  // Followers polled at 20 s, 80 s, 200 s; subscribers read with the first two, not with the third (scope gone).
  const paidEvents: Array<[string, ProcessorEvent]> = [
    ['snap', snap('a', 10, 100)],
    ['fol', followers('f1', 20, 990, { subscribers: 40, points: 50 })],
    ['fol', followers('f1', 20, 990, { subscribers: 40, points: 50 })], // a producer retry: counted once
    ['snap', snap('b', 70, 100)],
    ['fol', followers('f2', 80, 1000, { subscribers: 43, points: 55 })],
    ['snap', snap('c', 130, 100)],
    ['fol', followers('f3', 200, 1001)],
    ['snap', snap('d', 400, 100)], // watermark → 340 s: windows 0–3 close
  ];

  it('a window has the total at its end (observed, else carried), its change in the window and the points; null, not 0, when never read', () => {
    const out = new Outputs();
    feed(new ShardState(0, settings), paidEvents, out);
    expect(out.windows.map((w) => [w.windowStart, w.paidSubscribers, w.paidSubscriberDelta, w.subscriptionPoints])).toEqual([
      [s(0), 40, 0, 50], // first known: nothing to compare with
      [s(60), 43, 3, 55],
      [s(120), 43, 0, 55], // carried
      [s(180), 43, 0, 55], // a follower count without subscribers changes nothing
    ]);
    const youtube = new Outputs();
    feed(new ShardState(0, settings), [['snap', snap('a', 10, 100)], ['fol', followers('f1', 20, 990)], ['snap', snap('b', 200, 100)]], youtube);
    expect(youtube.windows[0]).toMatchObject({ followers: 990, paidSubscribers: null, paidSubscriberDelta: 0, subscriptionPoints: null });
  });

  it('a replay from any crash point gives the same subscriber figures (the carried total comes back from the restored windows)', () => {
    const reference = new Outputs();
    feed(new ShardState(0, settings), paidEvents, reference);
    for (let crashAfter = 1; crashAfter < paidEvents.length; crashAfter++) {
      const { first, replayed } = crashAndReplay(paidEvents, crashAfter);
      expect(windowsByKey(first, replayed)).toEqual(reference.windows);
    }
  });
});

describe('ShardState: sessions', () => {
  it('opens a session on the first live snapshot and summarises it once its last window closed', () => {
    const out = new Outputs();
    const state = new ShardState(0, settings);
    feed(state, [
      ['life', lifecycle('started', 5)],
      ['snap', snap('a', 10, 100)],
      ['life', lifecycle('started', 5)], // duplicate
      ['life', lifecycle('ended', 100)],
      ['life', lifecycle('ended', 100)], // duplicate
    ], out);
    expect(out.alerts.map((a) => a.type)).toEqual(['stream_started']);
    expect(out.alerts[0]!.occurredAt).toBe(s(5));
    expect(state.takeReadyEnds()).toEqual([]); // watermark 40 s: the end's window (60–120 s) is open
    expect(state.committableOffset('life', 4)).toBe(0);
    feed(state, [['snap', snap('z', 200, null, false)]], out, new Map([['snap', 1]]));
    const ends = state.takeReadyEnds();
    expect(ends).toEqual([expect.objectContaining({ streamId: 'S1', startedAt: s(5), endedAt: s(100) })]);
    expect(state.takeReadyEnds()).toEqual([]);
  });
});
