import type { ClosedWindow } from '../state/window.accumulator';
import { DEFAULT_ALERT_RULES, HistoryWindow, judgeWindow } from './alert.rules';

const T0 = Date.UTC(2025, 0, 1);
const win = (i: number, avgViewers: number, uniqueChatters = 0, followers: number | null = null): ClosedWindow => ({
  platform: 'youtube', channelId: 'yc', userId: 'u', windowStart: T0 + i * 60_000, samples: 2, avgViewers, peakViewers: avgViewers,
  minViewers: avgViewers, viewerMinutes: avgViewers, followers, followerDelta: 0, chatMessages: uniqueChatters, uniqueChatters,
  engagementRate: avgViewers > 0 ? uniqueChatters / avgViewers : 0, messagesPerViewerMinute: 0, live: true, streamId: 's',
});
const hist = (w: ClosedWindow, spike = false, drop = false): HistoryWindow => ({ ...w, spike, drop });

describe('alert rules (pure, deterministic ids)', () => {
  const baseline = [hist(win(0, 100, 10)), hist(win(1, 100, 10)), hist(win(2, 100, 10))];

  it('raises viewer_spike once per spike, relative to the recent baseline', () => {
    const r = judgeWindow(win(3, 250, 25), baseline, null, DEFAULT_ALERT_RULES);
    expect(r.spike).toBe(true);
    expect(r.alerts.map((a) => a.alertId)).toEqual([`viewer_spike:youtube:yc:${T0 + 3 * 60_000}`]);
    // The next window is still high, but the spike was already reported.
    const again = judgeWindow(win(4, 260, 26), [...baseline, hist(win(3, 250, 25), true)], null, DEFAULT_ALERT_RULES);
    expect(again.spike).toBe(true);
    expect(again.alerts).toEqual([]);
  });

  it('needs a baseline before judging', () => {
    expect(judgeWindow(win(1, 1000, 0), baseline.slice(0, 1), null, DEFAULT_ALERT_RULES).alerts).toEqual([]);
  });

  it('raises engagement_drop when the share of chatting viewers halves', () => {
    const r = judgeWindow(win(3, 100, 4), baseline, null, DEFAULT_ALERT_RULES); // 4 % vs 10 %
    expect(r.alerts.map((a) => a.type)).toEqual(['engagement_drop']);
    expect(judgeWindow(win(3, 100, 6), baseline, null, DEFAULT_ALERT_RULES).alerts).toEqual([]); // 6 % > 5 %
  });

  it('raises one follower_milestone per threshold crossed, with an id that does not depend on the window', () => {
    const r = judgeWindow(win(3, 100, 10, 1_020), baseline, 240, DEFAULT_ALERT_RULES);
    expect(r.alerts.map((a) => a.alertId)).toEqual(['follower_milestone:youtube:yc:250', 'follower_milestone:youtube:yc:500', 'follower_milestone:youtube:yc:1000']);
    expect(judgeWindow(win(3, 100, 10, 1_020), baseline, null, DEFAULT_ALERT_RULES).alerts).toEqual([]); // no earlier count known
  });
});
