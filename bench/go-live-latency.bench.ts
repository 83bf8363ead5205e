/**
 * Go-live latency (issue 18, "Measure"): `npx tsx bench/go-live-latency.bench.ts [--cycles 6] [--channels 4]
 * [--offline-poll 30] [--concurrent]` against the native stack (a bare number is --cycles, as before). The
 * whole path runs for real: the platform simulator, ingest, Kafka, the processors, the gateway and a
 * plain-WS client of the creator (bench/support/live-pipeline.ts).
 *
 * Measured per go-live: from the instant the channel goes live on the (simulated) platform to the
 * `stream_notification` start at the client. Twice, in one run, on the Twitch half of CHANNELS connected
 * channels going live and offline CYCLES times each, their first go-lives spread over one poll interval:
 * - push: ingest with EventSub (the simulator pushes stream.online within its 500 ms tick);
 * - poll (the baseline, today's path): ingest without push, the offline channel polled every
 *   --offline-poll s (30: the "~30 s by polling"; the shipped default is 300 s).
 * --concurrent runs the two paths at the same time on two isolated pipelines: both are wait-bound (the
 * simulator's tick, the poll cadence), so the wall time halves and each latency gains at most the other
 * pipeline's CPU. `npm run bench` runs the short form: 16 channels (8 Twitch) × 1 cycle, concurrent.
 */
import { parseArgs } from '../shared/lifecycle/process.contract';
import { emitBenchResult, figure } from './bench-result';
import { startLivePipeline } from './support/live-pipeline';
import { percentile } from './support/percentile';

const args = parseArgs(process.argv.slice(2));
const CYCLES = Number(args.flags.cycles ?? args.positional[0] ?? process.env.CYCLES ?? 6);
const CHANNELS = Number(args.flags.channels ?? 4);
const OFFLINE_POLL_SECONDS = Number(args.flags['offline-poll'] ?? 30);
const CONCURRENT = args.flags.concurrent === true;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let twitchChannels = 0;

async function run(push: boolean): Promise<number[]> {
  const p = await startLivePipeline({ INGEST_LIVE_POLL_SECONDS: '30', INGEST_OFFLINE_POLL_SECONDS: String(OFFLINE_POLL_SECONDS) }, CHANNELS);
  const latencies: number[] = [];
  try {
    const conns = p.conns.filter((c) => c.platform === 'twitch');
    twitchChannels = conns.length;
    const starts: Array<{ at: number; channelId: string }> = [];
    p.client.ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString()) as { event?: string; data?: { type?: string; channelId?: string } };
      if (m.event === 'stream_notification' && m.data?.type === 'start') starts.push({ at: Date.now(), channelId: String(m.data.channelId) });
    });
    await p.start({ push });
    await sleep(5000); // first polls and push sessions settled
    const seenOf = (channelId: string) => starts.filter((s) => s.channelId === channelId);
    await Promise.all(conns.map(async (conn, i) => {
      // The channels' go-lives do not line up with each other or with the polls: spread over one interval.
      await sleep((i * OFFLINE_POLL_SECONDS * 1000) / conns.length);
      for (let n = 0; n < CYCLES; n++) {
        const seen = seenOf(conn.channelId).length;
        const t0 = Date.now();
        p.world.forceLive(conn.channelId, true, t0);
        const deadline = t0 + (OFFLINE_POLL_SECONDS + 60) * 1000;
        while (seenOf(conn.channelId).length === seen && Date.now() < deadline) await sleep(50);
        const hit = seenOf(conn.channelId)[seen];
        if (hit) latencies.push(hit.at - t0);
        if (n === CYCLES - 1) break; // the last go-live needs no way back
        // Live for a little while, then offline until ingest (either path) has seen the end.
        await sleep(3000 + Math.random() * 4000);
        p.world.forceLive(conn.channelId, false);
        await sleep((push ? 3 : OFFLINE_POLL_SECONDS + 2) * 1000 + Math.random() * 5000);
      }
    }));
    return latencies;
  } finally {
    await p.close();
  }
}

async function main() {
  const [pushed, polled] = CONCURRENT ? await Promise.all([run(true), run(false)]) : [await run(true), await run(false)];
  const s = (v: number) => (v / 1000).toFixed(2);
  const twitch = twitchChannels;
  console.log(`go-live on the platform → stream_notification start at the creator's client, ${CYCLES} go-live(s) × ${twitch} Twitch channels per path${CONCURRENT ? ', both paths at once' : ''}:`);
  console.log(`  push (EventSub): n=${pushed.length} p50 ${s(percentile(pushed, 50))} s, p99 ${s(percentile(pushed, 99))} s, max ${s(Math.max(...pushed))} s`);
  console.log(`  poll every ${OFFLINE_POLL_SECONDS} s (baseline): n=${polled.length} p50 ${s(percentile(polled, 50))} s, p99 ${s(percentile(polled, 99))} s, max ${s(Math.max(...polled))} s`);
  emitBenchResult({
    bench: 'go-live-latency',
    params: { cycles: CYCLES, twitchChannels: twitch, offlinePollSeconds: OFFLINE_POLL_SECONDS, concurrent: String(CONCURRENT), nPush: pushed.length, nPoll: polled.length },
    figures: [
      figure(`go-live → client p50, EventSub push (n=${pushed.length})`, percentile(pushed, 50) / 1000, 's', `polling every ${OFFLINE_POLL_SECONDS} s (n=${polled.length})`, percentile(polled, 50) / 1000),
      figure(`go-live → client p99, EventSub push (n=${pushed.length})`, percentile(pushed, 99) / 1000, 's', `polling every ${OFFLINE_POLL_SECONDS} s (n=${polled.length})`, percentile(polled, 99) / 1000),
    ],
  });
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
