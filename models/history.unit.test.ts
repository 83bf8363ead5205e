import { createWorld } from '../platforms/simulator/world';
import { paidSubscribersOf, subscribersAt } from '../platforms/simulator/subscribers.sim';
import { parseChDateTime } from '../shared/clickhouse/tables';
import { channelHistoryRows, historyFromRows, simulatedHistories } from './history';
import { withHoldout } from './evaluate';

const MIN = 60_000;
const T = Math.floor(Date.UTC(2026, 10, 30, 20, 0, 0) / MIN) * MIN;

describe('channelHistoryRows: the first-start demo covers a stream that is live at its end', () => {
  const world = createWorld({ seed: 7, channels: 4, now: () => T });
  const id = world.channels[0]!.channelId;
  // Offline for the last 6 hours, then live for the last 30 minutes (and on after T).
  world.forceLive(id, false, T - 6 * 60 * MIN);
  world.forceLive(id, true, T - 30 * MIN);
  const base = { fromMs: T - 4 * 60 * MIN, toMs: T };

  it('without includeLive, an open stream is left out entirely', () => {
    const rows = channelHistoryRows(world, id, base);
    expect(rows.metrics.filter((r) => parseChDateTime(r.window_start) >= T - 30 * MIN)).toEqual([]);
  });

  it('with includeLive, every full minute of the open stream so far is a window of that stream, and no session row is written', () => {
    const rows = channelHistoryRows(world, id, { ...base, includeLive: true, sessionNoise: 0.2, pollNoise: 0.1 });
    const open = rows.metrics.filter((r) => parseChDateTime(r.window_start) >= T - 30 * MIN);
    expect(open.map((r) => parseChDateTime(r.window_start))).toEqual(Array.from({ length: 30 }, (_, i) => T - 30 * MIN + i * MIN));
    const streamId = open[0]!.stream_id;
    expect(open.every((r) => r.stream_id === streamId && r.live === 1 && r.samples === 2)).toBe(true);
    expect(rows.sessions.find((s) => s.stream_id === streamId)).toBeUndefined();
    // No noise on the open stream: its minutes are what the live pipeline will see from the world.
    const w = parseChDateTime(open[5]!.window_start);
    const expected = [w, w + 30_000].map((t) => Math.max(1, Math.round(world.stateAt(id, t).viewers!)));
    expect(open[5]!.avg_viewers).toBeCloseTo((expected[0]! + expected[1]!) / 2, 6);
  });
});

describe('backfill rows are the processors\' records (shared/clickhouse/tables.ts)', () => {
  it('times are ClickHouse DateTime text in UTC, read back to the instant; a session row is an ended summary of its windows', () => {
    const world = createWorld({ seed: 3, channels: 2 });
    const id = world.channels[0]!.channelId;
    const rows = channelHistoryRows(world, id, { fromMs: T - 7 * 24 * 60 * MIN, toMs: T });
    const s = rows.sessions[0]!;
    const windows = rows.metrics.filter((m) => m.stream_id === s.stream_id);
    expect(windows[0]!.window_start).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:00$/);
    expect(s.started_at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    expect(parseChDateTime(windows[0]!.window_start)).toBe(Math.floor(parseChDateTime(s.started_at) / MIN) * MIN);
    expect(parseChDateTime(s.ended_at) - parseChDateTime(s.started_at)).toBe(s.duration_seconds * 1000);
    expect(s.status).toBe('ended');
    expect(s.avg_viewers).toBeCloseTo(windows.reduce((a, w) => a + w.avg_viewers, 0) / windows.length, 9);
  });
});

describe('simulatedHistories: the evaluation\'s in-memory history is what a backfill writes and the repository reads back', () => {
  it('equals historyFromRows(channelHistoryRows(…)) with noise, and without noise for the oracle, session by session and hour by hour', () => {
    const world = createWorld({ seed: 5, channels: 3 });
    const o = { fromMs: T - 21 * 24 * 60 * MIN, toMs: T, sessionNoise: 0.2, pollNoise: 0.1, seed: 5 };
    for (const c of world.channels) {
      const { noisy, clean } = simulatedHistories(world, c.channelId, o);
      expect(noisy.sessions.length).toBeGreaterThan(3);
      expect(noisy).toEqual(historyFromRows(c.platform, c.channelId, channelHistoryRows(world, c.channelId, o)));
      expect(clean).toEqual(historyFromRows(c.platform, c.channelId, channelHistoryRows(world, c.channelId, { fromMs: o.fromMs, toMs: o.toMs })));
      // The noise is there: same sessions, other viewers.
      expect(noisy.sessions.map((s) => s.streamId)).toEqual(clean.sessions.map((s) => s.streamId));
      expect(noisy.sessions[0]!.avgViewers).not.toBe(clean.sessions[0]!.avgViewers);
    }
  });
});

