import type { Consumer, KafkaMessage } from 'kafkajs';
import { createIdempotentProducer } from '../../shared/kafka/kafka.client';
import { channelKey, rawTopicFor } from '../../shared/kafka/topics';
import { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import type { Alert, MetricWindow } from '../../shared/events/events';
import { ProcessorService } from '../../processors/processor.service';
import { eventually, testStack, TestStack } from '../support/stack';
import { FixtureEvent, produceEvents, T0 } from './processor-fixtures';
import { createProcessor } from '../../processors/processor.wiring';

const sec = (n: number) => T0 + n * 1000;
const hc1 = { platform: 'twitch', channelId: 'hc1', userId: 'creator' };
const hc2 = { platform: 'youtube', channelId: 'hc2', userId: 'creator' };
const k1 = channelKey('twitch', 'hc1');
const k2 = channelKey('youtube', 'hc2');

const snap = (c: typeof hc1, id: string, t: number, viewers: number | null, streamId: string | null, live = true): FixtureEvent => ({
  topic: 'snapshots', key: channelKey(c.platform, c.channelId), t,
  value: { ...c, eventId: id, observedAt: t, live, viewers, streamId, startedAt: live ? T0 : null, title: live ? 'Hand computed' : null, category: null, language: null, source: 'poll' },
});
const chat = (c: typeof hc1, id: string, end: number, messages: number, chatterIds: string[], samplingRate = 1): FixtureEvent => ({
  topic: 'chat', key: channelKey(c.platform, c.channelId), t: end - 1, value: { ...c, eventId: id, intervalStart: end - 30_000, intervalEnd: end, messages, chatterIds, samplingRate },
});
const fol = (c: typeof hc1, id: string, t: number, followers: number): FixtureEvent => ({ topic: 'followers', key: channelKey(c.platform, c.channelId), t, value: { ...c, eventId: id, observedAt: t, followers } });
const life = (type: 'started' | 'ended', t: number): FixtureEvent => ({
  topic: 'lifecycle', key: k1, t, value: { ...hc1, eventId: `twitch:hc1:S:${type}`, type, streamId: 'S', occurredAt: t, title: 'Hand computed', category: 'Science', source: 'poll', reportedAt: null },
});

async function collect(consumer: Consumer, topics: string[], until: (byTopic: Map<string, KafkaMessage[]>) => boolean): Promise<Map<string, KafkaMessage[]>> {
  const byTopic = new Map<string, KafkaMessage[]>(topics.map((t) => [t, []]));
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ topic, message }) => void byTopic.get(topic)!.push(message) });
  await eventually(async () => byTopic, until, 30000);
  return byTopic;
}

