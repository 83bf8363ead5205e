/**
 * `npm run bench` (scripts/bench.sh): runs every bench/*.bench.ts in sequence with sizes that keep the
 * whole run to about ten minutes on 2 cores, collects the `BENCH_RESULT {json}` line each prints
 * (bench/bench-result.ts) and writes one report: bench/reports/latest.md and latest.json, plus each
 * bench's full output under bench/reports/logs/.
 *   npx tsx bench/report.ts [--only api,models]
 * Sizes are the defaults below; a bench's own flags are listed in its header comment.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from '../shared/lifecycle/process.contract';
import { BENCH_RESULT_MARK, type BenchResult } from './bench-result';

interface BenchRun {
  name: string;
  file: string;
  args: string[];
  /** Extra environment: the gateway bench takes its sizes from the environment. */
  env?: Record<string, string>;
  timeoutS: number;
}

/** Modest sizes: enough work for stable ratios, the whole run within ~10 minutes on 2 cores. */
const RUNS: BenchRun[] = [
  { name: 'platforms', file: 'platforms.bench.ts', args: ['--n', '1000', '--concurrency', '16'], timeoutS: 120 },
  { name: 'ingest', file: 'ingest.bench.ts', args: ['--jobs', '1500', '--seconds', '5'], timeoutS: 180 },
  { name: 'ingest-scale', file: 'ingest-scale.bench.ts', args: ['--twitch', '10000', '--youtube', '200', '--throughput', '2000'], timeoutS: 240 },
  { name: 'processors', file: 'processors.bench.ts', args: ['--channels', '1000', '--minutes', '30'], timeoutS: 300 },
  { name: 'api', file: 'api.bench.ts', args: ['--channels', '120', '--days', '6', '--history-days', '400', '--seconds', '12', '--rounds', '3'], timeoutS: 300 },
  { name: 'gateway', file: 'gateway.bench.ts', args: [], env: { CLIENTS: '10000', FANOUT_CLIENTS: '1000', ROUNDS: '3' }, timeoutS: 300 },
  { name: 'models', file: 'models.bench.ts', args: ['--channels', '12', '--weeks', '6', '--runs', '200', '--rounds', '2'], timeoutS: 240 },
  { name: 'models-eval', file: 'models-eval.bench.ts', args: ['--seeds', '1,2,3,4,5', '--weeks', '4,12', '--channels', '12'], timeoutS: 420 },
];

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'bench/reports');

interface Outcome {
  name: string;
  command: string;
  seconds: number;
  exitCode: number | null;
  result?: BenchResult;
  error?: string;
}

function runOne(run: BenchRun): Promise<Outcome> {
  const command = `${Object.entries(run.env ?? {}).map(([k, v]) => `${k}=${v} `).join('')}npx tsx bench/${run.file} ${run.args.join(' ')}`.trim();
  console.log(`\n=== ${run.name}: ${command}`);
  const t0 = Date.now();
  const log = fs.createWriteStream(path.join(OUT, 'logs', `${run.name}.log`));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', run.file), ...run.args], {
      cwd: ROOT, env: { ...process.env, ...run.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    let out = '';
    const onData = (chunk: Buffer) => { out += chunk.toString(); log.write(chunk); process.stdout.write(chunk); };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    // A bench that hangs must not hang the report: its whole process group is ended.
    const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, run.timeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      log.end();
      const line = out.split('\n').reverse().find((l) => l.startsWith(BENCH_RESULT_MARK));
      const seconds = (Date.now() - t0) / 1000;
      const outcome: Outcome = { name: run.name, command, seconds, exitCode: code };
      if (line) outcome.result = JSON.parse(line.slice(BENCH_RESULT_MARK.length)) as BenchResult;
      if (!line || code !== 0) outcome.error = signal === 'SIGKILL' ? `timed out after ${run.timeoutS} s` : `exit ${code ?? signal}${line ? '' : ', no BENCH_RESULT line'}`;
      resolve(outcome);
    });
  });
}

const num = (n: number) => (!Number.isFinite(n) ? 'n/a' : Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(2));

function markdown(machine: Record<string, unknown>, outcomes: Outcome[]): string {
  const lines = [
    '# Benchmark report',
    '',
    `Generated ${machine.finishedAt} by \`npm run bench\` (bench/report.ts). Every figure is measured next to its baseline in the same run, on the same machine and load; the **ratio** (figure / baseline) is the comparable number, absolute figures are a floor (server, stack and load generator share the cores).`,
    '',
    `Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memGb} GB RAM, Node ${machine.node}, load average at start ${machine.loadAtStart} (1/5/15 min), at end ${machine.loadAtEnd}.`,
    '',
    '| bench | figure | value | baseline (same run) | baseline value | ratio |',
    '|---|---|---:|---|---:|---:|',
  ];
  for (const o of outcomes) {
    if (!o.result) { lines.push(`| ${o.name} | **failed: ${o.error}** | | | | |`); continue; }
    for (const fig of o.result.figures) lines.push(`| ${o.name} | ${fig.name} | ${num(fig.value)} ${fig.unit} | ${fig.baseline} | ${num(fig.baselineValue)} ${fig.unit} | ${fig.ratio.toFixed(2)}× |`);
  }
  lines.push('', '## Runs', '', '| bench | command | sizes | wall s | status |', '|---|---|---|---:|---|');
  for (const o of outcomes) {
    const params = o.result ? Object.entries(o.result.params).map(([k, v]) => `${k}=${v}`).join(', ') : '';
    lines.push(`| ${o.name} | \`${o.command}\` | ${params} | ${o.seconds.toFixed(0)} | ${o.error ?? 'ok'} |`);
  }
  for (const o of outcomes) if (o.result?.details) lines.push('', `## ${o.name}`, '', o.result.details);
  lines.push('', 'Full output of each bench: `bench/reports/logs/<bench>.log`. Reproduce: `npm run bench` (or `npx tsx bench/report.ts --only api,models`).', '');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const only = typeof parseArgs(process.argv.slice(2)).flags.only === 'string' ? String(parseArgs(process.argv.slice(2)).flags.only).split(',') : undefined;
  fs.mkdirSync(path.join(OUT, 'logs'), { recursive: true });
  const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' / ');
  const machine: Record<string, unknown> = {
    cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memGb: (os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version, platform: `${os.type()} ${os.release()}`, loadAtStart: load(), startedAt: new Date().toISOString(),
  };
  const outcomes: Outcome[] = [];
  for (const run of RUNS.filter((r) => !only || only.includes(r.name))) outcomes.push(await runOne(run));
  machine.loadAtEnd = load();
  machine.finishedAt = new Date().toISOString();
  fs.writeFileSync(path.join(OUT, 'latest.json'), JSON.stringify({ machine, benches: outcomes }, null, 2) + '\n');
  const md = markdown(machine, outcomes);
  fs.writeFileSync(path.join(OUT, 'latest.md'), md);
  console.log('\n' + md);
  if (outcomes.some((o) => o.error)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
