/**
 * How bench/report.ts orders its runs (pure): consecutive runs of one group start together, everything
 * else one after another, and the run's budget counts each group's longest bench once.
 */
export interface PlannedRun {
  name: string;
  /** Wall seconds this bench may take on a quiet 2-core box. */
  budgetS: number;
  /** Benches with the same group (and next to each other in the list) run at the same time. */
  group?: string;
}

/** The runs cut into batches: a batch is one bench, or consecutive benches of one group. Order kept. */
export function batches<R extends PlannedRun>(runs: readonly R[]): R[][] {
  const out: R[][] = [];
  for (let i = 0; i < runs.length;) {
    const group = runs[i]!.group;
    let j = i + 1;
    while (group !== undefined && j < runs.length && runs[j]!.group === group) j++;
    out.push(runs.slice(i, j));
    i = j;
  }
  return out;
}

/** The whole run's budget: each batch takes as long as its longest bench. */
export function totalBudget(runs: readonly PlannedRun[]): number {
  return batches(runs).reduce((a, b) => a + Math.max(...b.map((r) => r.budgetS)), 0);
}
