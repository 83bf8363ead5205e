import type { ChatActivity, StreamLifecycle } from '../../shared/events/events';
import { IngestService } from '../../ingest/ingest.service';
import { platformPorts } from '../../ingest/platform.ports';
import type { IngestPorts } from '../../ingest/ingest.ports';
import { endpointsAt } from '../../platforms/endpoints';
import { ProcessorService } from '../../processors/processor.service';
import { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import { metricsRegistry } from '../../shared/metrics/metrics';
import { eventually, testStack, TestStack } from '../support/stack';
import { FAST_INGEST, simulatedPlatforms, TopicCollector } from './ingest.harness';
import { createProcessor } from '../../processors/processor.wiring';

const step = (msg: string) => process.stderr.write(`[event-ids ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** Ids carried by two or more records that differ in content. */
function sharedIds(values: Array<Record<string, unknown>>): string[] {
  const byId = new Map<string, Set<string>>();
  for (const v of values) {
    const id = String(v.eventId);
    if (!byId.has(id)) byId.set(id, new Set());
    byId.get(id)!.add(JSON.stringify(v));
  }
  return [...byId].filter(([, variants]) => variants.size > 1).map(([id]) => id);
}

async function processorDuplicates(topic: string): Promise<number> {
  const m = (await metricsRegistry.getMetricsAsJSON()).find((x) => x.name === 'spacehub_processor_events_total');
  return ((m?.values ?? []) as Array<{ value: number; labels: Record<string, string> }>).filter((v) => v.labels.topic === topic && v.labels.outcome === 'duplicate').reduce((a, v) => a + v.value, 0);
}

/**
 * Issue 16 part 3: an event id names one observation. Across a simulated multi-stream run (Twitch
 * EventSub chat and YouTube liveChatMessages, streams starting and ending), no two distinct records on
 * any topic share an id, and every chat message the simulator delivered is counted once in metrics_1m.
 */
describe('ingest event ids: one id per observation, every chat message counted once (simulator → ingest → Kafka → processor → ClickHouse)', () => {
  let stack: TestStack;
  let platforms: Awaited<ReturnType<typeof simulatedPlatforms>>;
  let ports: IngestPorts;
  let svc: IngestService | undefined;
  let processor: ProcessorService | undefined;
  let collector: TopicCollector;

  beforeAll(async () => {
    stack = await testStack({ ...FAST_INGEST, PROCESSOR_ALLOWED_LATENESS_SECONDS: '2' });
    platforms = await simulatedPlatforms(stack.rt, 8);
    ports = platformPorts(stack.rt.config, undefined, { endpoints: endpointsAt(platforms.sim.url) });
    collector = new TopicCollector(stack.rt, ['snapshots', 'followers', 'chat', 'lifecycle']);
    await collector.start();
  });
  afterAll(async () => {
    await svc?.close();
    await processor?.close();
    await ports?.close?.();
    await collector?.stop();
    await platforms?.close();
    await stack?.cleanup();
  });

  /** Per live channel: distinct messages the simulator delivered, and what metrics_1m counted. */
  const counts: Array<{ channel: string; platform: string; delivered: number; counted: number }> = [];
  const live: Array<{ channelId: string; platform: string }> = [];

  beforeAll(async () => {
    const { sim } = platforms;
    const world = sim.world;
    const twitch = world.channels.filter((c) => c.platform === 'twitch');
    const youtube = world.channels.filter((c) => c.platform === 'youtube');
    live.push(twitch[0]!, twitch[1]!, youtube[0]!, youtube[1]!);
    const since = Date.now() - 10 * 60_000;
    for (const c of world.channels) world.forceLive(c.channelId, live.some((l) => l.channelId === c.channelId), since);
    await platforms.connect('creator-ids', 8);
    processor = createProcessor(stack.rt);
    await processor.start();
    svc = await IngestService.start(stack.rt, { ports, metricsPort: 0 });

    const chat = () => collector.of<ChatActivity>('chat').map((e) => e.value);
    // Several chat polls of every live channel, with messages.
    await eventually(async () => live.every((c) => chat().filter((e) => e.channelId === c.channelId && e.messages > 0).length >= 3), Boolean, 90_000);
    step('chat flowing; streams end');
    for (const c of live) world.forceLive(c.channelId, false);
    const ended = () => collector.of<StreamLifecycle>('lifecycle').filter((e) => e.value.type === 'ended');
    await eventually(async () => ended().length, (n) => n >= live.length, 60_000);
    // Chat stops by itself once it has read what was said before the end: the simulator's counts settle.
    const delivered = () => live.map((c) => sim.state.counters.chatMessagesSent[c.channelId] ?? 0);
    let last = '';
    await eventually(async () => {
      const now = JSON.stringify([delivered(), chat().length]);
      const settled = now === last;
      last = now;
      return settled;
    }, Boolean, 60_000, 4000);
    const onTopic = () => live.map((c) => [...new Map(chat().filter((e) => e.channelId === c.channelId).map((e) => [e.eventId, e.messages])).values()].reduce((a, b) => a + b, 0));
    step(`chat settled: delivered ${JSON.stringify(delivered())}, on the chat topic ${JSON.stringify(onTopic())}`);

    // Every delivered message is in a closed window once (the offline snapshots carry the watermark on).
    const repo = new ClickHouseRepository(stack.rt.clickhouseSettings);
    try {
      const counted = async () => {
        const rows = await repo.query<{ channel_id: string; m: string }>('chat per channel', 'SELECT channel_id, sum(chat_messages) AS m FROM metrics_1m_latest GROUP BY channel_id');
        return live.map((c) => Number(rows.find((r) => r.channel_id === c.channelId)?.m ?? 0));
      };
      const expected = delivered();
      await eventually(counted, (n) => JSON.stringify(n) === JSON.stringify(expected), 120_000, 1000).catch(() => undefined);
      const got = await counted();
      live.forEach((c, i) => counts.push({ channel: c.channelId, platform: c.platform, delivered: expected[i]!, counted: got[i]! }));
      step(`metrics_1m: ${JSON.stringify(counts)}`);
    } finally {
      await repo.close();
    }
  }, 600_000);

  it('no two distinct records on any topic share an id; consecutive chat records cover consecutive intervals; no chat duplicate at the processor', async () => {
    for (const topic of ['snapshots', 'followers', 'chat', 'lifecycle'] as const) {
      expect({ topic, shared: sharedIds(collector.of<Record<string, unknown>>(topic).map((e) => e.value)) }).toEqual({ topic, shared: [] });
    }
    const chat = collector.of<ChatActivity>('chat').map((e) => e.value);
    for (const c of live) {
      const records = [...new Map(chat.filter((e) => e.channelId === c.channelId).map((e) => [e.eventId, e])).values()].sort((a, b) => a.intervalStart - b.intervalStart);
      expect(records.length).toBeGreaterThan(3);
      for (let i = 1; i < records.length; i++) expect(records[i]!.intervalStart).toBeGreaterThanOrEqual(records[i - 1]!.intervalEnd);
    }
    expect(await processorDuplicates('chat')).toBe(0);
  });

  it('every YouTube chat message the simulator delivered is counted once in metrics_1m', () => {
    const yt = counts.filter((c) => c.platform === 'youtube');
    expect(yt.length).toBe(2);
    expect(yt.every((c) => c.delivered > 0)).toBe(true);
    expect(yt.map((c) => c.counted)).toEqual(yt.map((c) => c.delivered));
  });

  // Twitch chat is pushed (EventSub): the last run ends the session and counts what arrived until the
  // platform stopped sending, so nothing it delivered goes uncounted after the stream ends.
  it('every Twitch chat message the simulator delivered is counted once in metrics_1m', () => {
    const tw = counts.filter((c) => c.platform === 'twitch');
    expect(tw.length).toBe(2);
    expect(tw.every((c) => c.delivered > 0)).toBe(true);
    expect(tw.map((c) => c.counted)).toEqual(tw.map((c) => c.delivered));
  });
});
