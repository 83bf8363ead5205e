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
  ms: { decode: number; state: number; verify: number; clickhouse: number; kafka: number; commit: number };
}

export const newProcessorStats = (): ProcessorStats => ({
  processed: 0, late: 0, dlq: 0, clamped: 0, earlyFirings: 0, windows: 0, flushes: 0, commits: 0, retries: 0, verifications: 0,
  ms: { decode: 0, state: 0, verify: 0, clickhouse: 0, kafka: 0, commit: 0 },
});
