import { bestSlotChances, rankByChance, rankNoiseOf, recommendationOrder } from './slot-ranking';

/** Log errors of 6 channels × 3 streams × 3 hours: channel offset + stream effect (−d, 0, +d) + hour effect (−h, 0, +h). */
function errors(d: number, h: number) {
  const out: Array<{ channel: string; stream: string; error: number }> = [];
  for (let c = 0; c < 6; c++) {
    for (let s = 0; s < 3; s++) {
      for (let k = 0; k < 3; k++) out.push({ channel: `c${c}`, stream: `s${s}`, error: 0.5 * c + (s - 1) * d + (k - 1) * h });
    }
  }
  return out;
}

describe('slot ranking: the chance of each slot being the best, with the hours of a stream day moving together', () => {
  it('splits errors into the stream day part and the hour part, hand-computed, with each channel level taken out', () => {
    // Within streams: Σ(x − m)² = 2h² per stream, 18 streams, 36 degrees of freedom → h².
    // Stream means around their channel's: 2d² per channel, 6 channels, 12 degrees of freedom → d², less h²/3 (means of 3 hours).
    const n = rankNoiseOf(errors(0.3, 0.06))!;
    expect(n.hour).toBeCloseTo(0.06, 10);
    expect(n.day).toBeCloseTo(Math.sqrt(0.09 - 0.0036 / 3), 10);
    // No stream effect at all: the day part is 0, never negative.
    expect(rankNoiseOf(errors(0, 0.06))!.day).toBe(0);
  });

  it('gives no split from too few streams (fewer than 10 degrees of freedom between streams)', () => {
    expect(rankNoiseOf(errors(0.3, 0.06).filter((e) => e.channel < 'c2'))).toBeNull();
    expect(rankNoiseOf([])).toBeNull();
  });

  it('chances sum to 1, repeat exactly for the same inputs, and go to the clear best without noise', () => {
    const mu = [1, 1.2, 0.9, 1.1];
    const days = [0, 0, 1, 1];
    const a = bestSlotChances(mu, days, { day: 0.2, hour: 0.06 });
    expect(a.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 10);
    expect(bestSlotChances(mu, days, { day: 0.2, hour: 0.06 })).toEqual(a);
    expect(bestSlotChances(mu, days, { day: 0, hour: 1e-9 })).toEqual([0, 1, 0, 0]);
  });

  it('a day shared by three strong hours splits its chance among them, so the top 3 covers the likeliest days', () => {
    // Saturday's three hours are each a little better than Friday's and Sunday's one hour, but they share one swing.
    const mu = [1.0, 1.01, 1.0, 0.97, 0.96];
    const days = [6, 6, 6, 5, 7];
    const chances = bestSlotChances(mu, days, { day: 0.2, hour: 0.01 });
    const order = recommendationOrder(mu.map((m, i) => ({ medianViewers: m, bestChance: chances[i]! })));
    // First the best typical outcome (Saturday's middle hour), then Friday and Sunday: three days.
    expect(order.slice(0, 3)).toEqual([1, 3, 4]);
    const byMedian = recommendationOrder(mu.map((m) => ({ medianViewers: m })));
    expect(byMedian.slice(0, 3)).toEqual([1, 0, 2]);
    // The chance that the week's best slot is in the top 3: higher for the spread picks.
    const inTop3 = (o: number[]) => o.slice(0, 3).reduce((a, i) => a + chances[i]!, 0);
    expect(inTop3(order)).toBeGreaterThan(inTop3(byMedian) + 0.1);
  });

  it('with independent hours the chance ranks as the median does', () => {
    const mu = [1.0, 1.1, 1.05, 0.9, 0.85];
    const chances = bestSlotChances(mu, [6, 6, 6, 5, 7], { day: 0, hour: 0.05 });
    expect(recommendationOrder(mu.map((m, i) => ({ medianViewers: m, bestChance: chances[i]! })))).toEqual([1, 2, 0, 3, 4]);
  });

  it('ranks without chances by the median, ties by position, and turns the order into rank points', () => {
    expect(recommendationOrder([{ medianViewers: 5 }, { medianViewers: 9 }, { medianViewers: 5 }])).toEqual([1, 0, 2]);
    // The first pick is the best median even when another slot has the higher chance.
    const slots = [{ medianViewers: 10, bestChance: 0.2 }, { medianViewers: 8, bestChance: 0.5 }, { medianViewers: 9, bestChance: 0.3 }];
    expect(recommendationOrder(slots)).toEqual([0, 1, 2]);
    expect(rankByChance(slots)).toEqual([3, 2, 1]);
    expect(recommendationOrder([])).toEqual([]);
  });
});
