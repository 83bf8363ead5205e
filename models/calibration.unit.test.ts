import { conformalQuantile, coverage, fitInflation, inflation, logBand, logError } from './calibration';

describe('interval calibration (split conformal, pure)', () => {
  it('takes the ⌈(n + 1)·0.8⌉-th smallest calibration score as the half-width', () => {
    // n = 9 → rank ⌈10 · 0.8⌉ = 8 → the 8th smallest of 1..9 is 8 (order of input does not matter).
    expect(conformalQuantile([9, 1, 8, 2, 7, 3, 6, 4, 5])).toBe(8);
    // n = 4 → rank ⌈5 · 0.8⌉ = 4 → the largest.
    expect(conformalQuantile([0.1, 0.4, 0.2, 0.3])).toBe(0.4);
    // n = 19 → rank 16.
    expect(conformalQuantile(Array.from({ length: 19 }, (_, i) => i + 1))).toBe(16);
    // Non-finite scores are ignored; none at all → NaN.
    expect(conformalQuantile([NaN, 2, Infinity, 1])).toBe(2);
    expect(conformalQuantile([])).toBeNaN();
  });

  it('a band calibrated on one sample covers ~80 % of a new sample from the same distribution', () => {
    // Deterministic "noise": log-errors spread evenly over [0, 1) in both periods.
    const calib = Array.from({ length: 99 }, (_, i) => ((i * 37) % 99) / 99);
    const q = conformalQuantile(calib); // rank 80 of 0/99 … 98/99 → 79/99
    expect(q).toBeCloseTo(79 / 99, 12);
    const predicted = 100;
    const actual = Array.from({ length: 100 }, (_, i) => (predicted + 1) * Math.exp(((i % 2 ? 1 : -1) * (i / 100))) - 1);
    const band = logBand(predicted, q);
    expect(band.low).toBeCloseTo(101 * Math.exp(-q) - 1, 9);
    expect(band.high).toBeCloseTo(101 * Math.exp(q) - 1, 9);
    // |log error| of actual i is i/100: inside when i/100 ≤ 79/99, i.e. i = 0 … 79 → 80 of 100.
    expect(coverage(actual, actual.map(() => band.low), actual.map(() => band.high))).toBe(0.8);
    expect(logError(actual[30]!, predicted)).toBeCloseTo(0.3, 9);
  });

  it('a band never goes below 0 viewers', () => {
    expect(logBand(0.5, 3).low).toBe(0);
  });

  it('widens the band of a young context: κ fitted from score² = a + b/n, half-width q·√(1 + κ/n)', () => {
    // score² = 0.04 + 0.08/n exactly (σ = 0.2, estimation variance 0.08/n): a = 0.04, b = 0.08 → κ = 2.
    const n = [1, 2, 4, 8, 2, 4];
    const scores = n.map((k) => Math.sqrt(0.04 + 0.08 / k));
    expect(fitInflation(scores, n)).toBeCloseTo(2, 9);
    // n = 2 → √(1 + 2/2) = √2; n = 8 → √1.25; n = 0 counts as 1.
    expect(inflation(2, 2)).toBeCloseTo(Math.SQRT2, 12);
    expect(inflation(2, 8)).toBeCloseTo(Math.sqrt(1.25), 12);
    expect(inflation(2, 0)).toBeCloseTo(Math.sqrt(3), 12);
    // Normalised, every score is 0.2: the conformal quantile is 0.2 and a context of n sessions gets 0.2·√(1 + 2/n).
    expect(conformalQuantile(scores.map((e, i) => e / inflation(2, n[i]!)))).toBeCloseTo(0.2, 12);
  });

  it('κ is 0 when errors do not shrink with n, when all n are equal, or with fewer than 2 scores', () => {
    expect(fitInflation([0.3, 0.1, 0.3, 0.1], [2, 2, 8, 8])).toBe(0);
    expect(fitInflation([0.1, 0.2, 0.3], [5, 5, 5])).toBe(0);
    expect(fitInflation([0.5], [1])).toBe(0);
    // Errors that grow with n (score² = 0.09 − 0.08/n … decreasing b < 0): no inflation either.
    expect(fitInflation([Math.sqrt(0.01), Math.sqrt(0.05), Math.sqrt(0.07)], [1, 2, 4])).toBe(0);
  });
});
