import { batches, totalBudget } from './run-plan';

describe('bench run plan', () => {
  const runs = [
    { name: 'a', budgetS: 10 },
    { name: 'b', budgetS: 20, group: 'g' },
    { name: 'c', budgetS: 50, group: 'g' },
    { name: 'd', budgetS: 5 },
    { name: 'e', budgetS: 7, group: 'g' },
  ];

  it('runs consecutive benches of one group together and everything else alone, in order', () => {
    expect(batches(runs).map((b) => b.map((r) => r.name))).toEqual([['a'], ['b', 'c'], ['d'], ['e']]);
  });

  it('counts each batch at its longest bench: 10 + 50 + 5 + 7', () => {
    expect(totalBudget(runs)).toBe(72);
    expect(totalBudget([])).toBe(0);
  });
});