describe('evaluation noise draws of the holdout week (evaluate.ts withHoldout)', () => {
  it('a draw keeps the history before the split, has the same sessions and hours after it with other viewers, and no hour mixes the two', () => {
    const world = createWorld({ seed: 1, channels: 12 });
    const H = 3_600_000;
    const to = Date.UTC(2026, 10, 20);
    const splitAt = to - 7 * 24 * H;
    const o = { fromMs: to - 28 * 24 * H, toMs: to, sessionNoise: 0.2, pollNoise: 0.1 };
    for (const c of world.channels) {
      const full = simulatedHistories(world, c.channelId, { ...o, seed: 1 });
      const draw = simulatedHistories(world, c.channelId, { ...o, fromMs: splitAt, seed: 99 });
      const spliced = withHoldout(full.noisy, draw.noisy, splitAt);
      expect(spliced.sessions.map((s) => s.streamId)).toEqual(full.noisy.sessions.map((s) => s.streamId));
      expect(spliced.hours.map((x) => x.hourStart)).toEqual(full.noisy.hours.map((x) => x.hourStart));
      expect(spliced.sessions.filter((s) => s.startedAt < splitAt)).toEqual(full.noisy.sessions.filter((s) => s.startedAt < splitAt));
      // The oracle of the draw is the backfill's: the same world sessions.
      expect(draw.clean.sessions).toEqual(full.clean.sessions.filter((s) => s.startedAt >= splitAt));
      const before = new Set(full.noisy.sessions.filter((s) => s.startedAt < splitAt).flatMap((s) => {
        const hs: number[] = [];
        for (let h = Math.floor(s.startedAt / H) * H; h < s.endedAt; h += H) hs.push(h);
        return hs;
      }));
      expect(draw.noisy.hours.filter((x) => before.has(x.hourStart))).toEqual([]);
      const after = draw.noisy.sessions[0];
      if (after) expect(after.avgViewers).not.toBe(full.noisy.sessions.find((s) => s.streamId === after.streamId)!.avgViewers);
    }
  });
});

describe('backfill paid subscribers: what the live pipeline reads of the world', () => {
  const world = createWorld({ seed: 5, channels: 6 });
  const paidAt = paidSubscribersOf(world);
  const o = { fromMs: T - 7 * 24 * 60 * MIN, toMs: T, paidSubscribersAt: paidAt };

  it("a Twitch channel's windows carry the world's total and points, deltas against the previous minute, and each session sums them", () => {
    const c = world.channels.find((x) => x.platform === 'twitch' && channelHistoryRows(world, x.channelId, o).sessions.length > 0)!;
    const rows = channelHistoryRows(world, c.channelId, o);
    for (const r of rows.metrics.slice(0, 50)) {
      const at = subscribersAt(world, c, parseChDateTime(r.window_start));
      expect([r.paid_subscribers, r.subscription_points]).toEqual([at.total, at.points]);
    }
    const s = rows.sessions[0]!;
    const mine = rows.metrics.filter((r) => r.stream_id === s.stream_id);
    const before = subscribersAt(world, c, parseChDateTime(s.started_at)).total;
    expect(mine.reduce((a, r) => a + r.paid_subscriber_delta!, 0)).toBe(mine.at(-1)!.paid_subscribers! - before);
    expect(s.paid_subscribers_gained).toBe(mine.at(-1)!.paid_subscribers! - before);
  });

  it('YouTube channels, and a backfill without the figure, write none (NULL, as the processors do)', () => {
    const yt = world.channels.find((x) => x.platform === 'youtube')!;
    const rows = channelHistoryRows(world, yt.channelId, o);
    expect(rows.metrics.every((r) => r.paid_subscribers === null && r.paid_subscriber_delta === 0)).toBe(true);
    expect(rows.sessions.every((s) => s.paid_subscribers_gained === null)).toBe(true);
    const tw = world.channels.find((x) => x.platform === 'twitch')!;
    expect(channelHistoryRows(world, tw.channelId, { ...o, paidSubscribersAt: undefined }).metrics.every((r) => r.paid_subscribers === null)).toBe(true);
  });
});
