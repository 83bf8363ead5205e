/**
 * Live-figure latency benchmark (issue 19, item 3): `npx tsx bench/live-latency.bench.ts [--seconds 120]
 * [--lateness S] [--concurrent]` against the native stack (a bare number is --seconds, as before). The whole
 * path runs for real: the platform simulator, ingest (BullMQ) polling it every INGEST_LIVE_POLL_SECONDS,
 * Kafka, the processors, the gateway and a plain-WS client (bench/support/live-pipeline.ts).
 *
 * Measured for every live snapshot ingest takes: from the moment it observed the platform (`observedAt`)
 * to the first `metrics_update` at the client whose window already counts it (`samples` reached its rank
 * in the window). Twice, in one run: with early firing (PROCESSOR_EARLY_FIRE_SECONDS, provisional
 * windows) and with it off (the baseline: a window reaches a client only when the watermark closes it,
 * minute end + allowed lateness). A viewer change on the platform adds at most one poll interval to
 * these figures (it waits for the next poll).
 *
 * --lateness sets PROCESSOR_ALLOWED_LATENESS_SECONDS for both runs (default: the config's, 120 s): the
 * baseline's figures then carry that lateness instead, which the output says; early firing does not wait
 * for it. --concurrent runs the two on two isolated pipelines at once (both are wait-bound), halving the
 * wall time. Ingest starts once the processors have joined their group (bench/support/live-pipeline.ts);
 * the observations of the first SETTLE (2 polls, at least 3 s: the channel's start, its first snapshots)
 * are left out, then SECONDS are measured. Each run waits after its SECONDS until every observation has
 * reached the client, or until its window must have closed (minute end + lateness + 15 s): for the
 * baseline that is up to a minute, by where the span ends in its minute. The span is not aligned
 * to the minute on purpose: an end aligned to a minute boundary would save that wait but measure only
 * observations late in their window, flattering the baseline. `npm run bench` runs the short form:
 * `--seconds 15 --poll 1 --lateness 10 --concurrent` (--poll: INGEST_LIVE_POLL_SECONDS, more samples a
 * minute: n ≈ 15 a run, as 30 s at a 2 s poll gave).
 */
import type { StreamSnapshot } from '../shared/events/events';
import { parseArgs } from '../shared/lifecycle/process.contract';
import { channelKey } from '../shared/kafka/topics';
import { TopicCollector } from '../test/ingest/ingest.harness';
import { emitBenchResult, figure } from './bench-result';
import { startLivePipeline } from './support/live-pipeline';
import { percentile } from './support/percentile';

