import type { ChannelHistory } from './channel-history';
import { channelContext, DAY_MS, HOUR_MS, hourOfWeek, seasonalBaseline, seasonalSlot } from './features';
import { explainPrediction, explainSlot, holdoutComparison } from './explanations';
import type { ViewerServingDecision } from './viewers.model';

const MONDAY = Date.UTC(2026, 10, 2); // Monday 00:00 UTC
const SAT19 = 5 * 24 + 19; // Saturday 19:00 UTC

/**
 * 8 weeks: every Saturday 19:00–20:00 UTC with 20, 22, …, 34 viewers (week 0 … 7), every Wednesday
 * 10:00–11:00 UTC with 10 viewers. Live hours: Sat 20 + 2w, Wed 10.
 */
function fixture(): { h: ChannelHistory; asOf: number } {
  const h: ChannelHistory = { platform: 'twitch', channelId: 'c1', sessions: [], hours: [] };
  for (let w = 0; w < 8; w++) {
    for (const [day, hour, v] of [[2, 10, 10], [5, 19, 20 + 2 * w]] as const) {
      const start = MONDAY + w * 7 * DAY_MS + day * DAY_MS + hour * HOUR_MS;
      h.sessions.push({ streamId: `s${w}-${day}`, startedAt: start, endedAt: start + HOUR_MS, avgViewers: v, peakViewers: v, category: 'Art' });
      h.hours.push({ hourStart: start, viewers: v, liveMinutes: 60, followers: 100 });
    }
  }
  h.sessions.sort((a, b) => a.startedAt - b.startedAt);
  h.hours.sort((a, b) => a.hourStart - b.hourStart);
  return { h, asOf: MONDAY + 8 * 7 * DAY_MS };
}

describe('explanations (numbers hand-computed on a small fixture)', () => {
  const { h, asOf } = fixture();
  const r = channelContext(h, asOf);
  if (!r.ok) throw new Error('fixture has too little history');
  const ctx = r.ctx;
  // Channel mean over all 16 live hours: (8·10 + (20+22+…+34)) / 16 = (80 + 216) / 16 = 18.5.
  const channelMean = 18.5;

  it('a slot the channel streamed in: the newest 6 streams there, against the channel mean', () => {
    expect(hourOfWeek(h.hours[h.hours.length - 1]!.hourStart)).toBe(SAT19);
    const reason = explainSlot(ctx, SAT19);
    // Newest 6 Saturdays: 24, 26, 28, 30, 32, 34 → 29; 29 / 18.5 − 1 = +56.76 % → 57 %.
    expect(reason).toEqual({
      text: 'Sat 19:00 UTC: your last 6 streams in this slot averaged 29 viewers, 57 % above your mean (19)',
      streams: 6, basis: 'slot', meanViewers: 29, channelMeanViewers: 18.5, vsChannelMeanPercent: 57,
    });
  });

  it('a slot never streamed: the same UTC hour on other days, or says there is none', () => {
    // Thursday 19:00 UTC: never; at 19:00 on other days the newest 6 Saturdays → the same 29.
    const thu19 = 3 * 24 + 19;
    const reason = explainSlot(ctx, thu19);
    expect(reason.basis).toBe('hour');
    expect(reason.text).toBe('Thu 19:00 UTC: no stream of yours in this slot in the last 12 weeks; your last 6 streams at 19:00 UTC on other days averaged 29 viewers, 57 % above your mean (19)');
    // Wednesday 10:00 slot: 10 viewers, 10 / 18.5 − 1 = −45.9 % → 46 % below.
    expect(explainSlot(ctx, 2 * 24 + 10).text).toBe('Wed 10:00 UTC: your last 6 streams in this slot averaged 10 viewers, 46 % below your mean (19)');
    const none = explainSlot(ctx, 3);
    expect(none).toMatchObject({ basis: 'none', streams: 0, meanViewers: null, vsChannelMeanPercent: null });
    expect(none.text).toMatch(/^Mon 03:00 UTC: you have not been live at this hour/);
  });

  it('the seasonal baseline shrinks a slot toward the channel mean by n / (n + 2)', () => {
    // Saturday slot: 8 streams, mean 27 → (8·27 + 2·18.5) / 10 = 25.3; never-seen slot → the mean.
    expect(seasonalSlot(ctx, SAT19)).toBeCloseTo(25.3, 9);
    expect(seasonalSlot(ctx, 3)).toBeCloseTo(channelMean, 9);
    // A stream Sat 18:30–19:30: half an hour in an unseen slot, half in Saturday 19:00.
    const start = asOf + 5 * DAY_MS + 18.5 * HOUR_MS;
    expect(seasonalBaseline(ctx, start, HOUR_MS)).toBeCloseTo((18.5 + 25.3) / 2, 9);
  });

  it('a prediction says which baseline it beat and by how much, or that it is the baseline', () => {
    const won: ViewerServingDecision = { name: 'viewers', bestBaseline: 'channel-hour-of-week', bestBaselineMae: 40, modelMae: 30, holdoutSessions: 77, intervalQ: 0.3 };
    expect(holdoutComparison(won)).toEqual({ sessions: 77, modelMae: 30, baseline: 'channel-hour-of-week', baselineMae: 40, improvementPercent: 25 });
    expect(explainPrediction(won, asOf + 5 * DAY_MS + 19 * HOUR_MS)).toBe(
      'Sat 19:00 UTC: model prediction. On 77 held-out streams its mean error was 30 viewers, 25 % lower than the best simple baseline (your mean in these hours of the week, shrunk toward your overall mean: 40).',
    );
    const lost: ViewerServingDecision = { ...won, name: 'baseline:channel-mean', bestBaseline: 'channel-mean', modelMae: 50 };
    expect(holdoutComparison(lost).improvementPercent).toBe(-25);
    expect(explainPrediction(lost, asOf)).toBe(
      'Mon 00:00 UTC: this is a baseline, your mean over all earlier streams. The trained model lost to it on 77 held-out streams (mean error 50 against 40 viewers), so the baseline is served.',
    );
  });
});
