/**
 * Counters the tests and the benchmark read (`processor.stats`): what Prometheus counts too, but per
 * instance and without a registry, plus the wall-clock time per stage (the benchmark's "where the time
 * goes"). Nothing in the pipeline decides anything from them.
 */
export interface ProcessorStats {
  processed: number;
  late: number;
  dlq: number;
  clamped: number;
  earlyFirings: number;
  windows: number;
  flushes: number;
  commits: number;
  retries: number;
  verifications: number;
  /** Lane checks answered by a broker answer under a second old (pipeline/lanes.ts). */
  verificationsReused: number;
  /**
   * `clickhouse` is every ClickHouse step of a flush (wall time); `chWindows`, `chRollup` and `chSessionReads` are parts of it (the
   * metrics_1m/late insert, the hourly rollup, the session summary reads — the last two side by side, so they overlap).
   */
  ms: { decode: number; state: number; verify: number; clickhouse: number; chWindows: number; chRollup: number; chSessionReads: number; kafka: number; commit: number };
}

export const newProcessorStats = (): ProcessorStats => ({
  processed: 0, late: 0, dlq: 0, clamped: 0, earlyFirings: 0, windows: 0, flushes: 0, commits: 0, retries: 0, verifications: 0, verificationsReused: 0,
  ms: { decode: 0, state: 0, verify: 0, clickhouse: 0, chWindows: 0, chRollup: 0, chSessionReads: 0, kafka: 0, commit: 0 },
});
