import { chooseWeekdayLabels, fitProfile, localMidnight, pooledWeekdayPrior, profileHour, PROFILE_RIDGE_WEEKDAY, streamDay } from './profile.fit';

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

/**
 * A creator at UTC offset `off` live every day from 18:00 to 02:00 local for `days` days from MON; the
 * hour's viewers follow the local daily curve (peak at the 20:00–21:00 local hour) times a weekday factor:
 * `day` = the hour's own local calendar day (epoch days, 0 = Thursday), or the local day its stream began.
 */
const localAudience = (off: number, days: number, weekday: (localDay: number) => number, by: 'clock' | 'stream') => {
  const out: Array<{ hourStart: number; viewers: number }> = [];
  for (let d = 0; d < days; d++) {
    const localDay = Math.floor(MON / DAY) + d;
    for (let l = 18; l < 26; l++) {
      const hourStart = localDay * DAY + (l - off) * HOUR;
      const clockDay = localDay + Math.floor(l / 24);
      const curve = Math.exp(0.5 * Math.cos((2 * Math.PI * (l + 0.5 - 20.5)) / 24));
      out.push({ hourStart, viewers: 100 * curve * weekday(by === 'clock' ? clockDay : localDay) - 1 });
    }
  }
  return out;
};
const saturdays = (day: number) => (((day % 7) + 7) % 7 === 2 ? 2 : 1);

describe('weekday labels: stream days, or the local days of a time zone estimated from the daily curve', () => {
  it('the local midnight is the UTC hour the daily curve peaks at minus the local peak hour, wrapped to −12…11, hand-computed', () => {
    // log(v + 1) = ln 100 + 0.5·cos(2π(h + 0.5 − 3.5)/24): the hour starting 03:00 UTC is the peak.
    const hours = Array.from({ length: 14 * 24 }, (_, i) => ({ hourStart: MON + i * HOUR, viewers: 100 * Math.exp(0.5 * Math.cos((2 * Math.PI * ((i % 24) - 3)) / 24)) - 1 }));
    const daily = fitProfile(hours, { ridgeWeekday: 1e9 });
    expect(localMidnight(daily, 20)).toBe(7); // 03 − 20 = −17 ≡ 07: UTC−7, whose 20:00 is 03:00 UTC
    expect(localMidnight(daily, 2)).toBe(1); // 03 − 02 = 01: UTC−1, whose 02:00 is 03:00 UTC
    expect(localMidnight(daily, 16)).toBe(11); // −13 ≡ 11 (UTC−11)
    expect(localMidnight(daily, 14)).toBe(-11); // −11 (UTC+11)
    const fit = fitProfile(hours, { localPeakHour: 20 });
    expect(fit.dayStartHour).toBe(7);
    expect(streamDay(MON + 6 * HOUR, fit.dayStartHour)).not.toBe(streamDay(MON + 7 * HOUR, fit.dayStartHour));
    expect(streamDay(MON + 7 * HOUR, fit.dayStartHour)).toBe(streamDay(MON + 30 * HOUR, fit.dayStartHour));
  });

  it('audiences in four time zones that follow their local week: the local peak hour and the pooled weekend are found, and every hour fits', () => {
    const channels = [-8, -5, 0, 9].map((off) => localAudience(off, 28, saturdays, 'clock'));
    const labels = chooseWeekdayLabels(channels);
    expect(labels.localPeakHour).toBe(20);
    // Saturday (epoch day mod 7 = 2) doubled on every channel's own local Saturday: +ln 2 over each other day.
    for (let d = 0; d < 7; d++) if (d !== 2) expect(labels.weekdayPrior[2]! - labels.weekdayPrior[d]!).toBeCloseTo(Math.log(2), 2);
    const streamDays = { weekdayPrior: pooledWeekdayPrior(channels) };
    for (const hours of channels) {
      const fit = fitProfile(hours, labels);
      // Nearly exact (the ridges shrink a little); stream days, which put a Saturday stream's hours after local midnight on Saturday, fit far worse.
      expect(fit.residualSd).toBeLessThan(0.02);
      expect(fitProfile(hours, streamDays).residualSd).toBeGreaterThan(10 * fit.residualSd);
      const satLate = hours.find((x) => streamDay(x.hourStart, fit.dayStartHour) === 3 && streamDay(x.hourStart - HOUR, fit.dayStartHour) === 2 && hours.some((y) => y.hourStart === x.hourStart - HOUR))!;
      expect(profileHour(fit, satLate.hourStart) / satLate.viewers).toBeCloseTo(1, 1);
    }
  });

  it('audiences that follow the day their stream began: each stream stays on one day (stream days, or local days that change after the streams end) and every hour fits', () => {
    const channels = [-8, -5, 0, 9].map((off) => localAudience(off, 28, saturdays, 'stream'));
    const labels = chooseWeekdayLabels(channels);
    for (const hours of channels) {
      const fit = fitProfile(hours, labels);
      expect(fit.residualSd).toBeLessThan(0.02);
      // Every stream is 8 consecutive hours from its first (the list is in stream order).
      for (let i = 0; i < hours.length; i += 8) {
        const days = new Set(hours.slice(i, i + 8).map((x) => streamDay(x.hourStart, fit.dayStartHour)));
        expect(days.size).toBe(1);
      }
    }
  });
});
