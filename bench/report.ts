/**
 * `npm run bench` (scripts/bench.sh): runs the benches below with short sizes, each within a wall-time
 * budget (seconds on a quiet 2-core box; the whole run ≤ 5 minutes), collects the `BENCH_RESULT {json}`
 * line each prints (bench/bench-result.ts) and writes one report: bench/reports/latest.md and
 * latest.json, plus each bench's full output under bench/reports/logs/. A full run also rewrites the
 * README's "Latest run" table between its markers (bench/support/report-render.ts); a `--only` run
 * merges its benches into latest.json/md by name and leaves the README alone, so the README's rows
 * always come from one run under one load.
 *   npx tsx bench/report.ts [--only api,models] [--no-readme]
 * A bench's own flags are listed in its header comment; bench/README.md has the budget table.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from '../shared/lifecycle/process.contract';
import { BENCH_RESULT_MARK, type BenchOutcome, type BenchReport, type BenchResult } from './bench-result';
import { mergeReport, readmeTable, replaceBetweenMarkers, reportMarkdown } from './support/report-render';
import { batches, type PlannedRun, totalBudget } from './support/run-plan';

interface BenchRun extends PlannedRun {
  file: string;
  args: string[];
  /** Extra environment: the gateway bench takes its sizes from the environment. */
  env?: Record<string, string>;
  /**
   * Only for benches whose figures are not CPU-bound (the group runs at once, bench/support/run-plan.ts):
   * the live latencies wait on poll cadences and window closes (seconds), models-eval measures model
   * quality (MAE, hit@3), not time, ingest-scale counts platform calls, points and units (and its
   * channels per CPU-second are CPU time, both sides in its own process), not wall time.
   */
  group?: string;
}

/**
 * Short sizes: each bench within its budget, its figures still from alternating rounds or enough
 * samples (each prints its rounds, n and spread). Sequential budgets sum to 217 s, the concurrent
 * group's longest is 80 s: 297 s in all (bench/README.md, "Budget").
 */
const RUNS: BenchRun[] = [
  { name: 'platforms', file: 'platforms.bench.ts', args: ['--n', '1000', '--concurrency', '16'], budgetS: 8 },
  { name: 'ingest', file: 'ingest.bench.ts', args: ['--jobs', '1000', '--limited-jobs', '300', '--seconds', '2'], budgetS: 22 },
  { name: 'processors', file: 'processors.bench.ts', args: ['--channels', '1000', '--minutes', '30'], budgetS: 35 },
  { name: 'api', file: 'api.bench.ts', args: ['--channels', '120', '--days', '6', '--history-days', '400', '--seconds', '6', '--rounds', '3'], budgetS: 114 },
  { name: 'gateway', file: 'gateway.bench.ts', args: [], env: { CLIENTS: '10000', FANOUT_CLIENTS: '1000', ROUNDS: '3', SPACED: '10', KAFKA_ALERTS: '200', BURST: '100' }, budgetS: 30 },
  { name: 'models', file: 'models.bench.ts', args: ['--channels', '12', '--weeks', '6', '--runs', '200', '--rounds', '2'], budgetS: 8 },
  { name: 'ingest-scale', file: 'ingest-scale.bench.ts', args: ['--twitch', '10000', '--youtube', '200', '--throughput', '2000'], budgetS: 25, group: 'wait-bound' },
  { name: 'models-eval', file: 'models-eval.bench.ts', args: ['--seeds', '1,2,3,4,5', '--weeks', '4,12', '--channels', '48'], budgetS: 60, group: 'wait-bound' },
  { name: 'go-live-latency', file: 'go-live-latency.bench.ts', args: ['--channels', '16', '--cycles', '1', '--concurrent'], budgetS: 80, group: 'wait-bound' },
  { name: 'live-latency', file: 'live-latency.bench.ts', args: ['--seconds', '15', '--poll', '1', '--lateness', '10', '--concurrent'], budgetS: 80, group: 'wait-bound' },
];

/** A bench is ended at 4 × its budget (at least 2 minutes): a loaded box is slow, a hung bench must not hang the report. */
const timeoutS = (run: BenchRun) => Math.max(120, 4 * run.budgetS);

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'bench/reports');
const README = path.join(ROOT, 'README.md');
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' / ');

