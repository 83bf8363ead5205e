/**
 * Issue 18.3: Twitch paid subscribers and points, read with the follower counts, windowed per minute
 * (total at the window's end, change in the window, points), per session (gained) and per hour (the
 * rollup) — null, not 0, for a channel whose grant never gave them. Hand-computed, through real Kafka,
 * Schema Registry and ClickHouse; a full replay of the input by a second consumer group rewrites the
 * same figures (nothing counted twice).
 */
import { createIdempotentProducer } from '../../shared/kafka/kafka.client';
import { channelKey } from '../../shared/kafka/topics';
import { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import type { ProcessorService } from '../../processors/processor.service';
import { createProcessor } from '../../processors/processor.wiring';
import { eventually, testStack, TestStack } from '../support/stack';
import { FixtureEvent, produceEvents, T0 } from './processor-fixtures';

const sec = (n: number) => T0 + n * 1000;
const tw = { platform: 'twitch', channelId: 'ps1', userId: 'creator' };
const yt = { platform: 'youtube', channelId: 'ps2', userId: 'creator' };
type Channel = typeof tw;

const snap = (c: Channel, id: string, t: number, viewers: number | null, streamId: string | null, live = true): FixtureEvent => ({
  topic: 'snapshots', key: channelKey(c.platform, c.channelId), t,
  value: { ...c, eventId: id, observedAt: t, live, viewers, streamId, startedAt: live ? T0 : null, title: null, category: null, language: null, source: 'poll' },
});
const fol = (c: Channel, id: string, t: number, followers: number, paid?: [number, number]): FixtureEvent => ({
  topic: 'followers', key: channelKey(c.platform, c.channelId), t,
  value: { ...c, eventId: id, observedAt: t, followers, ...(paid ? { paidSubscribers: paid[0], subscriptionPoints: paid[1] } : {}) },
});
const life = (c: Channel, type: 'started' | 'ended', streamId: string, t: number): FixtureEvent => ({
  topic: 'lifecycle', key: channelKey(c.platform, c.channelId), t,
  value: { ...c, eventId: `${c.platform}:${c.channelId}:${streamId}:${type}`, type, streamId, occurredAt: t, title: null, category: null, source: 'poll', reportedAt: null },
});

const INPUT: FixtureEvent[] = [
  life(tw, 'started', 'S', sec(0)),
  snap(tw, 'a', sec(10), 100, 'S'),
  snap(yt, 'y1', sec(10), 50, 'Y'),
  fol(tw, 'f1', sec(20), 990, [40, 50]),
  fol(yt, 'g1', sec(20), 5000), // YouTube: followers only
  snap(tw, 'b', sec(70), 100, 'S'),
  fol(tw, 'f2', sec(80), 1000, [43, 55]),
  fol(tw, 'f2', sec(80), 1000, [43, 55]), // a producer retry
  snap(yt, 'y2', sec(70), 50, 'Y'),
  fol(yt, 'g2', sec(80), 5004),
  snap(tw, 'c', sec(130), 100, 'S'),
  fol(tw, 'f3', sec(140), 1002, [47, 60]),
  snap(tw, 'd', sec(190), 100, 'S'), // minute 3: the total carried, no change
  life(tw, 'ended', 'S', sec(200)),
];
const TICKS = [snap(tw, 'tick1', sec(900), null, null, false), snap(yt, 'tick2', sec(900), null, null, false)];

describe('processor: Twitch paid subscribers per minute, per session and per hour (real Kafka, Registry, ClickHouse)', () => {
  let stack: TestStack;
  let repo: ClickHouseRepository;
  const processors: ProcessorService[] = [];

  beforeAll(async () => {
    stack = await testStack({ PROCESSOR_ALLOWED_LATENESS_SECONDS: '60', PROCESSOR_FLUSH_INTERVAL_MS: '100' });
    repo = new ClickHouseRepository(stack.rt.clickhouseSettings);
    const producer = createIdempotentProducer(stack.rt.kafka);
    await producer.connect();
    await produceEvents(stack.rt, producer, INPUT, 1000);
    await produceEvents(stack.rt, producer, TICKS);
    await producer.disconnect();
    processors.push(createProcessor(stack.rt));
    await processors[0]!.start();
  });

  afterAll(async () => {
    for (const p of processors) await p.close();
    await repo?.close();
    await stack?.cleanup();
  });

  const windows = () => repo.query<{ channel_id: string; ws: string; followers: number | null; paid_subscribers: number | null; paid_subscriber_delta: number; subscription_points: number | null }>(
    'windows',
    `SELECT channel_id, toString(window_start) AS ws, followers, paid_subscribers, paid_subscriber_delta, subscription_points
     FROM metrics_1m_latest WHERE window_start < {end:DateTime} ORDER BY channel_id, window_start`,
    { end: sec(600) / 1000 },
  );
  const sessions = () => repo.query<{ stream_id: string; status: string; followers_gained: number; paid_subscribers_gained: number | null }>(
    'sessions', 'SELECT stream_id, status, followers_gained, paid_subscribers_gained FROM stream_sessions_latest ORDER BY stream_id',
  );
  const EXPECTED_WINDOWS = [
    { channel_id: 'ps1', ws: '2025-06-02 18:00:00', followers: 990, paid_subscribers: 40, paid_subscriber_delta: 0, subscription_points: 50 },
    { channel_id: 'ps1', ws: '2025-06-02 18:01:00', followers: 1000, paid_subscribers: 43, paid_subscriber_delta: 3, subscription_points: 55 },
    { channel_id: 'ps1', ws: '2025-06-02 18:02:00', followers: 1002, paid_subscribers: 47, paid_subscriber_delta: 4, subscription_points: 60 },
    { channel_id: 'ps1', ws: '2025-06-02 18:03:00', followers: 1002, paid_subscribers: 47, paid_subscriber_delta: 0, subscription_points: 60 },
    { channel_id: 'ps2', ws: '2025-06-02 18:00:00', followers: 5000, paid_subscribers: null, paid_subscriber_delta: 0, subscription_points: null },
    { channel_id: 'ps2', ws: '2025-06-02 18:01:00', followers: 5004, paid_subscribers: null, paid_subscriber_delta: 0, subscription_points: null },
  ];

  it('writes the total at each window end, its change and the points; null for the channel without them', async () => {
    expect(await eventually(windows, (r) => r.length >= EXPECTED_WINDOWS.length)).toEqual(EXPECTED_WINDOWS);
  });

  it('sums the subscribers gained over the session; null (not 0) for a session whose windows never knew the total', async () => {
    const rows = await eventually(sessions, (r) => r.some((s) => s.stream_id === 'S' && s.status === 'ended') && r.some((s) => s.stream_id === 'Y'));
    expect(rows).toEqual([
      { stream_id: 'S', status: 'ended', followers_gained: 12, paid_subscribers_gained: 7 },
      { stream_id: 'Y', status: 'live', followers_gained: 4, paid_subscribers_gained: null },
    ]);
  });

  it('rolls the hour up with the last total, the points and the change (null change for the channel without them)', async () => {
    await processors[0]!.close();
    processors.pop();
    // The hour 18:00 completes once a window of 19:00 closes: a later snapshot and a tick after it.
    const producer = createIdempotentProducer(stack.rt.kafka);
    await producer.connect();
    await produceEvents(stack.rt, producer, [snap(tw, 'h1', sec(3700), null, null, false), snap(yt, 'h2', sec(3700), null, null, false)]);
    await produceEvents(stack.rt, producer, [snap(tw, 'h1t', sec(4500), null, null, false), snap(yt, 'h2t', sec(4500), null, null, false)]);
    await producer.disconnect();
    processors.push(createProcessor(stack.rt));
    await processors[0]!.start();
    const rollup = await eventually(
      () => repo.query<Record<string, unknown>>(
        'rollup',
        `SELECT channel_id, last_paid_subscribers, last_subscription_points, paid_subscriber_windows, paid_subscriber_delta
         FROM metrics_1h_rollup WHERE bucket_start = {h:DateTime} ORDER BY channel_id, version DESC LIMIT 1 BY channel_id`,
        { h: T0 / 1000 },
      ),
      (r) => r.length === 2,
      60_000,
    );
    expect(rollup).toEqual([
      { channel_id: 'ps1', last_paid_subscribers: 47, last_subscription_points: 60, paid_subscriber_windows: 4, paid_subscriber_delta: 7 },
      { channel_id: 'ps2', last_paid_subscribers: null, last_subscription_points: null, paid_subscriber_windows: 0, paid_subscriber_delta: 0 },
    ]);
  });

  it('a full replay of the input (a second consumer group) rewrites the same figures: nothing is counted twice', async () => {
    const replay = createProcessor(stack.rt, { groupId: `${stack.rt.kafkaSettings.topicPrefix}.replay` });
    processors.push(replay);
    await replay.start();
    await eventually(async () => replay.stats.windows, (n) => n >= EXPECTED_WINDOWS.length, 60_000);
    expect(await windows()).toEqual(EXPECTED_WINDOWS);
    expect((await sessions()).find((s) => s.stream_id === 'S')).toMatchObject({ paid_subscribers_gained: 7 });
  });
});
