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
  /** UTC hour of day at which the channel's stream day starts (its least-live hour). */
  dayStartHour: number;
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
}

export function fitProfile(hours: Array<{ hourStart: number; viewers: number }>, o: ProfileOptions = {}): ProfileFit {
  const DENSE = 1 + 2 * PROFILE_HARMONICS + (o.extra ? 1 : 0);
  const PARAMS = DENSE + 7;
  const extraPrior = o.extra ? (o.extraPrior ?? 0) : 0;
  const ridgeDaily = o.ridgeDaily ?? PROFILE_RIDGE_DAILY;
  const ridgeWeekday = o.ridgeWeekday ?? PROFILE_RIDGE_WEEKDAY;
  const prior = o.weekdayPrior ?? [0, 0, 0, 0, 0, 0, 0];
  const count = new Array<number>(24).fill(0);
  for (const x of hours) count[Math.floor((((x.hourStart % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS)]!++;
  // The quietest hour starts the day; among equally quiet hours, the one after the longest quiet run ends.
  let dayStartHour = 0;
  let best = -1;
  for (let h = 0; h < 24; h++) {
    let run = 0;
    while (run < 24 && count[(h - 1 - run + 48) % 24] === 0) run++;
    const score = (count[h] === Math.min(...count) ? 100 : 0) + run;
    if (count[h] === Math.min(...count) && score > best) {
      best = score;
      dayStartHour = h;
    }
  }
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
  for (let i = 1; i < PARAMS; i++) xtx[i]![i]! += i <= 2 * PROFILE_HARMONICS ? ridgeDaily : i < DENSE ? (o.ridgeExtra ?? PROFILE_RIDGE_EXTRA) : ridgeWeekday;
  // The intercept is left free; a tiny ridge keeps the system solvable with one hour.
  xtx[0]![0]! += 1e-9;
  const coef = solve(xtx, xty);
  const residual = rows.map(({ x, y }) => y - x.reduce((a, xi, i) => a + xi * coef[i]!, 0));
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
  return { coef, prior, dayStartHour, ...(o.extra ? { extra: o.extra } : {}), scale: fitted > 0 ? actual / fitted : 1, residualSd: rows.length > 1 ? Math.sqrt(ss / (rows.length - 1)) : 0, hours: rows.length };
}

/** The profile's expected viewers in the UTC hour starting at `hourStart`. */
export function profileHour(fit: ProfileFit, hourStart: number): number {
  const x = design(hourStart, fit.dayStartHour, fit.extra);
  const f = x.reduce((a, xi, i) => a + xi * fit.coef[i]!, 0) + fit.prior[streamDay(hourStart, fit.dayStartHour)]!;
  return Math.max(0, fit.scale * Math.exp(f) - 1);
}

/**
 * Weekday effects shared by every channel, from their own histories: each channel's mean log residual
 * per stream day after its daily curve alone (no weekday terms), averaged over channels. Audiences are
 * higher on some days for everyone (weekends); one channel sees each weekday only a few times, all
 * channels together see it often, so a channel's own weekday effects are shrunk toward these.
 */
export function pooledWeekdayPrior(channels: Array<Array<{ hourStart: number; viewers: number }>>): number[] {
  const sum = new Array<number>(7).fill(0);
  const n = new Array<number>(7).fill(0);
  for (const hours of channels) {
    if (hours.length === 0) continue;
    const daily = fitProfile(hours, { ridgeWeekday: 1e9 });
    const s = new Array<number>(7).fill(0);
    const c = new Array<number>(7).fill(0);
    for (const x of hours) {
      const d = streamDay(x.hourStart, daily.dayStartHour);
      s[d]! += Math.log((x.viewers + 1) / (profileHour(daily, x.hourStart) + 1));
      c[d]!++;
    }
    for (let d = 0; d < 7; d++) {
      if (c[d] === 0) continue;
      sum[d]! += s[d]! / c[d]!;
      n[d]!++;
    }
  }
  return sum.map((s, d) => (n[d] ? s / n[d]! : 0));
}
