import { CATEGORIES, createWorld } from './world';
import { createCompetition } from './world.competition';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T = Date.UTC(2026, 10, 2); // a Monday, 00:00 UTC

describe('simulator category competition (issue 22.3)', () => {
  it('is off by default and then changes nothing: the pinned checksum of a week of seed 42 is the one before competition existed', () => {
    const plain = createWorld({ seed: 42, channels: 12 });
    const off = createWorld({ seed: 42, channels: 12, competition: false });
    expect(plain.competition).toBeNull();
    let sum = 0;
    let live = 0;
    for (const c of plain.channels) {
      for (let t = T; t < T + 7 * DAY; t += 7 * 60_000) {
        const s = plain.stateAt(c.channelId, t);
        expect(off.stateAt(c.channelId, t)).toEqual(s);
        sum = (sum * 31 + s.viewers) % 1_000_000_007;
        live += s.live ? 1 : 0;
      }
    }
    // Computed with world.ts of commit 328af78 (before this module): any change to the default world breaks it.
    expect([sum, live]).toEqual([2584836, 1899]);
  });

  it('is a pure function of (seed, category, UTC hour): one market within an hour, another seed another market', () => {
    const [, id] = CATEGORIES[0]!;
    const a = createCompetition(7, [id]);
    const b = createCompetition(7, [id]);
    const c = createCompetition(8, [id]);
    expect(a.marketAt(id, T + 5 * HOUR + 1)).toEqual(b.marketAt(id, T + 5 * HOUR + 59 * 60_000));
    const week = (x: typeof a) => Array.from({ length: 168 }, (_, h) => x.marketAt(id, T + h * HOUR)!.liveChannels);
    expect(week(a)).toEqual(week(b));
    expect(week(a)).not.toEqual(week(c));
    expect(a.marketAt('no-such-category', T)).toBeNull();
    expect(a.factorAt('no-such-category', T)).toBe(1);
  });

  it('repeats by hour of week: next week\'s live channels are within the ±8 % wobble of this week\'s, and the hours differ a lot', () => {
    const w = createWorld({ seed: 42, channels: 2, competition: true });
    for (const [, id] of CATEGORIES) {
      const counts: number[] = [];
      for (let h = 0; h < 168; h++) {
        const now = w.competition!.marketAt(id, T + h * HOUR)!.liveChannels;
        const next = w.competition!.marketAt(id, T + h * HOUR + 7 * DAY)!.liveChannels;
        expect(Math.abs(next - now)).toBeLessThanOrEqual(Math.ceil(0.2 * now) + 1);
        counts.push(now);
      }
      expect(Math.max(...counts)).toBeGreaterThan(3 * Math.min(...counts));
    }
  });

  it('splits a market\'s viewers over its live channels, biggest first, summing to the market (± rounding)', () => {
    const w = createWorld({ seed: 3, channels: 2, competition: true });
    const [, id] = CATEGORIES[2]!;
    const m = w.competition!.marketAt(id, T + 19 * HOUR)!;
    const viewers = Array.from({ length: m.liveChannels }, (_, i) => w.competition!.channelViewers(id, T + 19 * HOUR, i));
    expect([...viewers].sort((x, y) => y - x)).toEqual(viewers);
    expect(Math.abs(viewers.reduce((s, v) => s + v, 0) - m.viewers)).toBeLessThanOrEqual(m.liveChannels);
    expect(w.competition!.channelViewers(id, T + 19 * HOUR, m.liveChannels)).toBe(0);
  });

  it('with it on, a Twitch channel\'s viewers scale by its category\'s viewers per live channel, YouTube\'s do not move', () => {
    const off = createWorld({ seed: 42, channels: 12 });
    const on = createWorld({ seed: 42, channels: 12, competition: true });
    let movedTwitch = 0;
    for (const c of off.channels) {
      for (const s of off.sessionsBetween(c.channelId, T, T + 14 * DAY)) {
        const t = Math.floor((s.startedAt + s.endedAt!) / 2);
        const a = off.stateAt(c.channelId, t);
        const b = on.stateAt(c.channelId, t);
        expect(b.streamId).toBe(a.streamId); // sessions are the schedule's: competition moves audiences only
        if (c.platform === 'youtube') expect(b.viewers).toBe(a.viewers);
        else {
          const f = on.competition!.factorAt(c.categoryId, t);
          expect(b.viewers).toBeCloseTo(Math.max(1, a.viewers * f), -1);
          if (Math.abs(f - 1) > 0.1) movedTwitch++;
        }
      }
    }
    expect(movedTwitch).toBeGreaterThan(10);
  });

  it('changes a creator\'s best hour: some Twitch channel\'s best-earning weekly slot differs with competition on', () => {
    const off = createWorld({ seed: 42, channels: 24 });
    const on = createWorld({ seed: 42, channels: 24, competition: true });
    const best = (w: typeof on, channelId: string) => {
      let top = -1;
      let at = -1;
      for (const s of w.sessionsBetween(channelId, T, T + 7 * DAY)) {
        for (let t = s.startedAt + 30 * 60_000; t < s.endedAt! - 20 * 60_000; t += HOUR) {
          const v = w.stateAt(channelId, t).viewers;
          if (v > top) [top, at] = [v, Math.floor(t / HOUR)];
        }
      }
      return at;
    };
    const changed = off.channels.filter((c) => c.platform === 'twitch' && best(off, c.channelId) !== best(on, c.channelId));
    expect(changed.length).toBeGreaterThan(0);
  });
});
