/**
 * A channel's audience profile as a small log-linear regression over its own live hours:
 *
 *   log(viewers + 1) ≈ a + Σₖ bₖ·sin(2πk·h/24) + cₖ·cos(2πk·h/24) + w[stream day]
 *
 * h is the UTC hour of day, k = 1…HARMONICS: a daily curve is smooth, so a few harmonics describe it
 * with far fewer parameters than 24 (or 168) separate slot means — every live hour informs every hour
 * of the day, and a slot seen once or never still gets a sound estimate. The weekday effect is taken
 * on the channel's **stream day**, which starts at its quietest hour of the day (a stream running past
 * midnight UTC stays on the day it began, as it does for its audience), not on the UTC calendar day.
 * With a **local peak hour** P (pooled over the training channels, `chooseWeekdayLabels`) the weekday is
 * instead the calendar day of the channel's *estimated local time*: audiences peak at about the same local
 * hour everywhere, so the UTC hour at which the channel's own daily curve peaks, minus P, is its UTC
 * offset — and its days change at its local midnight, as its audience's week does (a stream past midnight
 * then counts its later hours to the next day). Which of the two labellings, and which P, is chosen by
 * the fit over every training channel: the data decides, not this comment.
 * The daily curve is ridge-shrunk toward flat; the weekday effects toward a **prior** — the effects
 * all channels share (`pooledWeekdayPrior`, stored with a trained model) — so a channel that saw a
 * weekday twice mostly keeps the shared effect and one that saw it often its own. Fitted on data
 * strictly before the context's `asOf` (features.ts `channelProfile`). Ridge strengths were chosen on
 * history seeds 11–15, not on the evaluation's seeds 1–5 (models/README.md).
 */
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export const PROFILE_HARMONICS = 2;
/** Ridge strength (in live hours) of the daily curve's and the weekday effects' coefficients. */
export const PROFILE_RIDGE_DAILY = 4;
export const PROFILE_RIDGE_WEEKDAY = 150;

export interface ProfileFit {
  /** Intercept, harmonics (sin, cos per k), [the extra regressor,] and 7 stream-day effects, in that order. */
  coef: number[];
  /** The extra regressor of the fit (the category competition index), absent without one. */
  extra?: (hourStart: number) => number;
  prior: number[];
  /**
   * Hours after UTC midnight at which the channel's weekday changes: its stream day's start (its least-live
   * hour, 0–23), or with a local peak hour its estimated local midnight (−12…11: minus its UTC offset).
   */
  dayStartHour: number;
  /** The fit's penalised squared log error (what the ridge regression minimises): labellings are compared by it. */
  objective: number;
  /** Σ(v+1) / Σ exp(fit) over the fitted hours: undoes the log-space bias, so it is unbiased in viewers. */
  scale: number;
  /** Standard deviation of the log residuals of the fitted hours. */
  residualSd: number;
  hours: number;
}

/**
 * Ridge strength (in live hours) of the extra regressor's coefficient (the competition index), toward
 * its prior (the coefficient pooled over the training channels, features.ts pooledCompetitionPrior).
 * Chosen on tuning seeds 11–15 in competition worlds (models/README.md): 20 / 100 / 300 gave a mean
 * share of the gap closed 0.750 / 0.759 / 0.759 at 4 weeks and 0.714 / 0.715 / 0.715 at 12, the worst
 * timing margin at 12 weeks 0.071 / 0.093 / 0.071.
 */
export const PROFILE_RIDGE_EXTRA = 100;

/** Stream day (0–6, days since epoch mod 7, shifted by the channel's day start) of an hour start. */
export function streamDay(hourStart: number, dayStartHour: number): number {
  const d = Math.floor((hourStart - dayStartHour * HOUR_MS) / DAY_MS);
  return ((d % 7) + 7) % 7;
}

