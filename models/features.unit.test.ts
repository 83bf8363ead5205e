import type { ChannelHistory } from './channel-history';
import { parseChannelArg } from './channel-history';
import { buildVocabulary, channelContext, cyclic, DAY_MS, fitNormalization, HOUR_MS, hourOfWeek, normalize, sameHourLastWeek, timingFeatures, TIMING_FEATURE_NAMES, featureNames, viewerFeatures, VIEWER_FEATURE_NAMES } from './features';
import { expectedHitAtK, mae, mape, oracleViewers } from './evaluation';
import { pooledCoverage } from './evaluation.report';
import { gaussian, seededRandom, shuffled } from './seeded-random';
import { newVersion } from './artifact.store';

const MONDAY = Date.UTC(2026, 10, 2); // Monday 00:00 UTC

/** A channel streaming 18:00–21:00 UTC every day for `days` days before `end`, 100 viewers (200 on Sundays). */
function steadyChannel(end: number, days: number): ChannelHistory {
  const h: ChannelHistory = { platform: 'twitch', channelId: 'c1', sessions: [], hours: [] };
  for (let d = days; d >= 1; d--) {
    const start = end - d * DAY_MS + 18 * HOUR_MS;
    const sunday = hourOfWeek(start) >= 144;
    const v = sunday ? 200 : 100;
    h.sessions.push({ streamId: `s${d}`, startedAt: start, endedAt: start + 3 * HOUR_MS, avgViewers: v, peakViewers: v, category: 'Art' });
    for (let k = 0; k < 3; k++) h.hours.push({ hourStart: start + k * HOUR_MS, viewers: v, liveMinutes: 60, followers: 1000 + d });
  }
  return h;
}

describe('features (pure)', () => {
  it('hour of week counts from Monday 00:00 UTC', () => {
    expect(hourOfWeek(MONDAY)).toBe(0);
    expect(hourOfWeek(MONDAY + 25 * HOUR_MS + 59 * 60_000)).toBe(25);
    expect(hourOfWeek(MONDAY + 6 * DAY_MS + 23 * HOUR_MS)).toBe(167);
    expect(hourOfWeek(MONDAY + 7 * DAY_MS)).toBe(0);
  });

  it('cyclic encoding makes 23:00 and 00:00 neighbours', () => {
    const [s0, c0] = cyclic(0, 24);
    const [s23, c23] = cyclic(23, 24);
    const [s12, c12] = cyclic(12, 24);
    const dist = (a: number[], b: number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!);
    expect(dist([s0, c0], [s23, c23])).toBeLessThan(0.3);
    expect(dist([s0, c0], [s12, c12])).toBeCloseTo(2, 6);
  });

  it('a channel context uses only data before asOf and reports what is missing', () => {
    const end = MONDAY + 21 * DAY_MS;
    const h = steadyChannel(end, 14);
    const r = channelContext(h, end);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    // Two Sundays among 14 days: level = (12·100 + 2·200) / 14.
    expect(r.ctx.level).toBeCloseTo((12 * 100 + 2 * 200) / 14, 6);
    expect(r.ctx.recentSessions).toBe(14);
    expect(r.ctx.followers).toBe(1001); // the latest hour's count
    expect(r.ctx.category).toBe('Art');
    // Sunday 18:00 UTC (hour of week 162) is seen twice, at 200 against an hourly level of 1000/7·… .
    expect(r.ctx.howProfile[162]).toBeGreaterThan(0);
    expect(r.ctx.howProfile[18]).toBeLessThan(0);
    expect(r.ctx.hodProfile[3]).toBeNull();
    // Nothing after asOf leaks in: as of 2 sessions into history there is not enough.
    const early = channelContext(h, end - 12 * DAY_MS);
    expect(early).toEqual({ ok: false, have: 2, need: 3, what: 'stream sessions in the last 28 days' });
  });

  it('same hour last week averages the live hours one week earlier, null when offline then', () => {
    const end = MONDAY + 21 * DAY_MS;
    const r = channelContext(steadyChannel(end, 14), end);
    if (!r.ok) throw new Error('context');
    expect(sameHourLastWeek(r.ctx, end + 18 * HOUR_MS, 3 * HOUR_MS)).toBe(100);
    expect(sameHourLastWeek(r.ctx, end + 6 * HOUR_MS, 2 * HOUR_MS)).toBeNull();
  });

  it('feature vectors have one value per named feature, one-hots fall back to "other"', () => {
    const end = MONDAY + 21 * DAY_MS;
    const r = channelContext(steadyChannel(end, 14), end);
    if (!r.ok) throw new Error('context');
    const vocab = buildVocabulary(['twitch', 'youtube', 'twitch'], ['Art', 'Music', 'Art']);
    expect(vocab).toEqual({ platforms: ['twitch', 'youtube', '__other__'], categories: ['Art', 'Music', '__other__'] });
    const v = viewerFeatures(r.ctx, end + 18 * HOUR_MS, 3 * HOUR_MS, 'Chess', vocab);
    expect(v).toHaveLength(featureNames(VIEWER_FEATURE_NAMES, vocab).length);
    expect(v.slice(-3)).toEqual([0, 0, 1]);
    expect(timingFeatures(r.ctx, end + 18 * HOUR_MS, vocab)).toHaveLength(featureNames(TIMING_FEATURE_NAMES, vocab).length);
    expect(v.every(Number.isFinite)).toBe(true);
  });

  it('normalisation centres and scales each column; a constant column is only centred', () => {
    const n = fitNormalization([[1, 5], [3, 5]]);
    expect(n).toEqual({ mean: [2, 5], std: [1, 1] });
    expect(normalize([[3, 5]], n)).toEqual([[1, 0]]);
  });
});