function runOne(run: BenchRun, prefixLines: boolean): Promise<BenchOutcome> {
  const command = `${Object.entries(run.env ?? {}).map(([k, v]) => `${k}=${v} `).join('')}npx tsx bench/${run.file} ${run.args.join(' ')}`.trim();
  console.log(`\n=== ${run.name} (budget ${run.budgetS} s): ${command}`);
  const startedAt = new Date().toISOString();
  const loadAtStart = load();
  const t0 = Date.now();
  const log = fs.createWriteStream(path.join(OUT, 'logs', `${run.name}.log`));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', run.file), ...run.args], {
      cwd: ROOT, env: { ...process.env, ...run.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    let out = '';
    let printed = 0;
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      log.write(chunk);
      if (!prefixLines) return void process.stdout.write(chunk);
      // Benches of one group share the terminal: whole lines only, each saying whose it is.
      const end = out.lastIndexOf('\n') + 1;
      if (end > printed) process.stdout.write(out.slice(printed, end).replace(/^/gm, `[${run.name}] `).replace(/\[[^\]]*\] $/, ''));
      printed = Math.max(printed, end);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, timeoutS(run) * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      log.end();
      const line = out.split('\n').reverse().find((l) => l.startsWith(BENCH_RESULT_MARK));
      const seconds = (Date.now() - t0) / 1000;
      const outcome: BenchOutcome = { name: run.name, command, seconds, budgetS: run.budgetS, exitCode: code, startedAt, loadAtStart };
      if (line) outcome.result = JSON.parse(line.slice(BENCH_RESULT_MARK.length)) as BenchResult;
      if (!line || code !== 0) outcome.error = signal === 'SIGKILL' ? `timed out after ${timeoutS(run)} s` : `exit ${code ?? signal}${line ? '' : ', no BENCH_RESULT line'}`;
      console.log(`=== ${run.name}: ${seconds.toFixed(0)} s (budget ${run.budgetS} s)${outcome.error ? `, ${outcome.error}` : ''}`);
      resolve(outcome);
    });
  });
}

/** Runs in order; consecutive runs of one group start together. Outcomes keep the order of RUNS. */
async function runAll(runs: BenchRun[]): Promise<BenchOutcome[]> {
  const outcomes: BenchOutcome[] = [];
  for (const batch of batches(runs)) outcomes.push(...(await Promise.all(batch.map((r) => runOne(r, batch.length > 1)))));
  return outcomes;
}

function readPrevious(): BenchReport | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(OUT, 'latest.json'), 'utf8')) as BenchReport;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const flags = parseArgs(process.argv.slice(2)).flags;
  const only = typeof flags.only === 'string' ? flags.only.split(',') : undefined;
  const unknown = only?.filter((n) => !RUNS.some((r) => r.name === n)) ?? [];
  if (unknown.length) throw new Error(`--only: no bench named ${unknown.join(', ')} (benches: ${RUNS.map((r) => r.name).join(', ')})`);
  fs.mkdirSync(path.join(OUT, 'logs'), { recursive: true });
  const runs = RUNS.filter((r) => !only || only.includes(r.name));
  console.log(`${runs.length} benches, load average ${load()}; budget on a quiet 2-core box ${totalBudget(runs)} s (each group counts its longest)`);
  const machine: BenchReport['machine'] = {
    cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memGb: (os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version, platform: `${os.type()} ${os.release()}`, loadAtStart: load(), startedAt: new Date().toISOString(),
  };
  const benches = await runAll(runs);
  machine.loadAtEnd = load();
  machine.finishedAt = new Date().toISOString();
  const report = only ? mergeReport(readPrevious(), { machine, benches }) : { machine, benches };
  fs.writeFileSync(path.join(OUT, 'latest.json'), JSON.stringify(report, null, 2) + '\n');
  const md = reportMarkdown(report);
  fs.writeFileSync(path.join(OUT, 'latest.md'), md);
  console.log('\n' + md);
  if (!only && flags['no-readme'] !== true) {
    fs.writeFileSync(README, replaceBetweenMarkers(fs.readFileSync(README, 'utf8'), readmeTable(report)));
    console.log('README.md: "Latest run" table regenerated.');
  }
  const wall = (Date.parse(machine.finishedAt) - Date.parse(machine.startedAt)) / 1000;
  console.log(`wall ${wall.toFixed(0)} s, load average at start ${machine.loadAtStart}, at end ${machine.loadAtEnd}`);
  if (benches.some((o) => o.error)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