const args = parseArgs(process.argv.slice(2));
const SECONDS = Number(args.flags.seconds ?? args.positional[0] ?? process.env.SECONDS ?? 120);
const LATENESS = args.flags.lateness === undefined ? undefined : String(Number(args.flags.lateness));
const CONCURRENT = args.flags.concurrent === true;
const POLL_SECONDS = Number(args.flags.poll ?? 5);
const SETTLE_MS = Math.max(3000, 2 * POLL_SECONDS * 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let latenessSeconds = NaN;

async function run(earlyFireSeconds: number): Promise<number[]> {
  const p = await startLivePipeline({
    INGEST_LIVE_POLL_SECONDS: String(POLL_SECONDS), INGEST_OFFLINE_POLL_SECONDS: String(POLL_SECONDS), PROCESSOR_EARLY_FIRE_SECONDS: String(earlyFireSeconds),
    ...(LATENESS !== undefined ? { PROCESSOR_ALLOWED_LATENESS_SECONDS: LATENESS } : {}),
  }, 1);
  const { rt } = p;
  latenessSeconds = rt.config.PROCESSOR_ALLOWED_LATENESS_SECONDS;
  const collector = new TopicCollector(rt, ['snapshots']);
  await collector.start();
  try {
    const conn = p.conns[0]!;
    const channelId = conn.channelId;
    p.world.forceLive(channelId, true, Date.now() - 10 * 60_000);
    // When each metrics_update of the channel arrived, by window and sample count.
    const arrivals: Array<{ at: number; windowStart: number; samples: number }> = [];
    p.client.ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString()) as { event?: string; data?: { channelId?: string; live?: boolean; windowStart?: number; samples?: number } };
      if (m.event === 'metrics_update' && m.data?.channelId === channelId && m.data.live) {
        arrivals.push({ at: Date.now(), windowStart: Number(m.data.windowStart), samples: Number(m.data.samples) });
      }
    });
    await p.start();
    const from = Date.now() + SETTLE_MS; // after the first polls settled
    await sleep(SETTLE_MS + SECONDS * 1000);
    const stopAt = Date.now();

    const key = channelKey(conn.platform, channelId);
    const observed = () => {
      const snaps = collector
        .of<StreamSnapshot>('snapshots')
        .map((e) => e.value)
        .filter((s) => `${s.platform}:${s.channelId}` === key && s.live && s.viewers !== null);
      const distinct = [...new Map(snaps.map((s) => [s.eventId, s])).values()].sort((a, b) => a.observedAt - b.observedAt);
      const byWindow = new Map<number, StreamSnapshot[]>();
      for (const s of distinct) {
        const w = Math.floor(s.observedAt / 60_000) * 60_000;
        byWindow.set(w, [...(byWindow.get(w) ?? []), s]);
      }
      // Each measured observation with the first arrival that counts it (undefined: not yet).
      const out: Array<{ s: StreamSnapshot; at: number | undefined }> = [];
      for (const [w, list] of byWindow) {
        list.forEach((s, rank) => {
          if (s.observedAt < from || s.observedAt > stopAt) return;
          out.push({ s, at: arrivals.find((a) => a.windowStart === w && a.samples >= rank + 1 && a.at >= s.observedAt)?.at });
        });
      }
      return out;
    };
    // The last observation's window closes at its minute end + lateness: wait no longer than that (+ 15 s).
    const deadline = (Math.floor(stopAt / 60_000) + 1) * 60_000 + (latenessSeconds + 15) * 1000;
    while (Date.now() < deadline && observed().some((o) => o.at === undefined)) await sleep(500);
    return observed().flatMap((o) => (o.at === undefined ? [] : [o.at - o.s.observedAt]));
  } finally {
    await collector.stop();
    await p.close();
  }
}

async function main() {
  const [early, closedOnly] = CONCURRENT ? await Promise.all([run(10), run(0)]) : [await run(10), await run(0)];
  const s = (v: number) => (v / 1000).toFixed(1);
  const late = `allowed lateness ${latenessSeconds} s${LATENESS !== undefined ? ' (set for this run; the default is 120 s)' : ''}`;
  console.log(`observation → gateway client, ${SECONDS} s of a live channel polled every ${POLL_SECONDS} s, ${late}${CONCURRENT ? ', both runs at once' : ''}:`);
  console.log(`  early firing (10 s): n=${early.length} p50 ${s(percentile(early, 50))} s, p99 ${s(percentile(early, 99))} s`);
  console.log(`  closed windows only (baseline): n=${closedOnly.length} p50 ${s(percentile(closedOnly, 50))} s, p99 ${s(percentile(closedOnly, 99))} s`);
  console.log(`  a platform change adds ≤ ${POLL_SECONDS} s (the next poll): p99 change → client ≤ ${s(percentile(early, 99) + POLL_SECONDS * 1000)} s with early firing`);
  emitBenchResult({
    bench: 'live-latency',
    params: { seconds: SECONDS, pollSeconds: POLL_SECONDS, latenessSeconds, concurrent: String(CONCURRENT), nEarly: early.length, nClosed: closedOnly.length },
    figures: [
      figure(`observation → client p50, early firing (n=${early.length})`, percentile(early, 50) / 1000, 's', `closed windows only, lateness ${latenessSeconds} s (n=${closedOnly.length})`, percentile(closedOnly, 50) / 1000),
      figure(`observation → client p99, early firing (n=${early.length})`, percentile(early, 99) / 1000, 's', `closed windows only, lateness ${latenessSeconds} s (n=${closedOnly.length})`, percentile(closedOnly, 99) / 1000),
    ],
  });
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
