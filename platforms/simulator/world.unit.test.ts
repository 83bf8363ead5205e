import { bulkTwitchChannelId, createWorld, dailyFactor } from './world';

const DAY = 86_400_000;
const T = Date.UTC(2026, 10, 2); // a Monday, 00:00 UTC

describe('simulator world', () => {
  it('is a pure function of (seed, time): two worlds with one seed agree, another seed differs', () => {
    const a = createWorld({ seed: 7, channels: 6 });
    const b = createWorld({ seed: 7, channels: 6 });
    const c = createWorld({ seed: 8, channels: 6 });
    expect(a.channels).toEqual(b.channels);
    expect(a.channels.map((x) => x.channelId)).not.toEqual(c.channels.map((x) => x.channelId));
    for (const ch of a.channels) {
      for (let t = T; t < T + 2 * DAY; t += 37 * 60_000) expect(a.stateAt(ch.channelId, t)).toEqual(b.stateAt(ch.channelId, t));
      expect(a.chatBetween(ch.channelId, T, T + DAY / 4)).toEqual(b.chatBetween(ch.channelId, T, T + DAY / 4));
    }
  });

  it('alternates platforms and gives each its platform-shaped ids', () => {
    const w = createWorld({ seed: 1, channels: 4 });
    expect(w.channels.map((c) => c.platform)).toEqual(['twitch', 'youtube', 'twitch', 'youtube']);
    expect(w.channels[0]!.channelId).toMatch(/^\d+$/);
    expect(w.channels[1]!.channelId).toMatch(/^UC[A-Za-z0-9_-]{22}$/);
    expect(w.byLogin(w.channels[2]!.login.toUpperCase())).toBe(w.channels[2]);
  });

  it('sessions have a start and end, and stateAt is live exactly inside them with the same streamId', () => {
    const w = createWorld({ seed: 3, channels: 4 });
    for (const ch of w.channels) {
      const sessions = w.sessionsBetween(ch.channelId, T, T + 14 * DAY);
      expect(sessions.length).toBeGreaterThan(2); // propensity ≥ ~0.25 a day over two weeks
      for (const s of sessions) {
        expect(s.endedAt! - s.startedAt).toBeGreaterThanOrEqual(90 * 60_000);
        const mid = w.stateAt(ch.channelId, Math.floor((s.startedAt + s.endedAt!) / 2));
        expect(mid).toMatchObject({ live: true, streamId: s.streamId, startedAt: s.startedAt });
        expect(mid.viewers).toBeGreaterThan(0);
        expect(w.stateAt(ch.channelId, s.endedAt!).streamId).not.toBe(s.streamId);
      }
      const off = w.stateAt(ch.channelId, sessions[0]!.startedAt - 1);
      if (!off.live) expect(off).toMatchObject({ viewers: 0, streamId: null, startedAt: null });
    }
  });

  it('viewers follow the daily curve: the evening peak beats the morning trough on average', () => {
    expect(dailyFactor(20)).toBeCloseTo(1);
    expect(dailyFactor(8)).toBeCloseTo(0.25);
    const w = createWorld({ seed: 11, channels: 1 });
    const ch = w.channels[0]!;
    // Same session, same instant, forced live at two local hours 12 h apart, many days: compare means.
    let evening = 0;
    let morning = 0;
    for (let d = 0; d < 20; d++) {
      const base = T + d * DAY - ch.utcOffsetHours * 3_600_000;
      const w2 = createWorld({ seed: 11, channels: 1 });
      w2.forceLive(ch.channelId, true, base + 7 * 3_600_000);
      morning += w2.stateAt(ch.channelId, base + 8 * 3_600_000).viewers;
      evening += w2.stateAt(ch.channelId, base + 20 * 3_600_000).viewers;
    }
    expect(evening).toBeGreaterThan(morning * 2);
  });

  it('followers never decrease over time', () => {
    const w = createWorld({ seed: 5, channels: 2 });
    const id = w.channels[0]!.channelId;
    let last = 0;
    for (let t = T; t < T + 30 * DAY; t += 6 * 3_600_000) {
      const f = w.followersAt(id, t);
      expect(f).toBeGreaterThanOrEqual(last);
      last = f;
    }
    expect(w.followersAt(id, T + 30 * DAY)).toBeGreaterThan(w.followersAt(id, T));
  });

  it('chat exists only while live, and counts add up over adjacent intervals', () => {
    const w = createWorld({ seed: 9, channels: 2 });
    const id = w.channels[0]!.channelId;
    const s = w.sessionsBetween(id, T, T + 14 * DAY)[0]!;
    expect(w.chatBetween(id, s.startedAt - 3_600_000, s.startedAt).messages).toBe(0);
    const mid = s.startedAt + 30 * 60_000;
    const whole = w.chatBetween(id, s.startedAt, s.endedAt!);
    const a = w.chatBetween(id, s.startedAt, mid);
    const b = w.chatBetween(id, mid, s.endedAt!);
    expect(whole.messages).toBe(a.messages + b.messages);
    expect(whole.messages).toBeGreaterThan(0);
    expect(whole.chatterIds.length).toBeLessThanOrEqual(whole.messages);
    const msgs = w.chatMessagesBetween(id, s.startedAt, s.endedAt!, 50);
    expect(msgs).toHaveLength(Math.min(50, whole.messages));
    expect([...msgs].sort((x, y) => x.publishedAt - y.publishedAt)).toEqual(msgs);
  });

  it('forceLive starts a session at the given time and forcing offline ends it', () => {
    const w = createWorld({ seed: 2, channels: 2 });
    const id = w.channels[1]!.channelId;
    const at = T + 3 * DAY + 3 * 3_600_000 + 17_000;
    w.forceLive(id, true, at);
    const live = w.stateAt(id, at + 60_000);
    expect(live.live).toBe(true);
    expect(live.streamId).toMatch(/^[A-Za-z0-9_-]{11}$/);
    w.forceLive(id, false, at + 3_600_000);
    expect(w.stateAt(id, at + 3_600_000 + 1).live).toBe(false);
    const sessions = w.sessionsBetween(id, at - 1, at + 2 * 3_600_000);
    expect(sessions).toContainEqual({ streamId: live.streamId, startedAt: live.startedAt, endedAt: at + 3_600_000 });
    w.clearOverrides(id);
    expect(w.sessionsBetween(id, at, at + 1).every((s) => s.streamId !== live.streamId || s.startedAt !== at)).toBe(true);
  });

  it('generates a week of 5-minute state for many channels with some live time in it', () => {
    const w = createWorld({ seed: 42, channels: 10 });
    let live = 0;
    for (const ch of w.channels) for (let t = T; t < T + 7 * DAY; t += 15 * 60_000) if (w.stateAt(ch.channelId, t).live) live++;
    expect(live).toBeGreaterThan(0);
  });

  it('makes bulk Twitch channels on demand from their id: not listed, the same each time, live when forced, none beyond the count', () => {
    const w = createWorld({ seed: 3, channels: 4, bulkTwitchChannels: 100_000 });
    expect(w.channels).toHaveLength(4);
    const last = bulkTwitchChannelId(99_999);
    expect(w.channel(last)).toMatchObject({ platform: 'twitch', channelId: last });
    expect(w.channel(last)).toEqual(createWorld({ seed: 3, channels: 0, bulkTwitchChannels: 100_000 }).channel(last));
    expect(w.channel(bulkTwitchChannelId(0))!.login).not.toBe(w.channel(last)!.login);
    expect(w.channel(bulkTwitchChannelId(100_000))).toBeUndefined();
    expect(w.channels.map((c) => c.channelId)).not.toContain(last);
    w.forceLive(last, true, T);
    expect(w.stateAt(last, T + 60_000)).toMatchObject({ live: true, streamId: expect.stringMatching(/^\d+$/) });
    w.forceLive(last, false, T + 120_000);
    expect(w.stateAt(last, T + 180_000).live).toBe(false);
  });
});
