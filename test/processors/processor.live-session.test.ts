import type { Consumer } from 'kafkajs';
import { createIdempotentProducer } from '../../shared/kafka/kafka.client';
import { channelKey } from '../../shared/kafka/topics';
import { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import type { MetricWindow } from '../../shared/events/events';
import { ProcessorService } from '../../processors/processor.service';
import { eventually, randomSuffix, testStack, TestStack } from '../support/stack';
import { FixtureEvent, produceEvents, T0 } from './processor-fixtures';
import { createProcessor } from '../../processors/processor.wiring';

const sec = (n: number) => T0 + n * 1000;
const ch = { platform: 'twitch', channelId: 'running1', userId: 'creator-live' };
const key = channelKey(ch.platform, ch.channelId);
const snap = (id: string, s: number, viewers: number | null, live = true): FixtureEvent => ({
  topic: 'snapshots', key, t: sec(s),
  value: { ...ch, eventId: id, observedAt: sec(s), live, viewers, streamId: live ? 'L' : null, startedAt: live ? sec(0) : null, title: live ? 'Running' : null, category: null, language: null, source: 'poll' },
});
const life = (type: 'started' | 'ended', s: number): FixtureEvent => ({
  topic: 'lifecycle', key, t: sec(s), value: { ...ch, eventId: `twitch:running1:L:${type}`, type, streamId: 'L', occurredAt: sec(s), title: 'Running', category: 'Science', source: 'poll', reportedAt: null },
});
const fol = (id: string, s: number, n: number): FixtureEvent => ({ topic: 'followers', key, t: sec(s), value: { ...ch, eventId: id, observedAt: sec(s), followers: n } });
const chat = (id: string, endS: number, messages: number): FixtureEvent => ({
  topic: 'chat', key, t: sec(endS) - 1, value: { ...ch, eventId: id, intervalStart: sec(endS - 30), intervalEnd: sec(endS), messages, chatterIds: ['a', 'b'], samplingRate: 1 },
});

interface SessionRecord {
  status: string; duration_seconds: number; peak_viewers: number; avg_viewers: number; hours_watched: number; followers_gained: number; chat_messages: number; ended_at: string | null;
}

/**
 * Issue 16: a live session carries its running figures (duration so far, peak, average, hours watched,
 * followers gained, chat messages) at each closed window — in stream_sessions and on the MetricWindow
 * the gateway forwards — and its final summary at the end is unchanged. Hand-computed; real Kafka,
 * Registry and ClickHouse.
 */
describe('processor: running session figures while a stream is live (real Kafka, Registry, ClickHouse)', () => {
  let stack: TestStack;
  let processor: ProcessorService;
  let repo: ClickHouseRepository;
  let reader: Consumer;
  const windows: MetricWindow[] = [];

  beforeAll(async () => {
    stack = await testStack({ PROCESSOR_ALLOWED_LATENESS_SECONDS: '60', PROCESSOR_FLUSH_INTERVAL_MS: '100', PROCESSOR_EARLY_FIRE_SECONDS: '1' });
    repo = new ClickHouseRepository(stack.rt.clickhouseSettings);
    processor = createProcessor(stack.rt);
    await processor.start();
    reader = stack.rt.kafka.consumer({ groupId: `live-session-reader-${randomSuffix()}` });
    await reader.connect();
    await reader.subscribe({ topics: [stack.rt.topics.windows], fromBeginning: true });
    await reader.run({ eachMessage: async ({ message }) => void windows.push(await stack.rt.registry.decode<MetricWindow>(stack.rt.topics.windows, message.value)) });
  });
  afterAll(async () => {
    await reader?.disconnect();
    await processor?.close();
    await repo?.close();
    await stack?.cleanup();
  });

  const session = async () =>
    (await repo.query<SessionRecord>('session', 'SELECT * FROM stream_sessions_latest WHERE channel_id = {c:String}', { c: ch.channelId }))[0];

  it('reads duration so far, peak, average, hours watched, followers gained and chat at each closed window, then the unchanged final summary', async () => {
    const producer = createIdempotentProducer(stack.rt.kafka);
    await producer.connect();
    // Minute 0: 100, 200 (avg 150); minute 1: 300, 100 (avg 200), +10 followers; minute 2: 50. Chat: 10 messages in minute 0.
    await produceEvents(stack.rt, producer, [
      life('started', 0), snap('s10', 10, 100), fol('f20', 20, 1000), chat('c30', 30, 10), snap('s40', 40, 200),
      snap('s70', 70, 300), fol('f80', 80, 1010), snap('s100', 100, 100), snap('s130', 130, 50),
      snap('s250', 250, 60), // watermark 190 s: minutes 0–2 are closed, the stream is still live
    ], 1000);

    const live = await eventually(session, (s) => s?.status === 'live' && s.duration_seconds === 180, 60_000);
    expect(live).toMatchObject({ status: 'live', ended_at: null, duration_seconds: 180, peak_viewers: 300, followers_gained: 10, chat_messages: 10 });
    expect(live!.avg_viewers).toBeCloseTo((150 + 200 + 50) / 3, 6);
    expect(live!.hours_watched).toBeCloseTo((150 + 200 + 50) / 60, 6);

    // The gateway's MetricWindow for minute 2 carries the same running figures.
    const newest = await eventually(async () => windows.find((w) => w.windowStart === sec(120)), (w) => w !== undefined, 30_000);
    expect(newest!.session).toMatchObject({ streamId: 'L', startedAt: sec(0), durationSeconds: 180, peakViewers: 300, followersGained: 10, chatMessages: 10 });
    expect(newest!.session!.avgViewers).toBeCloseTo(400 / 3, 6);

    // Minute 4 is still open: its running figures arrive early, flagged provisional, and are not a row.
    const early = await eventually(async () => windows.find((w) => w.windowStart === sec(240) && w.provisional), (w) => w !== undefined, 30_000);
    expect(early).toMatchObject({ provisional: true, samples: 1, avgViewers: 60, peakViewers: 60, live: true });
    const [openRows] = await repo.query<{ n: number }>('open row', 'SELECT count() AS n FROM metrics_1m WHERE channel_id = {c:String} AND window_start = {ws:DateTime}', { c: ch.channelId, ws: sec(240) / 1000 });
    expect(openRows!.n).toBe(0);
    expect(windows.filter((w) => w.windowStart <= sec(120) && w.provisional).every((w) => w.windowStart < sec(240))).toBe(true);

    // The end: minute 4 (60 viewers) closes, and the final summary is computed from all windows as before.
    // The end and the tick that closes minute 4 are on different topics, so the processor may read them in
    // either order (read the tick first, it rightly sends minute 4 with the still-running session); the tick
    // goes once the end has been read, so minute 4 closes after the stream has ended.
    const seen = processor.stats.processed;
    await produceEvents(stack.rt, producer, [life('ended', 260)], 1000);
    await eventually(async () => processor.stats.processed, (n) => n > seen, 30_000);
    await produceEvents(stack.rt, producer, [snap('tick', 900, null, false)], 1000);
    await producer.disconnect();
    const ended = await eventually(session, (s) => s?.status === 'ended', 60_000);
    expect(ended).toMatchObject({ duration_seconds: 260, peak_viewers: 300, followers_gained: 10, chat_messages: 10 });
    expect(ended!.avg_viewers).toBeCloseTo((150 + 200 + 50 + 60) / 4, 6);
    expect(ended!.hours_watched).toBeCloseTo((150 + 200 + 50 + 60) / 60, 6);
    // Windows after the end carry no session.
    const tail = await eventually(async () => windows.filter((w) => w.windowStart >= sec(240)), (w) => w.length >= 1, 30_000);
    for (const w of tail.filter((x) => !x.provisional)) expect(w.session).toBeNull();
    // Minute 4's final window follows, with the same figures its provisional firings had.
    const final4 = await eventually(async () => windows.find((w) => w.windowStart === sec(240) && !w.provisional), (w) => w !== undefined, 30_000);
    expect(final4).toMatchObject({ avgViewers: 60, peakViewers: 60, samples: 1 });
  }, 180_000);
});
