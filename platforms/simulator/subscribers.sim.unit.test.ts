import { createWorld } from './world';
import { subscribersAt } from './subscribers.sim';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T = Date.UTC(2026, 10, 2, 12); // a Monday, 12:00 UTC

/** Issue 18.3: the simulator's paid subscribers move during a stream (so the demo shows something) and settle after it. */
describe('simulator: Twitch paid subscribers over a session', () => {
  const world = () => {
    const w = createWorld({ seed: 7, channels: 6 });
    const c = w.channels.filter((x) => x.platform === 'twitch').sort((a, b) => b.baseViewers - a.baseViewers)[0]!;
    w.forceLive(c.channelId, true, T);
    w.forceLive(c.channelId, false, T + 3 * HOUR);
    return { w, c };
  };

  it('grows while live, in proportion to the audience, and never jumps down during the stream', () => {
    const { w, c } = world();
    const at = (t: number) => subscribersAt(w, c, t);
    const start = at(T);
    let prev = start.total;
    for (let t = T; t <= T + 3 * HOUR; t += 5 * MIN) {
      const s = at(t);
      expect(s.total).toBeGreaterThanOrEqual(prev);
      expect(s.points).toBeGreaterThanOrEqual(s.total);
      prev = s.total;
    }
    const gained = at(T + 3 * HOUR).total - start.total;
    expect(gained).toBeGreaterThan(0);
    expect(gained).toBeLessThan(Math.max(50, c.baseViewers)); // plausible: a fraction of the audience
    // Within one hour of a stream something visible happens (the demo's live card and session row).
    expect(at(T + HOUR).total).toBeGreaterThan(start.total);
  });

  it('is deterministic, below the followers, and lets part of the gain lapse in the days after the stream', () => {
    const { w, c } = world();
    const again = world();
    const figures = (s: { total: number; points: number }) => [s.total, s.points];
    expect(figures(subscribersAt(w, c, T + 90 * MIN))).toEqual(figures(subscribersAt(again.w, again.c, T + 90 * MIN)));
    const end = subscribersAt(w, c, T + 3 * HOUR).total;
    const later = subscribersAt(w, c, T + 3 * HOUR + 4 * 24 * HOUR).total;
    expect(later).toBeLessThan(end);
    expect(end).toBeLessThan(w.followersAt(c.channelId, T + 3 * HOUR));
  });
});
