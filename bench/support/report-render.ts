/**
 * Rendering of bench/reports/latest.json (pure: no I/O), used by bench/report.ts: the report's markdown
 * (latest.md), the README's "Latest run" table between its markers, and the merge of a `--only` run into
 * the previous report.
 */
import type { BenchMachine, BenchOutcome, BenchReport } from '../bench-result';

export const README_START = '<!-- bench:latest:start -->';
export const README_END = '<!-- bench:latest:end -->';

export class ReadmeMarkersError extends Error {
  constructor(readonly file: string) {
    super(`${file}: expected one "${README_START}" followed by one "${README_END}"`);
    this.name = 'ReadmeMarkersError';
  }
}

/** Thousands separators from 100 up, two decimals below; "n/a" for NaN/Infinity (an empty percentile). */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  return Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(2);
}

const ratio = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a');
const day = (iso: string | undefined) => (iso ? iso.slice(0, 10) : 'unknown date');

/** The figure table: one row per figure, one "failed" row per bench without a result. */
export function figureTable(benches: readonly BenchOutcome[]): string[] {
  const lines = ['| bench | figure | value | baseline (same run) | baseline value | ratio |', '|---|---|---:|---|---:|---:|'];
  for (const o of benches) {
    if (!o.result) {
      lines.push(`| ${o.name} | **failed: ${o.error ?? 'no result'}** | | | | |`);
      continue;
    }
    for (const f of o.result.figures) {
      lines.push(`| ${o.name} | ${f.name} | ${formatNumber(f.value)} ${f.unit} | ${f.baseline} | ${formatNumber(f.baselineValue)} ${f.unit} | ${ratio(f.ratio)} |`);
    }
  }
  return lines;
}

/** The machine, its load and the run's wall time (start to finish: benches of one group overlap). */
export function machineLine(m: BenchMachine): string {
  const wall = m.finishedAt ? `, ${((Date.parse(m.finishedAt) - Date.parse(m.startedAt)) / 1000).toFixed(0)} s wall in all` : '';
  return `Run on ${m.cpus} × ${m.cpuModel}, ${m.memGb} GB RAM, Node ${m.node}, load average at start ${m.loadAtStart} (1/5/15 min), at end ${m.loadAtEnd ?? 'n/a'} (${day(m.startedAt)}${wall}).`;
}

/** What goes between the README's markers: the figure table and the machine/load line of that run. */
export function readmeTable(report: BenchReport): string {
  return [...figureTable(report.benches), '', machineLine(report.machine)].join('\n');
}

/** `doc` with the text between its markers replaced by `content` (the markers stay). */
export function replaceBetweenMarkers(doc: string, content: string, file = 'README.md'): string {
  const start = doc.indexOf(README_START);
  const end = doc.indexOf(README_END);
  if (start < 0 || end < start || doc.indexOf(README_START, start + 1) >= 0 || doc.indexOf(README_END, end + 1) >= 0) throw new ReadmeMarkersError(file);
  return `${doc.slice(0, start + README_START.length)}\n${content}\n${doc.slice(end)}`;
}

/**
 * A `--only` run merged into the previous report: its benches replace the entries of the same name
 * (new names are appended), the rest keep their figures, and the machine records the partial run.
 */
export function mergeReport(previous: BenchReport | undefined, partial: BenchReport): BenchReport {
  if (!previous) return partial;
  const benches = previous.benches.map((o) => partial.benches.find((n) => n.name === o.name) ?? o);
  for (const n of partial.benches) if (!benches.some((o) => o.name === n.name)) benches.push(n);
  const run = { benches: partial.benches.map((o) => o.name), startedAt: partial.machine.startedAt, loadAtStart: partial.machine.loadAtStart };
  return { machine: { ...previous.machine, partialRuns: [...(previous.machine.partialRuns ?? []), run] }, benches };
}

/** bench/reports/latest.md. */
export function reportMarkdown(report: BenchReport): string {
  const { machine: m, benches } = report;
  const lines = [
    '# Benchmark report',
    '',
    `Generated ${m.finishedAt ?? m.startedAt} by \`npm run bench\` (bench/report.ts). Every figure is measured next to its baseline in the same run, on the same machine and load; the **ratio** (figure / baseline) is the comparable number, absolute figures are a floor (server, stack and load generator share the cores).`,
    '',
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memGb} GB RAM, Node ${m.node}, load average at start ${m.loadAtStart} (1/5/15 min), at end ${m.loadAtEnd ?? 'n/a'}.`,
  ];
  for (const p of m.partialRuns ?? []) lines.push('', `Re-run alone afterwards (\`--only\`): ${p.benches.join(', ')} at ${p.startedAt}, load average ${p.loadAtStart}.`);
  lines.push('', ...figureTable(benches));
  lines.push('', '## Runs', '', '| bench | command | sizes | wall s | budget s | status |', '|---|---|---|---:|---:|---|');
  for (const o of benches) {
    const params = o.result ? Object.entries(o.result.params).map(([k, v]) => `${k}=${v}`).join(', ') : '';
    lines.push(`| ${o.name} | \`${o.command}\` | ${params} | ${o.seconds.toFixed(0)} | ${o.budgetS ?? ''} | ${o.error ?? 'ok'} |`);
  }
  for (const o of benches) if (o.result?.details) lines.push('', `## ${o.name}`, '', o.result.details);
  lines.push('', 'Full output of each bench: `bench/reports/logs/<bench>.log`. Reproduce: `npm run bench` (or `npm run bench -- --only api,models`).', '');
  return lines.join('\n');
}
