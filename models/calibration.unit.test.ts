import { conformalQuantile, coverage, logBand, logError } from './calibration';

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
});
