import type { ChannelHistory } from './channel-history';
import type { CompetitionSample } from '../shared/clickhouse/category-competition';
import { competitionByCategory, competitionIndexAsOf } from './competition.feature';
import { channelContext, channelProfile, DAY_MS, HOUR_MS, hourOfWeek, pooledCompetitionPrior, profileEstimate, viewerFeatures, buildVocabulary } from './features';
import { profileHour } from './profile.fit';

const MONDAY = Date.UTC(2026, 10, 2); // Monday 00:00 UTC
const END = MONDAY + 35 * DAY_MS;
const sample = (sampledAt: number, liveChannels: number, viewers: number, complete = true, category = 'Art'): CompetitionSample =>
  ({ platform: 'twitch', categoryId: '509660', category, sampledAt, liveChannels, viewers, complete });

/**
 * A category whose directory has 10 live channels at every sample and 999 viewers on Mondays, Wednesdays,
 * Fridays and Sundays, 1,999 on the other days: log((viewers + 1) / channels) = ln 100 or ln 200. Over the
 * 168 slots (4 days of ln 100, 3 of ln 200) the mean is ln 100 + (3/7)·ln 2, so the index is −(3/7)·ln 2
 * on the quiet days and +(4/7)·ln 2 on the busy ones.
 */
const busy = (t: number) => Math.floor(hourOfWeek(t) / 24) % 2 === 1;
const INDEX_BUSY = (4 / 7) * Math.LN2;
const INDEX_QUIET = -(3 / 7) * Math.LN2;
function categorySamples(): CompetitionSample[] {
  const out: CompetitionSample[] = [];
  for (let t = MONDAY; t < END; t += 10 * 60_000) out.push(sample(t, 10, busy(t) ? 1999 : 999));
  return out;
}

/** Live 20:00–21:00 UTC every day for 28 days before END; viewers + 1 = 100 · e^(γ · index). */
function channel(gamma: number, competition?: Map<string, CompetitionSample[]>, id = 'c1'): ChannelHistory {
  const h: ChannelHistory = { platform: 'twitch', channelId: id, sessions: [], hours: [], ...(competition ? { competition } : {}) };
  for (let d = 28; d >= 1; d--) {
    const start = END - d * DAY_MS + 20 * HOUR_MS;
    const v = 100 * Math.exp(gamma * (busy(start) ? INDEX_BUSY : INDEX_QUIET)) - 1;
    h.sessions.push({ streamId: `s${d}`, startedAt: start, endedAt: start + HOUR_MS, avgViewers: v, peakViewers: v, category: 'Art' });
    h.hours.push({ hourStart: start, viewers: v, liveMinutes: 60, followers: 1000 });
  }
  return h;
}

describe('category competition feature (pure, hand-computed)', () => {
  it('the index: per UTC hour of the week, mean log viewers per live channel, centred over the sampled slots', () => {
    const asOf = MONDAY + 7 * DAY_MS;
    const mon20 = MONDAY + 20 * HOUR_MS;
    const tue20 = MONDAY + DAY_MS + 20 * HOUR_MS;
    const samples = [
      sample(mon20, 10, 999), // ln 100, ln 10
      sample(mon20 + 10 * 60_000, 10, 1999), // ln 200, ln 10
      sample(tue20, 40, 3999), // ln 100, ln 40
      sample(tue20 + 10 * 60_000, 40, 99_999, false), // incomplete (page cap): left out
      sample(asOf, 1, 1_000_000), // at asOf: not yet known
      sample(asOf - 29 * DAY_MS, 1, 1_000_000), // older than the 28-day lookback
    ].sort((a, b) => a.sampledAt - b.sampledAt);
    const index = competitionIndexAsOf(samples, asOf)!;
    expect(index.samples).toBe(3);
    // Slot means ln √20000 and ln 100: centred, ±(ln √2)/2 = ±ln 2 / 4.
    expect(index.vpc[20]).toBeCloseTo(Math.LN2 / 4, 12);
    expect(index.vpc[44]).toBeCloseTo(-Math.LN2 / 4, 12);
    expect(index.vpc.filter((x, how) => how !== 20 && how !== 44 && x !== 0)).toEqual([]);
    expect(competitionIndexAsOf(samples, asOf - 40 * DAY_MS)).toBeNull(); // nothing sampled before it
  });

  it('a channel of a sampled category gets the index as of its instant; its profile follows it with the pooled coefficient', () => {
    const samples = competitionByCategory(categorySamples());
    const ctx = channelContext(channel(0.7, samples), END);
    if (!ctx.ok) throw new Error('context');
    const index = ctx.ctx.competition!;
    expect(index.vpc[20]).toBeCloseTo(INDEX_QUIET, 12); // Monday
    expect(index.vpc[24 + 20]).toBeCloseTo(INDEX_BUSY, 12); // Tuesday
    // Two channels whose audiences follow the index with coefficient 0.7 (and nothing else): the pooled coefficient is 0.7.
    const other = channelContext(channel(0.7, samples, 'c2'), END);
    if (!other.ok) throw new Error('context');
    expect(pooledCompetitionPrior([ctx.ctx, other.ctx])).toBeCloseTo(0.7, 4);
    // With that prior the fit is exact: at 20:00 on a busy day 100 · e^(0.7 · 4/7 · ln 2) − 1 = 100 · 2^0.4 − 1, on a quiet one 100 · 2^-0.3 − 1.
    const fit = channelProfile(ctx.ctx, { competitionPrior: 0.7 });
    const tue = END + DAY_MS + 20 * HOUR_MS; // END is a Monday 00:00
    expect(busy(tue)).toBe(true);
    expect(profileHour(fit, tue)).toBeCloseTo(100 * 2 ** 0.4 - 1, 6);
    expect(profileHour(fit, tue + DAY_MS)).toBeCloseTo(100 * 2 ** -0.3 - 1, 6);
  });

  it('neutral without samples: no index, and the same profile and features as a channel that never had any', () => {
    const plain = channel(0.7);
    const otherCategory = channel(0.7, competitionByCategory(categorySamples().map((s) => ({ ...s, category: 'Music' }))));
    const a = channelContext(plain, END);
    const b = channelContext(otherCategory, END);
    if (!a.ok || !b.ok) throw new Error('context');
    expect(a.ctx.competition).toBeNull();
    expect(b.ctx.competition).toBeNull();
    expect(channelProfile(b.ctx).coef).toEqual(channelProfile(a.ctx).coef);
    expect(channelProfile(a.ctx).extra).toBeUndefined();
    const vocab = buildVocabulary(['twitch'], ['Art']);
    expect(viewerFeatures(b.ctx, END + 20 * HOUR_MS, HOUR_MS, null, vocab, { competitionPrior: 0.7 })).toEqual(viewerFeatures(a.ctx, END + 20 * HOUR_MS, HOUR_MS, null, vocab));
    expect(profileEstimate(b.ctx, END + 20 * HOUR_MS, HOUR_MS, { competitionPrior: 0.7 }, 'median')).toBe(profileEstimate(a.ctx, END + 20 * HOUR_MS, HOUR_MS, {}, 'median'));
    expect(pooledCompetitionPrior([a.ctx, b.ctx])).toBe(0);
  });
});
