import { io as connectIo, Socket } from 'socket.io-client';
import type { StreamSnapshot } from '../../shared/events/events';
import { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import { channelKey } from '../../shared/kafka/topics';
import { ProcessorService } from '../../processors/processor.service';
import { IngestService } from '../../ingest/ingest.service';
import { platformPorts } from '../../ingest/platform.ports';
import type { IngestPorts } from '../../ingest/ingest.ports';
import { endpointsAt } from '../../platforms/endpoints';
import { FAST_INGEST, simulatedPlatforms } from '../ingest/ingest.harness';
import { eventually } from '../support/stack';
import { GatewayFixture, PlainClient } from './gateway.fixture';
import { createProcessor } from '../../processors/processor.wiring';

/**
 * Issue 7/12 acceptance, the whole system: a creator connects a channel of the platform simulator
 * through OAuth, the simulator puts it live, ingest polls it (BullMQ → Kafka), the processors window it
 * and raise alerts, and the creator's plain-WS and Socket.IO dashboards receive the start, metric
 * windows and the end with its session summary — compared with what the processors wrote to ClickHouse.
 * Windows and sessions close on event time; one far-future snapshot after the end stands in for the
 * minutes of polling that would move the watermark (as the processors' own tests do).
 */
describe('gateway end to end from the platform simulator: OAuth connect → ingest → processors → gateway → clients', () => {
  let f: GatewayFixture;
  let platforms: Awaited<ReturnType<typeof simulatedPlatforms>>;
  let ports: IngestPorts;
  let ingest: IngestService | undefined;
  let processor: ProcessorService | undefined;
  let repo: ClickHouseRepository;
  let dashboard: Socket | undefined;
  let plain: PlainClient | undefined;

  beforeAll(async () => {
    f = await GatewayFixture.create({ ...FAST_INGEST, PROCESSOR_ALLOWED_LATENESS_SECONDS: '0', PROCESSOR_FLUSH_INTERVAL_MS: '200' }, { clickhouse: true });
    platforms = await simulatedPlatforms(f.stack.rt, 4);
    ports = platformPorts(f.stack.rt.config, undefined, { endpoints: endpointsAt(platforms.sim.url) });
    repo = new ClickHouseRepository(f.stack.rt.clickhouseSettings);
  });
  afterAll(async () => {
    plain?.close();
    dashboard?.disconnect();
    await ingest?.close();
    await processor?.close();
    await ports?.close?.();
    await platforms?.close();
    await repo?.close();
    await f?.close();
  });

  it('a simulated creator goes live and offline; both protocols get start, windows and the end summary matching ClickHouse', async () => {
    const { rt } = f.stack;
    const { alice } = f;
    const world = platforms.sim.world;
    for (const c of world.channels) world.forceLive(c.channelId, false);
    const [conn] = await platforms.connect(alice.userId, 1);
    expect(conn).toMatchObject({ userId: alice.userId, status: 'active' });
    const channelId = conn!.channelId;
    const key = channelKey(conn!.platform, channelId);
    world.forceLive(channelId, true, Date.now() - 10 * 60_000);

    dashboard = connectIo(f.httpUrl, { auth: { token: alice.token }, transports: ['websocket'], reconnection: false, forceNew: true });
    const sio: Array<{ event: string; data: Record<string, unknown> }> = [];
    dashboard.onAny((event: string, data: Record<string, unknown>) => sio.push({ event, data }));
    expect(await dashboard.timeout(20000).emitWithAck('join_stream_channel', { userId: alice.userId })).toEqual({ ok: true, userId: alice.userId });
    plain = await PlainClient.connect(f.wsUrl, { token: alice.token });
    await plain.request('join_stream_channel', { userId: alice.userId });

    const lifecycle = await f.lifecycleRecords();
    processor = createProcessor(rt);
    await processor.start();
    ingest = await IngestService.start(rt, { ports, metricsPort: null });

    const start = await plain.waitFor('stream_notification', (d) => d.type === 'start', 45_000);
    expect(start).toMatchObject({ userId: alice.userId, platform: conn!.platform, channelId });
    // A few live polls, then the stream ends on the platform.
    await eventually(async () => processor!.stats.processed, (n) => n >= 8, 30_000);
    world.forceLive(channelId, false);
    // Ingest sees the stream end; the processors close the session once event time passes its last
    // window — minutes of polling in real life, one poll from ten minutes on here. Event time is bounded
    // by arrival, so the fast-forward is a record that also arrives then (its Kafka timestamp).
    await eventually(async () => lifecycle().filter((e) => e.channelId === channelId && e.type === 'ended'), (e) => e.length === 1, 30_000);
    const later = Date.now() + 10 * 60_000;
    const tick: StreamSnapshot = { eventId: `${key}:tick`, platform: conn!.platform, channelId, userId: alice.userId, observedAt: later, live: false, viewers: null, streamId: null, startedAt: null, title: null, category: null, language: null, source: 'poll' };
    await f.producer.send({ topic: rt.topics.snapshots, acks: -1, messages: [{ key, value: await rt.registry.encode('snapshots', tick), timestamp: String(later) }] });
    const end = await plain.waitFor('stream_notification', (d) => d.type === 'end', 45_000);
    await eventually(async () => sio.filter((m) => m.event === 'stream_notification' && m.data.type === 'end'), (e) => e.length === 1, 30_000);

    const [session] = await eventually(
      () => repo.query<{ duration_seconds: number; peak_viewers: number; avg_viewers: number; hours_watched: number; chat_messages: number; followers_gained: number; stream_id: string }>(
        'session', 'SELECT * FROM stream_sessions_latest WHERE channel_id = {c:String} AND status = {s:String}', { c: channelId, s: 'ended' }),
      (r) => r.length === 1,
    );
    const summary = {
      streamId: session!.stream_id, durationSeconds: session!.duration_seconds, peakViewers: session!.peak_viewers, avgViewers: session!.avg_viewers,
      hoursWatched: session!.hours_watched, chatMessages: session!.chat_messages, followersGained: session!.followers_gained,
    };
    expect(end.summary).toMatchObject(summary);
    expect(sio.find((m) => m.event === 'stream_notification' && m.data.type === 'end')!.data.summary).toMatchObject(summary);
    expect(session!.peak_viewers).toBeGreaterThan(0);

    // Every live window the clients received is the row the processors wrote.
    const asRow = (w: Record<string, unknown>) => ({ ws: w.windowStart, avg_viewers: w.avgViewers, peak_viewers: w.peakViewers, samples: w.samples, chat_messages: w.chatMessages });
    // Final windows only: provisional early firings of open windows carry running figures, not the row.
    const plainWindows = await eventually(async () => plain!.of('metrics_update').filter((w) => w.live && !w.provisional), (w) => w.length >= 1, 30_000);
    await eventually(async () => sio.filter((m) => m.event === 'metrics_update' && m.data.live && !m.data.provisional), (w) => w.length >= 1, 30_000);
    const rows = await repo.query<Record<string, unknown>>(
      'windows', 'SELECT toUnixTimestamp(window_start) * 1000 AS ws, avg_viewers, peak_viewers, samples, chat_messages FROM metrics_1m_latest WHERE channel_id = {c:String}', { c: channelId });
    const sioWindows = sio.filter((m) => m.event === 'metrics_update' && m.data.live && !m.data.provisional).map((m) => m.data);
    expect(sioWindows.length).toBeGreaterThanOrEqual(1);
    for (const w of [...plainWindows, ...sioWindows]) expect(rows).toContainEqual(asRow(w));
  });
});
