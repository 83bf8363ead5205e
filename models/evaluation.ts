/**
 * Evaluation arithmetic, kept pure so the unit tests can check it by hand.
 */

export function mae(actual: number[], predicted: number[]): number {
  if (actual.length === 0) return NaN;
  return actual.reduce((a, y, i) => a + Math.abs(y - predicted[i]!), 0) / actual.length;
}

/** Mean absolute percentage error; an actual below 1 viewer counts as 1 so a tiny stream cannot blow it up. */
export function mape(actual: number[], predicted: number[]): number {
  if (actual.length === 0) return NaN;
  return actual.reduce((a, y, i) => a + Math.abs(y - predicted[i]!) / Math.max(1, y), 0) / actual.length;
}

/**
 * Probability that slot `best` is among the top `k` of `scores` when ties are broken at random. Exact,
 * so a baseline that cannot tell slots apart (channel mean: every slot tied) scores exactly k/n — the
 * random rate — instead of whatever an index-order tie-break happens to give.
 */
export function expectedHitAtK(scores: number[], best: number, k = 3): number {
  const b = scores[best]!;
  let greater = 0;
  let equal = 0;
  for (const s of scores) {
    if (s > b) greater++;
    else if (s === b) equal++;
  }
  if (greater >= k) return 0;
  if (greater + equal <= k) return 1;
  return (k - greater) / equal;
}

export function argMax(xs: number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i;
  return best;
}

export const round = (x: number, digits = 4): number => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

/**
 * The oracle's point prediction of a session's average viewers: the MAE-optimal one given what the
 * simulator knows before the backfill's noise. The backfill (history.ts) multiplies a session's world
 * viewers by one log-normal factor exp(σ·Z − σ²/2) — mean 1, median exp(−σ²/2) — and every poll by a
 * jitter of mean 1 that averages out over the session's ≥ 180 polls; the world's own ±12 % smooth swing is
 * deterministic, so it is part of what the oracle knows. The observed average is then ≈ factor ×
 * `expected`, and the MAE-optimal point is the conditional median, exp(−σ²/2) × `expected` (0.980 at
 * σ 0.2) — not the mean, `expected` itself, which costs more absolute error in expectation.
 */
export function oracleViewers(expected: number, sessionNoise: number): number {
  return expected * Math.exp(-(sessionNoise * sessionNoise) / 2);
}
