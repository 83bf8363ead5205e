/**
 * One machine-readable line per bench run, `BENCH_RESULT {json}`, that bench/report.ts collects into
 * bench/reports/latest.{md,json}. The human-readable output of each bench stays as it is.
 */
export interface BenchFigure {
  /** What was measured, e.g. "processor events/s". */
  name: string;
  value: number;
  unit: string;
  /** What the same run measured as the baseline for this figure, and its value. */
  baseline: string;
  baselineValue: number;
  /** value / baselineValue (for latencies >1 means slower than the baseline). */
  ratio: number;
}

export interface BenchResult {
  bench: string;
  /** The sizes this run used (--rows, CLIENTS, …), so a report says what it measured. */
  params: Record<string, number | string>;
  figures: BenchFigure[];
  /** Optional markdown the report prints under the bench's name (e.g. the models' per-seed tables). */
  details?: string;
}

export const BENCH_RESULT_MARK = 'BENCH_RESULT ';

export function figure(name: string, value: number, unit: string, baseline: string, baselineValue: number): BenchFigure {
  return { name, value, unit, baseline, baselineValue, ratio: baselineValue ? value / baselineValue : NaN };
}

export function emitBenchResult(result: BenchResult): void {
  console.log(BENCH_RESULT_MARK + JSON.stringify(result));
}

/** One bench as bench/report.ts ran it (an entry of bench/reports/latest.json). */
export interface BenchOutcome {
  name: string;
  command: string;
  seconds: number;
  /** The wall-time budget report.ts gives this bench on a quiet 2-core box. */
  budgetS?: number;
  exitCode: number | null;
  /** When this bench ran and the 1/5/15-min load average then (a --only run replaces single entries). */
  startedAt?: string;
  loadAtStart?: string;
  result?: BenchResult;
  error?: string;
}

export interface BenchMachine {
  cpus: number;
  cpuModel: string;
  memGb: string;
  node: string;
  platform?: string;
  loadAtStart: string;
  loadAtEnd?: string;
  startedAt: string;
  finishedAt?: string;
  /** --only runs merged into this report after the full run, newest last. */
  partialRuns?: Array<{ benches: string[]; startedAt: string; loadAtStart: string }>;
}

/** bench/reports/latest.json. */
export interface BenchReport {
  machine: BenchMachine;
  benches: BenchOutcome[];
}
