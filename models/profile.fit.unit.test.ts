import { fitProfile, pooledWeekdayPrior, profileHour, PROFILE_RIDGE_WEEKDAY, streamDay } from './profile.fit';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Monday 2026-11-02 00:00 UTC. */
const MON = Date.UTC(2026, 10, 2);

/** One live hour at `hour` UTC on each of `days` consecutive days from MON, viewers by day. */
const daily = (hour: number, days: number, viewers: (day: number) => number) =>
  Array.from({ length: days }, (_, d) => ({ hourStart: MON + d * DAY + hour * HOUR, viewers: viewers(d) }));

describe('profile fit: a smooth daily curve plus weekday effects per channel', () => {
  it('the stream day starts in the quiet hours before the channel goes live, so a stream past midnight UTC stays on one day', () => {
    // Live 22:00–01:00 UTC every day: hours 02–21 are quiet; the day starts at the end of that run (21:00).
    const hours = [22, 23, 24, 25].flatMap((h) => daily(h, 14, () => 100));
    const fit = fitProfile(hours);
    expect(fit.dayStartHour).toBe(21);
    const sat23 = MON + 5 * DAY + 23 * HOUR;
    expect(streamDay(sat23 + 2 * HOUR, fit.dayStartHour)).toBe(streamDay(sat23, fit.dayStartHour));
    expect(streamDay(sat23 + 23 * HOUR, fit.dayStartHour)).not.toBe(streamDay(sat23, fit.dayStartHour));
  });

  it('a constant audience is fitted exactly, at hours and on days it was never seen too (no residual, no penalty)', () => {
    const fit = fitProfile([19, 20, 21].flatMap((h) => daily(h, 10, () => 250)));
    expect(fit.scale).toBeCloseTo(1, 8);
    for (const t of [MON + 20 * HOUR, MON + 3 * HOUR, MON + 12 * DAY + 7 * HOUR]) expect(profileHour(fit, t)).toBeCloseTo(250, 5);
  });

  it('weekday effects equal to the prior are kept exactly, also on a weekday the channel never streamed', () => {
    const prior = [0.2, -0.1, 0, 0, 0.1, -0.2, 0];
    // 20:00 UTC on 6 weekdays of two weeks; the day starts at 19:00, so the hour's stream day is its UTC day.
    const hours = daily(20, 14, (d) => Math.exp(Math.log(100) + prior[streamDay(MON + d * DAY + 20 * HOUR, 19)]!) - 1).filter((x) => streamDay(x.hourStart, 19) !== 5);
    const fit = fitProfile(hours, { weekdayPrior: prior });
    expect(fit.dayStartHour).toBe(19);
    const unseen = daily(20, 7, () => 0).find((x) => streamDay(x.hourStart, 19) === 5)!.hourStart;
    expect(profileHour(fit, unseen)).toBeCloseTo(100 * Math.exp(-0.2) - 1, 6);
  });

  it('the pooled prior is each day\'s mean log residual after the daily curve, hand-computed: +ln(7/4) on the doubled day, −ln(8/7) on the others', () => {
    // v + 1 = 100 every day at 20:00 UTC, 200 on one stream day; 4 weeks, so every day is seen 4 times.
    const doubled = streamDay(MON + 20 * HOUR, 19);
    const channel = daily(20, 28, (d) => (streamDay(MON + d * DAY + 20 * HOUR, 19) === doubled ? 199 : 99));
    // The daily fit alone is the intercept mean(log(v+1)) = ln 100 + ln2/7, times scale = mean(v+1)/e^mean = (8/7)/2^(1/7):
    // the residual is ln 2 − ln2/7 − ln(8/7) + ln2/7 = ln(7/4) on the doubled day and −ln2/7 − ln(8/7) + ln2/7 = −ln(8/7) elsewhere.
    const prior = pooledWeekdayPrior([channel, channel.map((x) => ({ ...x }))]);
    prior.forEach((p, d) => expect(p).toBeCloseTo(d === doubled ? Math.log(7 / 4) : -Math.log(8 / 7), 6));
  });

  it('a channel\'s own weekday effect is its mean deviation shrunk by n / (n + PROFILE_RIDGE_WEEKDAY), hand-computed', () => {
    const boost = Math.log(1.5);
    // 20:00 UTC daily for 8 weeks (each weekday seen 8 times); on one weekday ×1.5 in the last `boosted` weeks only.
    // One hour of the day: the harmonics are constants the free intercept absorbs, so the fit is a + w[day] with
    // ridge 150 on w: w[day] − w[other] = 8 / (8 + 150) · (mean log difference boosted · ln 1.5 / 8) = boosted · ln 1.5 / 158.
    const effect = (boosted: number) => {
      const fit = fitProfile(daily(20, 56, (d) => (d % 7 === 3 && d >= 56 - 7 * boosted ? 150 : 100) - 1));
      return Math.log((profileHour(fit, MON + 3 * DAY + 20 * HOUR) + 1) / (profileHour(fit, MON + 2 * DAY + 20 * HOUR) + 1));
    };
    expect(PROFILE_RIDGE_WEEKDAY).toBe(150);
    expect(effect(1)).toBeCloseTo(boost / 158, 6);
    expect(effect(8)).toBeCloseTo((8 * boost) / 158, 6);
  });
});
