/**
 * Split-conformal calibration of the 80 % intervals. A model's own spread (the timing model's Gaussian
 * head, a fixed log-space band for viewers) is only a shape: on a calibration period after its training
 * data and before the holdout, we take the nonconformity scores (|error| / spread) and use their
 * ⌈(n + 1)·coverage⌉-th smallest as the interval's half-width in spreads. If calibration and holdout
 * are exchangeable, the interval then covers `coverage` of new samples — measured, not assumed, on the
 * holdout (`interval80_coverage`).
 */
export const INTERVAL_COVERAGE = 0.8;
/** Days before the holdout that calibrate the intervals (the models train on what comes before). */
export const CALIBRATION_DAYS = 7;

export function conformalQuantile(scores: number[], coverage = INTERVAL_COVERAGE): number {
  const finite = scores.filter((s) => Number.isFinite(s)).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const rank = Math.ceil((finite.length + 1) * coverage);
  return finite[Math.min(finite.length, rank) - 1]!;
}

/** Share of samples whose actual value lies in [low, high]. */
export function coverage(actual: number[], low: number[], high: number[]): number {
  if (actual.length === 0) return NaN;
  return actual.filter((y, i) => y >= low[i]! && y <= high[i]!).length / actual.length;
}

/** A log-space band around a point prediction of viewers: [(p+1)·e^-q - 1, (p+1)·e^q - 1], floored at 0. */
export function logBand(predicted: number, q: number): { low: number; high: number } {
  return { low: Math.max(0, (predicted + 1) * Math.exp(-q) - 1), high: Math.max(0, (predicted + 1) * Math.exp(q) - 1) };
}

/** The nonconformity score of a viewer prediction in log space. */
export const logError = (actual: number, predicted: number): number => Math.abs(Math.log((actual + 1) / (predicted + 1)));

/**
 * Normalised conformal scores: a prediction from a context that has seen n sessions is unsure by
 * σ²·(1 + κ/n) — the audience's own session-to-session swing σ² plus the error of estimating the
 * channel from n noisy sessions, which shrinks as 1/n. A score divided by √(1 + κ/n) is then
 * exchangeable between young and old contexts, and one conformal quantile q gives every prediction
 * its own half-width q·√(1 + κ/n): wider for a channel seen a few times, narrower for one seen often.
 */
export const inflation = (kappa: number, sessions: number): number => Math.sqrt(1 + kappa / Math.max(1, sessions));

/**
 * κ from the calibration scores themselves, by least squares of score² = a + b/n (κ = b/a, never
 * below 0): no constant to tune. Fewer than 2 distinct n, or a ≤ 0: 0 (the plain conformal band).
 */
export function fitInflation(scores: number[], sessions: number[]): number {
  const xs = sessions.map((n) => 1 / Math.max(1, n));
  const ys = scores.map((e) => e * e);
  const m = xs.length;
  if (m < 2) return 0;
  const mx = xs.reduce((a, x) => a + x, 0) / m;
  const my = ys.reduce((a, y) => a + y, 0) / m;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < m; i++) {
    sxx += (xs[i]! - mx) ** 2;
    sxy += (xs[i]! - mx) * (ys[i]! - my);
  }
  if (sxx <= 0) return 0;
  const b = sxy / sxx;
  const a = my - b * mx;
  return a > 0 && b > 0 ? b / a : 0;
}