function design(hourStart: number, dayStartHour: number, extra?: (hourStart: number) => number): number[] {
  const hod = (((hourStart % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS + 0.5;
  const x = [1];
  for (let k = 1; k <= PROFILE_HARMONICS; k++) {
    const a = (2 * Math.PI * k * hod) / 24;
    x.push(Math.sin(a), Math.cos(a));
  }
  if (extra) x.push(extra(hourStart));
  const day = streamDay(hourStart, dayStartHour);
  for (let d = 0; d < 7; d++) x.push(d === day ? 1 : 0);
  return x;
}

/** Solves A·x = b for a symmetric positive definite A (Gaussian elimination with partial pivoting). */
export function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const pivot = m[c]![c]!;
    for (let r = c + 1; r < n; r++) {
      const f = m[r]![c]! / pivot;
      if (f === 0) continue;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= m[r]![k]! * x[k]!;
    x[r] = s / m[r]![r]!;
  }
  return x;
}

/** Fits the profile on live hours (hour start, mean viewers). Needs at least one hour. */
export interface ProfileOptions {
  ridgeDaily?: number;
  ridgeWeekday?: number;
  /** Weekday effects to shrink toward (log scale, by stream day); default 0 (none). */
  weekdayPrior?: number[];
  /**
   * One more regressor of log viewers per hour (the category competition index, competition.feature.ts),
   * its coefficient shrunk (PROFILE_RIDGE_EXTRA) toward `extraPrior` (default 0). Absent: the fit without it.
   */
  extra?: (hourStart: number) => number;
  extraPrior?: number;
  ridgeExtra?: number;
  /**
   * Weekdays as local calendar days, the channel's UTC offset estimated as (the UTC hour its daily curve
   * peaks at) − this local hour. Absent or null: the stream day (starting at the channel's quietest hour).
   */
  localPeakHour?: number | null;
}

export function fitProfile(hours: Array<{ hourStart: number; viewers: number }>, o: ProfileOptions = {}): ProfileFit {
  if (o.localPeakHour == null) return fitOnDays(hours, quietHour(hours), o);
  // Where the daily curve alone peaks gives the local midnight.
  return fitOnDays(hours, localMidnight(dailyCurve(hours, o.ridgeDaily), o.localPeakHour), o);
}

/** The channel's daily curve alone: no weekday terms (so any labels give the same fit), no extra regressor. */
function dailyCurve(hours: Array<{ hourStart: number; viewers: number }>, ridgeDaily?: number): ProfileFit {
  return fitOnDays(hours, quietHour(hours), { ridgeDaily, ridgeWeekday: 1e9 });
}

/** The channel's estimated local midnight, in hours after UTC midnight (−12…11): its curve's peak (UTC) − the local peak hour. */
export function localMidnight(daily: ProfileFit, localPeakHour: number): number {
  const c = daily.coef;
  let best = -Infinity;
  let peak = 0;
  // design() places an hour's curve at its middle (h + 0.5); quarter hours are as fine as the estimate is.
  for (let q = 0; q < 96; q++) {
    const a = (2 * Math.PI * (q / 4)) / 24;
    let v = 0;
    for (let k = 1; k <= PROFILE_HARMONICS; k++) v += c[2 * k - 1]! * Math.sin(k * a) + c[2 * k]! * Math.cos(k * a);
    if (v > best) {
      best = v;
      peak = q / 4 - 0.5;
    }
  }
  return ((((Math.round(peak - localPeakHour) % 24) + 36) % 24) - 12);
}

/** UTC hour of day at which the channel's stream day starts: its least-live hour, after its longest quiet run. */
export function quietHour(hours: Array<{ hourStart: number }>): number {
  const count = new Array<number>(24).fill(0);
  for (const x of hours) count[Math.floor((((x.hourStart % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS)]!++;
  // The quietest hour starts the day; among equally quiet hours, the one after the longest quiet run ends.
  const least = Math.min(...count);
  let dayStartHour = 0;
  let best = -1;
  for (let h = 0; h < 24; h++) {
    let run = 0;
    while (run < 24 && count[(h - 1 - run + 48) % 24] === 0) run++;
    const score = (count[h] === least ? 100 : 0) + run;
    if (count[h] === least && score > best) {
      best = score;
      dayStartHour = h;
    }
  }
  return dayStartHour;
}

/** The ridge fit with the weekday changing `dayStartHour` hours after UTC midnight. */
function fitOnDays(hours: Array<{ hourStart: number; viewers: number }>, dayStartHour: number, o: ProfileOptions): ProfileFit {
  const DENSE = 1 + 2 * PROFILE_HARMONICS + (o.extra ? 1 : 0);
  const PARAMS = DENSE + 7;
  const extraPrior = o.extra ? (o.extraPrior ?? 0) : 0;
  const ridgeDaily = o.ridgeDaily ?? PROFILE_RIDGE_DAILY;
  const ridgeWeekday = o.ridgeWeekday ?? PROFILE_RIDGE_WEEKDAY;
  const prior = o.weekdayPrior ?? [0, 0, 0, 0, 0, 0, 0];
  const ridge = (i: number) => (i <= 2 * PROFILE_HARMONICS ? ridgeDaily : i < DENSE ? (o.ridgeExtra ?? PROFILE_RIDGE_EXTRA) : ridgeWeekday);
  const xtx = Array.from({ length: PARAMS }, () => new Array<number>(PARAMS).fill(0));
  const xty = new Array<number>(PARAMS).fill(0);
  // With a prior, the channel's own weekday effects are its deviations from the prior (shrunk toward 0).
  // A design row is dense in its first DENSE entries and one-hot (its stream day) after: only those are summed.
  // With an extra regressor its prior's part is taken out of the target too: the fit estimates the deviation from it.
  const rows = hours.map((x) => {
    const d = design(x.hourStart, dayStartHour, o.extra);
    return { x: d, y: Math.log(x.viewers + 1) - prior[streamDay(x.hourStart, dayStartHour)]! - (o.extra ? extraPrior * d[DENSE - 1]! : 0), v: x.viewers };
  });
  for (const { x, y } of rows) {
    const day = x.indexOf(1, DENSE);
    for (let k = 0; k <= DENSE; k++) {
      const i = k < DENSE ? k : day;
      xty[i]! += x[i]! * y;
      const row = xtx[i]!;
      for (let j = 0; j < DENSE; j++) row[j]! += x[i]! * x[j]!;
      row[day]! += x[i]!;
    }
  }
  for (let i = 1; i < PARAMS; i++) xtx[i]![i]! += ridge(i);
  // The intercept is left free; a tiny ridge keeps the system solvable with one hour.
  xtx[0]![0]! += 1e-9;
  const coef = solve(xtx, xty);
  const residual = rows.map(({ x, y }) => y - x.reduce((a, xi, i) => a + xi * coef[i]!, 0));
  let penalty = 0;
  for (let i = 1; i < PARAMS; i++) penalty += ridge(i) * coef[i]! ** 2;
  // Back to the regressor's own coefficient (deviation + prior).
  if (o.extra) coef[DENSE - 1]! += extraPrior;
  let actual = 0;
  let fitted = 0;
  let ss = 0;
  rows.forEach(({ x, v }, k) => {
    const fy = x.reduce((a, xi, i) => a + xi * coef[i]!, 0) + prior[x.slice(DENSE).indexOf(1)]!;
    actual += v + 1;
    fitted += Math.exp(fy);
    ss += residual[k]! ** 2;
  });
  return {
    coef, prior, dayStartHour, ...(o.extra ? { extra: o.extra } : {}), objective: ss + penalty,
    scale: fitted > 0 ? actual / fitted : 1, residualSd: rows.length > 1 ? Math.sqrt(ss / (rows.length - 1)) : 0, hours: rows.length,
  };
}

/** The profile's expected viewers in the UTC hour starting at `hourStart`. */
export function profileHour(fit: ProfileFit, hourStart: number): number {
  const x = design(hourStart, fit.dayStartHour, fit.extra);
  const f = x.reduce((a, xi, i) => a + xi * fit.coef[i]!, 0) + fit.prior[streamDay(hourStart, fit.dayStartHour)]!;
  return Math.max(0, fit.scale * Math.exp(f) - 1);
}

/**
 * Weekday effects shared by every channel, from their own histories: each channel's mean log residual
 * per weekday after its daily curve alone (no weekday terms), averaged over channels. Audiences are
 * higher on some days for everyone (weekends); one channel sees each weekday only a few times, all
 * channels together see it often, so a channel's own weekday effects are shrunk toward these. Weekdays
 * as `fitProfile` labels them with the same `localPeakHour` (absent: stream days).
 */
export function pooledWeekdayPrior(channels: Array<Array<{ hourStart: number; viewers: number }>>, localPeakHour: number | null = null): number[] {
  return poolResiduals(channels.filter((hours) => hours.length > 0).map(dailyResiduals), localPeakHour);
}

/** A channel's daily curve alone (no weekday terms: the same whatever the labels) and each hour's log residual after it. */
interface DailyResiduals {
  hours: Array<{ hourStart: number; viewers: number }>;
  daily: ProfileFit;
  residual: number[];
}

function dailyResiduals(hours: Array<{ hourStart: number; viewers: number }>): DailyResiduals {
  const daily = dailyCurve(hours);
  return { hours, daily, residual: hours.map((x) => Math.log((x.viewers + 1) / (profileHour(daily, x.hourStart) + 1))) };
}

/** Where the channel's weekday changes under a labelling (as fitProfile: the quiet hour, or the estimated local midnight). */
const dayStartOf = (c: DailyResiduals, localPeakHour: number | null): number => (localPeakHour === null ? c.daily.dayStartHour : localMidnight(c.daily, localPeakHour));

function poolResiduals(channels: DailyResiduals[], localPeakHour: number | null): number[] {
  const sum = new Array<number>(7).fill(0);
  const n = new Array<number>(7).fill(0);
  for (const c of channels) {
    const start = dayStartOf(c, localPeakHour);
    const s = new Array<number>(7).fill(0);
    const k = new Array<number>(7).fill(0);
    c.hours.forEach((x, i) => {
      const d = streamDay(x.hourStart, start);
      s[d]! += c.residual[i]!;
      k[d]!++;
    });
    for (let d = 0; d < 7; d++) {
      if (k[d] === 0) continue;
      sum[d]! += s[d]! / k[d]!;
      n[d]!++;
    }
  }
  return sum.map((x, d) => (n[d] ? x / n[d]! : 0));
}

/** How the training channels' weekdays are labelled, and the weekday effects they share under it. */
export interface WeekdayLabels {
  /** null: stream days; else weekdays as estimated local calendar days (ProfileOptions.localPeakHour). */
  localPeakHour: number | null;
  weekdayPrior: number[];
}

/**
 * The weekday labelling that fits the training channels best: stream days, or local days under a local peak
 * hour (every other hour, then the two beside the best) — each with its own pooled prior, scored by the sum over channels of their profile fits'
 * objective (the same penalised squared error, the same number of parameters). One choice for every
 * channel, from every channel's hours, stored with a model.
 */
export function chooseWeekdayLabels(channels: Array<Array<{ hourStart: number; viewers: number }>>): WeekdayLabels {
  const seen = channels.filter((hours) => hours.length > 0).map(dailyResiduals);
  let best: WeekdayLabels & { objective: number } = { localPeakHour: null, weekdayPrior: [0, 0, 0, 0, 0, 0, 0], objective: Infinity };
  const tryLabels = (localPeakHour: number | null) => {
    const weekdayPrior = poolResiduals(seen, localPeakHour);
    let objective = 0;
    for (const c of seen) objective += fitOnDays(c.hours, dayStartOf(c, localPeakHour), { weekdayPrior }).objective;
    if (objective < best.objective) best = { localPeakHour, weekdayPrior, objective };
  };
  // Every other hour, then the two beside the best: the objective moves smoothly with the boundary (a fit costs ~0.3 ms).
  for (const h of [null, ...Array.from({ length: 12 }, (_, k) => 2 * k)]) tryLabels(h);
  const coarse = best.localPeakHour;
  if (coarse !== null) for (const h of [(coarse + 23) % 24, (coarse + 1) % 24]) tryLabels(h);
  return { localPeakHour: best.localPeakHour, weekdayPrior: best.weekdayPrior };
}
