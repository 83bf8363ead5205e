import { io as connectIo, Socket } from 'socket.io-client';
import { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import { channelKey } from '../../shared/kafka/topics';
import { ProcessorService } from '../../processors/processor.service';
import { FixtureEvent, produceEvents } from '../processors/processor-fixtures';
import { eventually } from '../support/stack';
import { GatewayFixture, PlainClient } from './gateway.fixture';
import { createProcessor } from '../../processors/processor.wiring';

// The stream's polls lie a few minutes back; the creator tool reports its start and end now (the
// gateway stamps them with its receive time, so a tool cannot choose event time).
const T0 = Math.floor((Date.now() - 5 * 60_000) / 60_000) * 60_000;
const sec = (n: number) => T0 + n * 1000;

/**
 * The whole loop with the real processors: a creator's own tool reports the stream start and end over
 * Socket.IO (stream_event → Kafka lifecycle), "ingest" (this test) produces the snapshots, chat and
 * followers of the minutes before the end, the processors close windows and raise alerts, and both a plain-WS and a
 * Socket.IO dashboard of the creator receive start, metric windows and the end with its summary —
 * whose values match what the processors wrote to ClickHouse.
 */
describe('gateway end to end: creator tool → Kafka → processors → ClickHouse + alerts/windows → gateway → clients', () => {
  let f: GatewayFixture;
  let processor: ProcessorService;
  let repo: ClickHouseRepository;
  const sockets: Socket[] = [];
  let plain: PlainClient;
  const sioReceived: Array<{ event: string; data: Record<string, unknown> }> = [];

  beforeAll(async () => {
    f = await GatewayFixture.create({ PROCESSOR_ALLOWED_LATENESS_SECONDS: '60', PROCESSOR_FLUSH_INTERVAL_MS: '100' }, { clickhouse: true });
    repo = new ClickHouseRepository(f.stack.rt.clickhouseSettings);
  });
  afterAll(async () => {
    plain?.close();
    for (const s of sockets) s.disconnect();
    await processor?.close();
    await repo?.close();
    await f?.close();
  });

  it('delivers stream start, metric windows and the end summary that match ClickHouse, on both protocols', async () => {
    const { alice } = f;
    const { rt } = f.stack;
    const tool = connectIo(f.httpUrl, { auth: { token: alice.token }, transports: ['websocket'], reconnection: false, forceNew: true });
    const dashboard = connectIo(f.httpUrl, { auth: { token: alice.token }, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(tool, dashboard);
    dashboard.onAny((event: string, data: Record<string, unknown>) => sioReceived.push({ event, data }));
    expect(await dashboard.timeout(20000).emitWithAck('join_stream_channel', { userId: alice.userId })).toEqual({ ok: true, userId: alice.userId });
    plain = await PlainClient.connect(f.wsUrl, { token: alice.token });
    await plain.request('join_stream_channel', { userId: alice.userId });

    const ch = { platform: 'twitch', channelId: alice.channelId, userId: alice.userId };
    const key = channelKey('twitch', alice.channelId);
    const snap = (id: string, t: number, viewers: number | null, live = true): FixtureEvent => ({
      topic: 'snapshots', key, t,
      value: { ...ch, eventId: id, observedAt: t, live, viewers, streamId: live ? 'S' : null, startedAt: live ? T0 : null, title: live ? 'E2E' : null, category: null, language: null, source: 'poll' },
    });
    const chat = (id: string, end: number, messages: number, chatterIds: string[]): FixtureEvent => ({
      topic: 'chat', key, t: end - 1, value: { ...ch, eventId: id, intervalStart: end - 30_000, intervalEnd: end, messages, chatterIds, samplingRate: 1 },
    });
    const fol = (id: string, t: number, followers: number, paid?: [number, number]): FixtureEvent => ({
      topic: 'followers', key, t, value: { ...ch, eventId: id, observedAt: t, followers, ...(paid ? { paidSubscribers: paid[0], subscriptionPoints: paid[1] } : {}) },
    });

    const started = await tool.timeout(20000).emitWithAck('stream_event', { type: 'start', platform: 'twitch', userId: alice.userId, streamData: { streamId: 'S', title: 'E2E' } });
    expect(started).toMatchObject({ ok: true, eventId: `twitch:${alice.channelId}:S:started` });
    const producer = f.producer;
    await produceEvents(rt, producer, [
      snap('a', sec(10), 100), fol('f1', sec(20), 990), chat('m1', sec(30), 10, ['a', 'b', 'c']), snap('b', sec(40), 200),
      chat('m2', sec(60), 5, ['c', 'd']), snap('c', sec(70), 300), fol('f2', sec(80), 1005, [40, 45]),
    ], 1000);
    const ended = await tool.timeout(20000).emitWithAck('stream_event', { type: 'end', platform: 'twitch', userId: alice.userId, streamData: { streamId: 'S' } });
    expect(ended).toMatchObject({ ok: true, eventId: `twitch:${alice.channelId}:S:ended` });
    // Time passes: a poll ten minutes on (arriving then: event time is bounded by arrival) moves the watermark past the end.
    const later = Date.now() + 10 * 60_000;
    await produceEvents(rt, producer, [{ ...snap('tick', later, null, false), arrival: later }]);

    processor = createProcessor(rt);
    await processor.start();

    const sio = (event: string) => sioReceived.filter((m) => m.event === event).map((m) => m.data);
    const end = await plain.waitFor('stream_notification', (d) => d.type === 'end', 60000);
    await eventually(async () => sio('stream_notification'), (n) => n.some((d) => d.type === 'end'), 30000);

    const [session] = await eventually(
      () => repo.query<{ duration_seconds: number; peak_viewers: number; avg_viewers: number; hours_watched: number; chat_messages: number; followers_gained: number }>(
        'session', 'SELECT * FROM stream_sessions_latest WHERE channel_id = {c:String} AND status = {s:String}', { c: alice.channelId, s: 'ended' }),
      (r) => r.length === 1,
    );
    const expectedSummary = {
      streamId: 'S', durationSeconds: session!.duration_seconds, peakViewers: session!.peak_viewers, avgViewers: session!.avg_viewers,
      hoursWatched: session!.hours_watched, chatMessages: session!.chat_messages, followersGained: session!.followers_gained,
    };
    expect(end.summary).toMatchObject(expectedSummary);
    expect(sio('stream_notification').find((d) => d.type === 'end')!.summary).toMatchObject(expectedSummary);
    for (const notes of [plain.of('stream_notification'), sio('stream_notification')]) {
      expect(notes.map((n) => n.type)).toEqual(['start', 'end']);
      expect(notes[0]).toMatchObject({ userId: alice.userId, platform: 'twitch', channelId: alice.channelId });
    }

    const rows = await repo.query<{ ws: number; avg_viewers: number; peak_viewers: number; samples: number; chat_messages: number; followers: number | null }>(
      'windows', 'SELECT toUnixTimestamp(window_start) * 1000 AS ws, avg_viewers, peak_viewers, samples, chat_messages, followers FROM metrics_1m_latest WHERE channel_id = {c:String} ORDER BY window_start', { c: alice.channelId });
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const asClickHouse = (w: Record<string, unknown>) => ({ ws: w.windowStart, avg_viewers: w.avgViewers, peak_viewers: w.peakViewers, samples: w.samples, chat_messages: w.chatMessages, followers: w.followers });
    for (const received of [plain.of('metrics_update'), sio('metrics_update')]) {
      // Final windows only: provisional early firings of open windows carry running figures, not the row.
      const live = await eventually(async () => received.filter((w) => w.live && !w.provisional), (w) => w.length >= rows.filter((r) => r.samples > 0).length, 30000);
      for (const w of live) expect(rows).toContainEqual(asClickHouse(w));
      // Paid subscribers reach the client: null (not 0) in the minute read without them, then the figure.
      expect(live.find((w) => w.windowStart === T0)).toMatchObject({ paidSubscribers: null, paidSubscriberDelta: null, subscriptionPoints: null });
      expect(live.find((w) => w.windowStart === T0 + 60_000)).toMatchObject({ paidSubscribers: 40, subscriptionPoints: 45 });
    }
  });
});