describe('processor: hand-computed event sequences → exact windows in ClickHouse (real Kafka, Registry, ClickHouse)', () => {
  let stack: TestStack;
  let processor: ProcessorService;
  let repo: ClickHouseRepository;
  let reader: Consumer;

  beforeAll(async () => {
    stack = await testStack({ PROCESSOR_ALLOWED_LATENESS_SECONDS: '60', PROCESSOR_FLUSH_INTERVAL_MS: '100' });
    repo = new ClickHouseRepository(stack.rt.clickhouseSettings);
    const { rt } = stack;
    const producer = createIdempotentProducer(rt.kafka);
    await producer.connect();
    await produceEvents(rt, producer, [
      life('started', sec(0)),
      snap(hc1, 'a', sec(10), 100, 'S'),
      snap(hc2, 'y1', sec(15), 50, 'Y'),
      fol(hc1, 'f1', sec(20), 990),
      chat(hc1, 'm1', sec(30), 10, ['a', 'b', 'c']),
      snap(hc1, 'b', sec(40), 200, 'S'),
      snap(hc1, 'b', sec(40), 200, 'S'), // duplicate
      snap(hc2, 'y2', sec(45), 70, 'Y'),
      { ...snap(hc1, 'poison', sec(46), 1, 'S'), raw: Buffer.from('definitely not avro') },
      snap(hc1, 'negative', sec(47), -5, 'S'), // decodes, breaks a domain rule
      chat(hc1, 'm2', sec(60), 5, ['c', 'd']),
      chat(hc2, 'ym', sec(60), 3, ['p', 'q'], 0.25), // YouTube chat sampled by the quota planner: flagged, not scaled
      snap(hc1, 'c', sec(70), 300, 'S'),
      snap(hc1, 'd', sec(50), 150, 'S'), // out of order, within lateness
      fol(hc1, 'f2', sec(80), 1005),
      life('ended', sec(100)),
    ], 1000);
    // Ticks move each shard's watermark far ahead; the late event comes after them.
    await produceEvents(rt, producer, [snap(hc1, 'tick1', sec(600), null, null, false), snap(hc2, 'tick2', sec(600), null, null, false)]);
    await produceEvents(rt, producer, [snap(hc1, 'late', sec(30), 999, 'S')]);
    await producer.disconnect();
    processor = createProcessor(rt);
    await processor.start();
  });

  afterAll(async () => {
    await reader?.disconnect();
    await processor?.close();
    await repo?.close();
    await stack?.cleanup();
  });

  it('writes the exact 1-minute windows (out of order, duplicated, late and poison input)', async () => {
    const rows = await eventually(
      () => repo.query<Record<string, unknown>>('windows', 'SELECT * EXCEPT (latest_version, user_id) FROM metrics_1m_latest ORDER BY platform, channel_id, window_start'),
      (r) => r.length >= 3,
    );
    expect(rows).toEqual([
      {
        platform: 'twitch', channel_id: 'hc1', window_start: '2025-06-02 18:00:00', samples: 3, avg_viewers: 150, peak_viewers: 200, min_viewers: 100,
        viewer_minutes: 150, followers: 990, follower_delta: 0, chat_messages: 15, unique_chatters: 4, engagement_rate: 4 / 150,
        messages_per_viewer_minute: 0.1, live: 1, stream_id: 'S', paid_subscribers: null, paid_subscriber_delta: 0, subscription_points: null, chat_sampling_rate: 1,
      },
      {
        platform: 'twitch', channel_id: 'hc1', window_start: '2025-06-02 18:01:00', samples: 1, avg_viewers: 300, peak_viewers: 300, min_viewers: 300,
        viewer_minutes: 300, followers: 1005, follower_delta: 15, chat_messages: 0, unique_chatters: 0, engagement_rate: 0,
        messages_per_viewer_minute: 0, live: 1, stream_id: 'S', paid_subscribers: null, paid_subscriber_delta: 0, subscription_points: null, chat_sampling_rate: 1,
      },
      {
        platform: 'youtube', channel_id: 'hc2', window_start: '2025-06-02 18:00:00', samples: 2, avg_viewers: 60, peak_viewers: 70, min_viewers: 50,
        viewer_minutes: 60, followers: null, follower_delta: 0, chat_messages: 3, unique_chatters: 2, engagement_rate: 2 / 60,
        messages_per_viewer_minute: 3 / 60, live: 1, stream_id: 'Y', paid_subscribers: null, paid_subscriber_delta: 0, subscription_points: null, chat_sampling_rate: 0.25,
      },
    ]);
    const late = await eventually(() => repo.query<{ event_id: string; watermark: string }>('late', 'SELECT event_id, watermark FROM late_events'), (r) => r.length === 1);
    expect(late[0]).toEqual({ event_id: 'late', watermark: '2025-06-02 18:09:00.000' });
    expect(processor.stats.late).toBe(1);
    expect(processor.stats.dlq).toBe(2);
  });

  it('sums a creator’s platforms per window and rolls windows up by hour', async () => {
    const creator = await repo.query<Record<string, unknown>>(
      'creator',
      `SELECT channels, live_channels, total_avg_viewers, total_peak_viewers, total_viewer_minutes, total_chat_messages, total_unique_chatters
       FROM creator_metrics_1m WHERE user_id = {u:String} AND window_start = {ws:DateTime}`,
      { u: 'creator', ws: T0 / 1000 },
    );
    expect(creator).toEqual([{ channels: 2, live_channels: 2, total_avg_viewers: 210, total_peak_viewers: 270, total_viewer_minutes: 210, total_chat_messages: 18, total_unique_chatters: 6 }]);
    const hourly = await repo.query<Record<string, unknown>>(
      'hourly',
      `SELECT windows, avg_viewers, peak_viewers, viewer_minutes, hours_watched, followers, follower_delta, chat_messages
       FROM metrics_1h WHERE platform = 'twitch' AND channel_id = {c:String}`,
      { c: 'hc1' },
    );
    expect(hourly).toEqual([{ windows: 2, avg_viewers: 225, peak_viewers: 300, viewer_minutes: 450, hours_watched: 7.5, followers: 1005, follower_delta: 15, chat_messages: 15 }]);
  });

  it('records the session with its summary, and each alert once in the alerts table', async () => {
    const sessions = await eventually(
      () => repo.query<Record<string, unknown>>('sessions', 'SELECT * EXCEPT (latest_version, user_id, title, category) FROM stream_sessions_latest ORDER BY platform'),
      (r) => r.some((s) => s.status === 'ended') && r.some((s) => s.status === 'live' && Number(s.duration_seconds) > 0),
    );
    expect(sessions).toEqual([
      {
        platform: 'twitch', channel_id: 'hc1', stream_id: 'S', started_at: '2025-06-02 18:00:00.000', ended_at: '2025-06-02 18:01:40.000', duration_seconds: 100,
        peak_viewers: 300, avg_viewers: 225, hours_watched: 7.5, followers_gained: 15, chat_messages: 15, status: 'ended', paid_subscribers_gained: null,
      },
      {
        // Still live: its running summary over the one closed window (50 and 70 viewers, 3 messages).
        platform: 'youtube', channel_id: 'hc2', stream_id: 'Y', started_at: '2025-06-02 18:00:00.000', ended_at: null, duration_seconds: 60,
        peak_viewers: 70, avg_viewers: 60, hours_watched: 1, followers_gained: 0, chat_messages: 3, status: 'live', paid_subscribers_gained: null,
      },
    ]);
    const alerts = await eventually(
      () => repo.query<{ alert_id: string; type: string; details: string }>('alerts', 'SELECT alert_id, type, details FROM alerts FINAL ORDER BY alert_id'),
      (r) => r.length >= 4,
    );
    expect(alerts.map((a) => a.alert_id)).toEqual(['follower_milestone:twitch:hc1:1000', 'stream_ended:twitch:hc1:S', 'stream_started:twitch:hc1:S', 'stream_started:youtube:hc2:Y']);
    expect(JSON.parse(alerts[1]!.details)).toMatchObject({ streamId: 'S', durationSeconds: 100, peakViewers: 300, avgViewers: 225, hoursWatched: 7.5, followersGained: 15, chatMessages: 15 });
  });

  it('publishes closed windows and alerts (Avro, key userId) and dead letters with their reason', async () => {
    const { rt } = stack;
    await processor.flushNow();
    reader = rt.kafka.consumer({ groupId: `${rt.kafkaSettings.topicPrefix}.reader` });
    await reader.connect();
    const dlqTopic = rawTopicFor(rt.kafkaSettings.topicPrefix, 'processorDlq');
    const got = await collect(reader, [rt.topics.windows, rt.topics.alerts, dlqTopic], (m) => m.get(rt.topics.windows)!.length >= 3 && m.get(rt.topics.alerts)!.length >= 4 && m.get(dlqTopic)!.length >= 2);
    const windows = await Promise.all(got.get(rt.topics.windows)!.map((m) => rt.registry.decode<MetricWindow>(rt.topics.windows, m.value)));
    expect(windows.find((w) => w.channelId === 'hc1' && w.windowStart === T0)).toMatchObject({ avgViewers: 150, samples: 3, uniqueChatters: 4, followers: 990 });
    // The live feed (gateway metrics_update) carries the chat sampling flag of each window.
    expect(windows.find((w) => w.channelId === 'hc1' && w.windowStart === T0)!.chatSamplingRate).toBe(1);
    expect(windows.find((w) => w.channelId === 'hc2' && w.windowStart === T0)).toMatchObject({ chatMessages: 3, chatSamplingRate: 0.25 });
    expect(got.get(rt.topics.windows)!.every((m) => m.key?.toString() === 'creator')).toBe(true);
    const alerts = await Promise.all(got.get(rt.topics.alerts)!.map((m) => rt.registry.decode<Alert>(rt.topics.alerts, m.value)));
    expect(new Set(alerts.map((a) => a.type))).toEqual(new Set(['stream_started', 'follower_milestone', 'stream_ended']));
    expect(JSON.parse(alerts.find((a) => a.type === 'stream_ended')!.detailsJson)).toMatchObject({ durationSeconds: 100 });
    const dlq = got.get(dlqTopic)!;
    expect(dlq.map((m) => m.headers!['x-dlq-reason']!.toString()).sort()).toEqual(['invalid', 'undecodable']);
    expect(dlq.find((m) => m.headers!['x-dlq-reason']!.toString() === 'undecodable')!.value!.toString()).toBe('definitely not avro');
    expect(dlq.every((m) => m.key?.toString() === k1 && m.headers!['x-dlq-topic']!.toString() === rt.topics.snapshots)).toBe(true);
    expect(k2).toBe('youtube:hc2');
  });
});
