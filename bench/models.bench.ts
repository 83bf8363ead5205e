/**
 * Models benchmark (issue 8): `npx tsx bench/models.bench.ts [--channels 24] [--weeks 8] [--runs 200] [--rounds 2] [--hidden 64,64]`.
 * No servers needed: history comes from the simulator world in memory (models/history.ts), the same
 * rows a backfill writes to ClickHouse.
 *
 *  1. Training time and samples/s of both models on the wasm backend and on the pure-JS cpu backend, in
 *     the same run, same data, same seed — the cpu figure is the baseline, the ratio the point.
 *  2. Inference latency of one recommendation (168 slot scores for one channel: features, normalisation,
 *     one batched predict), p50/p99 over --runs calls, per backend.
 * tfjs-node ("tensorflow" backend) is measured too when it is installed (it is not on this machine).
 */
import { createWorld } from '../platforms/simulator/world';
import { parseArgs } from '../shared/lifecycle/process.contract';
import { channelHistoryRows, historyFromRows } from '../models/history';
import { channelContext, DAY_MS } from '../models/features';
import { BackendName, useBackend } from '../models/tf.backend';
import { nextWeekSlots, scoreSlots, trainTimingModel, TIMING_DEFAULTS } from '../models/timing.model';
import { trainViewerModel, VIEWER_DEFAULTS } from '../models/viewers.model';
import { emitBenchResult, figure } from './bench-result';

const args = parseArgs(process.argv.slice(2));
const CHANNELS = Number(args.flags.channels ?? 24);
const WEEKS = Number(args.flags.weeks ?? 8);
const RUNS = Number(args.flags.runs ?? 200);
const ROUNDS = Number(args.flags.rounds ?? 2);
// --hidden 64,64 trains wider nets than the defaults ([8]) to show how the backends scale with work per step.
const HIDDEN = typeof args.flags.hidden === 'string' ? args.flags.hidden.split(',').map(Number) : undefined;
const TO = Date.UTC(2026, 10, 20);

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const f = (n: number, d = 1) => n.toFixed(d);

interface Figures {
  backend: BackendName;
  viewersMs: number;
  viewersSps: number;
  timingMs: number;
  timingSps: number;
  p50: number;
  p99: number;
}

async function main() {
  const world = createWorld({ seed: 42, channels: CHANNELS });
  const t0 = Date.now();
  const histories = world.channels.map((c) =>
    historyFromRows(c.platform, c.channelId, channelHistoryRows(world, c.channelId, { fromMs: TO - WEEKS * 7 * DAY_MS, toMs: TO, sessionNoise: 0.2, pollNoise: 0.1, seed: 1 })),
  );
  console.log(`history: ${CHANNELS} channels × ${WEEKS} weeks generated in ${Date.now() - t0} ms`);
  const splitAt = TO - 7 * DAY_MS;

  const backends: BackendName[] = ['wasm', 'cpu'];
  try {
    require.resolve('@tensorflow/tfjs-node');
    backends.unshift('tensorflow');
  } catch {
    console.log('tfjs-node: not installed (skipped)');
  }
  // Backends alternate round by round and each keeps its best round: on a shared machine, load that
  // comes and goes then hits both alike instead of whichever happened to run during it.
  const best = new Map<BackendName, Figures>();
  for (let round = 1; round <= ROUNDS; round++) for (const backend of backends) {
    await useBackend(backend);
    const v = await trainViewerModel(histories, { ...VIEWER_DEFAULTS, ...(HIDDEN ? { hidden: HIDDEN } : {}), splitAt, seed: 42 });
    const t = await trainTimingModel(histories, { ...TIMING_DEFAULTS, ...(HIDDEN ? { hidden: HIDDEN } : {}), splitAt, seed: 42 });
    const ctx = channelContext(histories[3]!, TO);
    if (!ctx.ok) throw new Error('bench channel has too little history');
    const slots = nextWeekSlots(TO);
    for (let i = 0; i < 20; i++) scoreSlots(t, ctx.ctx, slots); // warm-up
    const lat: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const s = performance.now();
      scoreSlots(t, ctx.ctx, slots);
      lat.push(performance.now() - s);
    }
    const fig: Figures = {
      backend,
      viewersMs: v.fit.trainMs,
      viewersSps: (v.fit.samples * v.fit.epochs) / (v.fit.trainMs / 1000),
      timingMs: t.fit.trainMs,
      timingSps: (t.fit.samples * t.fit.epochs) / (t.fit.trainMs / 1000),
      p50: pct(lat, 50),
      p99: pct(lat, 99),
    };
    if (round === 1) console.log(`${backend} holdout metrics:\n  viewers ${JSON.stringify(v.metrics)}\n  timing  ${JSON.stringify(t.metrics)}`);
    const prev = best.get(backend);
    best.set(backend, prev ? {
      backend,
      viewersMs: Math.min(prev.viewersMs, fig.viewersMs), viewersSps: Math.max(prev.viewersSps, fig.viewersSps),
      timingMs: Math.min(prev.timingMs, fig.timingMs), timingSps: Math.max(prev.timingSps, fig.timingSps),
      p50: Math.min(prev.p50, fig.p50), p99: Math.min(prev.p99, fig.p99),
    } : fig);
    console.log(`round ${round} ${backend}: train ${f(fig.viewersMs + fig.timingMs, 0)} ms, 168-slot p50 ${f(fig.p50, 2)} ms; viewers ${v.fit.samples} samples × ${v.fit.epochs} epochs, timing ${t.fit.samples} samples × ${t.fit.epochs} epochs; viewers MAE ${v.metrics.mae} (channel mean ${v.metrics.baseline_channel_mean_mae}, last week ${v.metrics.baseline_last_week_mae}); timing hit@3 ${t.metrics.hit_rate_at_3} (random ${t.metrics.random_hit_rate_at_3})`);
    v.model.dispose();
    t.model.dispose();
  }

  const results = [...best.values()];
  const cpu = best.get('cpu')!;
  console.log(`\nbest of ${ROUNDS} alternating rounds per backend:`);
  console.log('\nbackend     viewers train ms  samples/s   timing train ms  samples/s   168-slot p50 ms  p99 ms   train speed-up vs cpu');
  for (const r of results) {
    console.log(
      `${r.backend.padEnd(11)} ${f(r.viewersMs, 0).padStart(16)} ${f(r.viewersSps, 0).padStart(10)} ${f(r.timingMs, 0).padStart(17)} ${f(r.timingSps, 0).padStart(10)} ${f(r.p50, 2).padStart(16)} ${f(r.p99, 2).padStart(7)}   ${f((cpu.viewersMs + cpu.timingMs) / (r.viewersMs + r.timingMs), 2)}×`,
    );
  }
  emitBenchResult({
    bench: 'models', params: { channels: CHANNELS, weeks: WEEKS, runs: RUNS, rounds: ROUNDS, hidden: HIDDEN ? HIDDEN.join(',') : 'default' },
    figures: results.filter((r) => r.backend !== 'cpu').flatMap((r) => [
      figure(`viewer-model training samples/s (${r.backend})`, r.viewersSps, 'samples/s', 'same training on the tfjs cpu backend', cpu.viewersSps),
      figure(`timing-model training samples/s (${r.backend})`, r.timingSps, 'samples/s', 'same training on the tfjs cpu backend', cpu.timingSps),
      figure(`168-slot scoring p50 (${r.backend})`, r.p50, 'ms', 'same scoring on the tfjs cpu backend', cpu.p50),
    ]),
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
