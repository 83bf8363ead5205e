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
