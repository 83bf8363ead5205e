/**
 * Live-figure latency benchmark (issue 19, item 3): `npx tsx bench/live-latency.bench.ts [SECONDS=120]`
 * against the native stack. The whole path runs for real: the platform simulator, ingest (BullMQ) polling
 * it every INGEST_LIVE_POLL_SECONDS, Kafka, the processors, the gateway and a plain-WS client.
 *
 * Measured for every live snapshot ingest takes: from the moment it observed the platform (`observedAt`)
 * to the first `metrics_update` at the client whose window already counts it (`samples` reached its rank
 * in the window). Twice, in one run: with early firing (PROCESSOR_EARLY_FIRE_SECONDS, provisional
 * windows) and with it off (the baseline: a window reaches a client only when the watermark closes it,
 * minute end + allowed lateness). A viewer change on the platform adds at most one poll interval to
 * these figures (it waits for the next poll).
 */
import type { StreamSnapshot } from '../shared/events/events';
import { channelKey } from '../shared/kafka/topics';
import { IngestService } from '../ingest/ingest.service';
import { platformPorts } from '../ingest/platform.ports';
import { endpointsAt } from '../platforms/endpoints';
import { GatewayFixture, PlainClient } from '../test/gateway/gateway.fixture';
import { simulatedPlatforms, TopicCollector } from '../test/ingest/ingest.harness';
import { emitBenchResult, figure } from './bench-result';
import { createProcessor } from '../processors/processor.wiring';

const SECONDS = Number(process.argv[2] ?? process.env.SECONDS ?? 120);
const POLL_SECONDS = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function run(earlyFireSeconds: number): Promise<number[]> {
  const f = await GatewayFixture.create({
    INGEST_LIVE_POLL_SECONDS: String(POLL_SECONDS), INGEST_OFFLINE_POLL_SECONDS: String(POLL_SECONDS), PROCESSOR_EARLY_FIRE_SECONDS: String(earlyFireSeconds),
    PROCESSOR_FLUSH_INTERVAL_MS: '500', YOUTUBE_DAILY_QUOTA_UNITS: '100000000', LOG_LEVEL: 'warn',
  }, { clickhouse: true });
  const { rt } = f.stack;
  const platforms = await simulatedPlatforms(rt, 4);
  const ports = platformPorts(rt.config, undefined, { endpoints: endpointsAt(platforms.sim.url) });
  const collector = new TopicCollector(rt, ['snapshots']);
  await collector.start();
  let ingest: IngestService | undefined;
  const processor = createProcessor(rt);
  const client = await PlainClient.connect(f.wsUrl, { token: f.alice.token });
  try {
    const world = platforms.sim.world;
    for (const c of world.channels) world.forceLive(c.channelId, false);
    const [conn] = await platforms.connect(f.alice.userId, 1);
    const channelId = conn!.channelId;
    world.forceLive(channelId, true, Date.now() - 10 * 60_000);
    await client.request('join_stream_channel', { userId: f.alice.userId });
    // When each metrics_update of the channel arrived, by window and sample count.
    const arrivals: Array<{ at: number; windowStart: number; samples: number }> = [];
    client.ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString()) as { event?: string; data?: { channelId?: string; live?: boolean; windowStart?: number; samples?: number } };
      if (m.event === 'metrics_update' && m.data?.channelId === channelId && m.data.live) {
        arrivals.push({ at: Date.now(), windowStart: Number(m.data.windowStart), samples: Number(m.data.samples) });
      }
    });
    await processor.start();
    ingest = await IngestService.start(rt, { ports, metricsPort: null });
    const from = Date.now() + 15_000; // after the first polls settled
    await sleep(SECONDS * 1000);
    const stopAt = Date.now();
    // Give the last observations time to arrive (a closed window needs minute end + lateness).
    await sleep((rt.config.PROCESSOR_ALLOWED_LATENESS_SECONDS + 75) * 1000);

    const key = channelKey(conn!.platform, channelId);
    const snaps = collector
      .of<StreamSnapshot>('snapshots')
      .map((e) => e.value)
      .filter((s) => `${s.platform}:${s.channelId}` === key && s.live && s.viewers !== null);
    const distinct = [...new Map(snaps.map((s) => [s.eventId, s])).values()].sort((a, b) => a.observedAt - b.observedAt);
    const latencies: number[] = [];
    const byWindow = new Map<number, StreamSnapshot[]>();
    for (const s of distinct) {
      const w = Math.floor(s.observedAt / 60_000) * 60_000;
      byWindow.set(w, [...(byWindow.get(w) ?? []), s]);
    }
    for (const [w, list] of byWindow) {
      list.forEach((s, rank) => {
        if (s.observedAt < from || s.observedAt > stopAt) return;
        const first = arrivals.find((a) => a.windowStart === w && a.samples >= rank + 1 && a.at >= s.observedAt);
        if (first) latencies.push(first.at - s.observedAt);
      });
    }
    return latencies;
  } finally {
    client.close();
    await ingest?.close();
    await processor.close();
    await collector.stop();
    await ports.close?.();
    await platforms.close();
    await f.close();
  }
}

async function main() {
  const early = await run(10);
  const closedOnly = await run(0);
  const s = (v: number) => (v / 1000).toFixed(1);
  console.log(`observation → gateway client, ${SECONDS} s of a live channel polled every ${POLL_SECONDS} s:`);
  console.log(`  early firing (10 s): n=${early.length} p50 ${s(pct(early, 50))} s, p99 ${s(pct(early, 99))} s`);
  console.log(`  closed windows only (baseline): n=${closedOnly.length} p50 ${s(pct(closedOnly, 50))} s, p99 ${s(pct(closedOnly, 99))} s`);
  console.log(`  a platform change adds ≤ ${POLL_SECONDS} s (the next poll): p99 change → client ≤ ${s(pct(early, 99) + POLL_SECONDS * 1000)} s with early firing`);
  emitBenchResult({
    bench: 'live-latency',
    params: { seconds: SECONDS, pollSeconds: POLL_SECONDS },
    figures: [
      figure('observation → client p50, early firing', pct(early, 50) / 1000, 's', 'closed windows only', pct(closedOnly, 50) / 1000),
      figure('observation → client p99, early firing', pct(early, 99) / 1000, 's', 'closed windows only', pct(closedOnly, 99) / 1000),
    ],
  });
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
