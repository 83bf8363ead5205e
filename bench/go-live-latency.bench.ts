/**
 * Go-live latency (issue 18, "Measure"): `npx tsx bench/go-live-latency.bench.ts [CYCLES=6]` against the
 * native stack. The whole path runs for real: the platform simulator, ingest, Kafka, the processors, the
 * gateway and a plain-WS client of the creator.
 *
 * Measured per go-live: from the instant the channel goes live on the (simulated) platform to the
 * `stream_notification` start at the client. Twice, in one run, on two Twitch channels going live and
 * offline CYCLES times each:
 * - push: ingest with EventSub (the simulator pushes stream.online within its 500 ms tick);
 * - poll (the baseline, today's path): ingest without push, the offline channel polled every
 *   INGEST_OFFLINE_POLL_SECONDS = 30 s (the "~30 s by polling"; the shipped default is 300 s).
 */
import { IngestService } from '../ingest/ingest.service';
import { platformPorts } from '../ingest/platform.ports';
import { endpointsAt } from '../platforms/endpoints';
import { GatewayFixture, PlainClient } from '../test/gateway/gateway.fixture';
import { simulatedPlatforms } from '../test/ingest/ingest.harness';
import { emitBenchResult, figure } from './bench-result';
import { createProcessor } from '../processors/processor.wiring';

const CYCLES = Number(process.argv[2] ?? process.env.CYCLES ?? 6);
const OFFLINE_POLL_SECONDS = 30;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function run(push: boolean): Promise<number[]> {
  const f = await GatewayFixture.create({
    INGEST_LIVE_POLL_SECONDS: '30', INGEST_OFFLINE_POLL_SECONDS: String(OFFLINE_POLL_SECONDS),
    PROCESSOR_FLUSH_INTERVAL_MS: '500', YOUTUBE_DAILY_QUOTA_UNITS: '100000000', LOG_LEVEL: 'warn',
  }, { clickhouse: true });
  const { rt } = f.stack;
  const platforms = await simulatedPlatforms(rt, 4);
  const ports = platformPorts(rt.config, undefined, { endpoints: endpointsAt(platforms.sim.url) });
  let ingest: IngestService | undefined;
  const processor = createProcessor(rt);
  const client = await PlainClient.connect(f.wsUrl, { token: f.alice.token });
  const latencies: number[] = [];
  try {
    const world = platforms.sim.world;
    for (const c of world.channels) world.forceLive(c.channelId, false);
    const conns = (await platforms.connect(f.alice.userId, 4)).filter((c) => c.platform === 'twitch');
    await client.request('join_stream_channel', { userId: f.alice.userId });
    const starts: Array<{ at: number; channelId: string }> = [];
    client.ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString()) as { event?: string; data?: { type?: string; channelId?: string } };
      if (m.event === 'stream_notification' && m.data?.type === 'start') starts.push({ at: Date.now(), channelId: String(m.data.channelId) });
    });
    await processor.start();
    ingest = await IngestService.start(rt, { ports, metricsPort: null, push });
    await sleep(5000); // first polls and push sessions settled
    await Promise.all(conns.map(async (conn, i) => {
      await sleep(i * 7000); // the channels' go-lives do not line up with each other or with the polls
      for (let n = 0; n < CYCLES; n++) {
        const seen = starts.filter((s) => s.channelId === conn.channelId).length;
        const t0 = Date.now();
        world.forceLive(conn.channelId, true, t0);
        const deadline = t0 + (OFFLINE_POLL_SECONDS + 60) * 1000;
        while (starts.filter((s) => s.channelId === conn.channelId).length === seen && Date.now() < deadline) await sleep(50);
        const hit = starts.filter((s) => s.channelId === conn.channelId)[seen];
        if (hit) latencies.push(hit.at - t0);
        // Live for a little while, then offline until ingest (either path) has seen the end.
        await sleep(3000 + Math.random() * 4000);
        world.forceLive(conn.channelId, false);
        await sleep((push ? 3 : OFFLINE_POLL_SECONDS + 2) * 1000 + Math.random() * 5000);
      }
    }));
    return latencies;
  } finally {
    client.close();
    await ingest?.close();
    await processor.close();
    await ports.close?.();
    await platforms.close();
    await f.close();
  }
}

async function main() {
  const pushed = await run(true);
  const polled = await run(false);
  const s = (v: number) => (v / 1000).toFixed(2);
  console.log(`go-live on the platform → stream_notification start at the creator's client, ${CYCLES} go-lives × 2 Twitch channels per path:`);
  console.log(`  push (EventSub): n=${pushed.length} p50 ${s(pct(pushed, 50))} s, p99 ${s(pct(pushed, 99))} s, max ${s(Math.max(...pushed))} s`);
  console.log(`  poll every ${OFFLINE_POLL_SECONDS} s (baseline): n=${polled.length} p50 ${s(pct(polled, 50))} s, p99 ${s(pct(polled, 99))} s, max ${s(Math.max(...polled))} s`);
  emitBenchResult({
    bench: 'go-live-latency',
    params: { cycles: CYCLES, offlinePollSeconds: OFFLINE_POLL_SECONDS },
    figures: [
      figure('go-live → client p50, EventSub push', pct(pushed, 50) / 1000, 's', `polling every ${OFFLINE_POLL_SECONDS} s`, pct(polled, 50) / 1000),
      figure('go-live → client p99, EventSub push', pct(pushed, 99) / 1000, 's', `polling every ${OFFLINE_POLL_SECONDS} s`, pct(polled, 99) / 1000),
    ],
  });
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