describe('evaluation arithmetic (hand-computed)', () => {
  it('MAE and MAPE', () => {
    expect(mae([10, 20], [12, 15])).toBe(3.5);
    expect(mape([10, 20], [12, 15])).toBeCloseTo((0.2 + 0.25) / 2, 10);
    expect(mape([0], [2])).toBe(2); // an actual of 0 counts as 1
  });

  it('expected hit@3 with random tie-breaking', () => {
    expect(expectedHitAtK([5, 4, 3, 2, 1], 0)).toBe(1);
    expect(expectedHitAtK([5, 4, 3, 2, 1], 3)).toBe(0);
    expect(expectedHitAtK([1, 1, 1, 1, 1, 1], 2)).toBe(0.5); // all tied: 3/6, the random rate
    expect(expectedHitAtK([9, 1, 1, 1, 0], 1)).toBeCloseTo(2 / 3, 10); // 2 places left for 3 tied slots
  });

  it('the oracle predicts the conditional median of a log-normal session factor of mean 1, which beats its mean in MAE', () => {
    expect(oracleViewers(100, 0)).toBe(100);
    expect(oracleViewers(100, 0.2)).toBeCloseTo(100 * Math.exp(-0.02), 10); // 98.02
    // The backfill's session noise: expected × exp(σZ − σ²/2). Its median minimises the absolute error; its mean does not.
    const random = seededRandom(7);
    const actual = Array.from({ length: 200_000 }, () => 100 * Math.exp(0.2 * gaussian(random) - 0.02));
    const median = [...actual].sort((a, b) => a - b)[actual.length / 2]!;
    expect(median).toBeCloseTo(oracleViewers(100, 0.2), 0);
    const atOracle = mae(actual, actual.map(() => oracleViewers(100, 0.2)));
    expect(atOracle).toBeLessThan(mae(actual, actual.map(() => 100)));
    for (const other of [97, 99]) expect(atOracle).toBeLessThan(mae(actual, actual.map(() => other)));
  });

  it('pooled coverage: the share inside over every holdout, with its binomial standard error', () => {
    const p = pooledCoverage([{ inside: 160, n: 200 }, { inside: 82, n: 100 }]);
    expect(p.n).toBe(300);
    expect(p.coverage).toBeCloseTo(242 / 300, 12);
    expect(p.se).toBeCloseTo(Math.sqrt(((242 / 300) * (58 / 300)) / 300), 12); // 0.0228
  });
});

describe('determinism and naming', () => {
  it('the seeded shuffle is a pure function of the seed', () => {
    const a = shuffled([1, 2, 3, 4, 5, 6, 7, 8], seededRandom(7));
    expect(shuffled([1, 2, 3, 4, 5, 6, 7, 8], seededRandom(7))).toEqual(a);
    expect(shuffled([1, 2, 3, 4, 5, 6, 7, 8], seededRandom(8))).not.toEqual(a);
    expect([...a].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('versions sort by time; channel arguments parse with or without a platform', () => {
    const v1 = newVersion(new Date('2026-11-20T10:00:00.123Z'), 'abcdef12-3456');
    const v2 = newVersion(new Date('2026-11-21T09:00:00Z'), '00000000-1');
    expect(v1).toBe('20261120T100000Z-abcdef12');
    expect([v2, v1].sort()).toEqual([v1, v2]);
    expect(parseChannelArg('youtube:UCabc')).toEqual({ platform: 'youtube', channelId: 'UCabc' });
    expect(parseChannelArg('12345')).toEqual({ channelId: '12345' });
  });
});
