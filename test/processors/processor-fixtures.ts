import type { Producer } from 'kafkajs';
import type { Runtime } from '../../shared/runtime';
import type { ChatActivity, FollowerCount, StreamLifecycle, StreamSnapshot } from '../../shared/events/events';
import { ClickHouseRepository, ClickHouseSettings, createClickHouse, migrate } from '../../shared/clickhouse/clickhouse.repository';
import { channelKey } from '../../shared/kafka/topics';
import type { InputTopic } from '../../processors/state/processor-event';
import { eventually, randomSuffix } from '../support/stack';

export interface FixtureEvent {
  topic: InputTopic;
  key: string;
  value: StreamSnapshot | FollowerCount | ChatActivity | StreamLifecycle;
  /** Event time, for ordering the produce. */
  t: number;
  /** Raw bytes instead of Avro (poison). */
  raw?: Buffer;
  /** The record's Kafka timestamp — when it reached Kafka (default: when it is produced). */
  arrival?: number;
}

export const T0 = Date.UTC(2025, 5, 2, 18, 0, 0);
const MIN = 60_000;

export interface StreamPlan {
  channels: number;
  minutes: number;
}

const platformOf = (i: number) => (i % 2 === 0 ? 'twitch' : 'youtube');
const channelOf = (i: number) => `ch${i}`;
const userOf = (i: number) => `user${Math.floor(i / 2)}`;

/**
 * A deterministic multi-channel stream session with duplicates, small disorder and one late event
 * per channel, followed by a far-future "tick" per channel that moves every shard's watermark past
 * the last window. Produced in event-time chunks (like ingest does), late events and ticks last.
 */
export function generateStream(plan: StreamPlan): { events: FixtureEvent[]; expectedWindows: number; expectedLate: number } {
  const events: FixtureEvent[] = [];
  const late: FixtureEvent[] = [];
  const ticks: FixtureEvent[] = [];
  for (let i = 0; i < plan.channels; i++) {
    const platform = platformOf(i);
    const channelId = channelOf(i);
    const userId = userOf(i);
    const key = channelKey(platform, channelId);
    const streamId = `stream-${i}`;
    const end = T0 + plan.minutes * MIN;
    const life = (type: 'started' | 'ended', t: number): FixtureEvent => ({
      topic: 'lifecycle', key, t,
      value: { eventId: `${platform}:${channelId}:${streamId}:${type}`, type, platform, channelId, userId, streamId, occurredAt: t, title: `Stream ${i}`, category: 'Just Chatting', source: 'poll', reportedAt: null },
    });
    const snap = (t: number, viewers: number, id = `${platform}:${channelId}:${t}`): FixtureEvent => ({
      topic: 'snapshots', key, t,
      value: { eventId: id, platform, channelId, userId, observedAt: t, live: true, viewers, streamId, startedAt: T0, title: `Stream ${i}`, category: 'Just Chatting', language: 'en', source: 'poll' },
    });
    events.push(life('started', T0));
    let k = 0;
    for (let t = T0 + 5_000; t < end; t += 10_000, k++) {
      const minute = Math.floor((t - T0) / MIN);
      const spike = i === 0 && minute === Math.floor(plan.minutes * 0.6) ? 3 : 1; // one viewer spike, channel 0
      const e = snap(t, (100 + i * 10 + (k % 7) * 3) * spike);
      events.push(e);
      if (k % 17 === 0) events.push(e); // a producer retry: the same event id again
    }
    k = 0;
    for (let t = T0 + 20_000; t <= end; t += 20_000, k++) {
      events.push({
        topic: 'chat', key, t: t - 1,
        value: { eventId: `${platform}:${channelId}:chat:${t}`, platform, channelId, userId, intervalStart: t - 20_000, intervalEnd: t, messages: (k % 5) + 1, chatterIds: [`c${k % 4}`, `c${(k + 1) % 4}`, `x${i}`], samplingRate: 1 },
      });
    }
    k = 0;
    for (let t = T0 + 30_000; t < end; t += MIN, k++) {
      events.push({ topic: 'followers', key, t, value: { eventId: `${platform}:${channelId}:followers:${t}`, platform, channelId, userId, observedAt: t, followers: 990 + k * 3 } });
    }
    events.push(life('ended', end));
    late.push(snap(T0 + 30_000, 12345, `${platform}:${channelId}:late`));
    ticks.push({
      topic: 'snapshots', key, t: end + 10 * MIN,
      value: { eventId: `${platform}:${channelId}:tick`, platform, channelId, userId, observedAt: end + 10 * MIN, live: false, viewers: null, streamId: null, startedAt: null, title: null, category: null, language: null, source: 'poll' },
    });
  }
  // Event-time order with a little disorder: pairs of neighbouring snapshots swapped (within lateness).
  events.sort((a, b) => a.t - b.t);
  for (let j = 0; j + 1 < events.length; j += 23) {
    if (events[j]!.topic === 'snapshots' && events[j + 1]!.topic === 'snapshots') [events[j], events[j + 1]] = [events[j + 1]!, events[j]!];
  }
  return { events: [...events, ...late, ...ticks], expectedWindows: plan.channels * plan.minutes, expectedLate: plan.channels };
}

/** Produces events in chunks of `chunkMs` event time, each chunk acknowledged before the next. */
export async function produceEvents(rt: Runtime, producer: Producer, events: FixtureEvent[], chunkMs = MIN): Promise<void> {
  let i = 0;
  while (i < events.length) {
    const chunkStart = events[i]!.t;
    const chunk: FixtureEvent[] = [];
    while (i < events.length && (chunk.length === 0 || events[i]!.t - chunkStart < chunkMs) && events[i]!.t >= chunkStart) chunk.push(events[i++]!);
    const byTopic = new Map<string, { key: string; value: Buffer; timestamp?: string }[]>();
    for (const e of chunk) {
      const topic = rt.topics[e.topic];
      const value = e.raw ?? (await rt.registry.encode(e.topic, e.value));
      if (!byTopic.has(topic)) byTopic.set(topic, []);
      byTopic.get(topic)!.push({ key: e.key, value, ...(e.arrival !== undefined ? { timestamp: String(e.arrival) } : {}) });
    }
    await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
  }
}

/** A second, migrated ClickHouse database (the reference run writes there). */
export async function secondDatabase(rt: Runtime): Promise<{ settings: ClickHouseSettings; drop(): Promise<void> }> {
  const settings = { ...rt.clickhouseSettings, database: `${rt.clickhouseSettings.database}_${randomSuffix()}` };
  await migrate(settings);
  return {
    settings,
    async drop() {
      const ch = createClickHouse(settings, undefined);
      await ch.command({ query: 'DROP DATABASE IF EXISTS {db:Identifier}', query_params: { db: settings.database } }).catch(() => undefined);
      await ch.close();
    },
  };
}

/** Everything the processor wrote, deduplicated and without versions, in a stable order. */
export async function processorResults(settings: ClickHouseSettings) {
  const repo = new ClickHouseRepository(settings);
  try {
    const windows = await repo.query<Record<string, unknown>>(
      'results windows',
      `SELECT * EXCEPT latest_version FROM metrics_1m_latest ORDER BY platform, channel_id, window_start`,
    );
    const sessions = await repo.query<Record<string, unknown>>('results sessions', `SELECT * EXCEPT latest_version FROM stream_sessions_latest ORDER BY platform, channel_id, stream_id`);
    const alerts = await repo.query<Record<string, unknown>>('results alerts', `SELECT alert_id, type, user_id, occurred_at, message, details FROM alerts FINAL ORDER BY alert_id`);
    const late = await repo.query<Record<string, unknown>>('results late', `SELECT DISTINCT topic, kafka_partition, kafka_offset, event_id FROM late_events ORDER BY event_id`);
    const rawWindowRows = await repo.query<{ n: number }>('raw window rows', 'SELECT count() AS n FROM metrics_1m');
    return { windows, sessions, alerts, late, rawWindowRows: rawWindowRows[0]!.n };
  } finally {
    await repo.close();
  }
}

/** Waits until every window, late event and ended session of the plan is in ClickHouse. */
export async function waitComplete(settings: ClickHouseSettings, expected: { windows: number; late: number; sessions: number }, timeoutMs = 60000): Promise<void> {
  const repo = new ClickHouseRepository(settings);
  try {
    await eventually(
      async () => {
        const [r] = await repo.query<{ w: number; l: number; s: number }>(
          'complete?',
          `SELECT (SELECT count() FROM metrics_1m_latest) AS w, (SELECT uniqExact(kafka_partition, kafka_offset) FROM late_events) AS l,
                  (SELECT count() FROM stream_sessions_latest WHERE status = 'ended') AS s`,
        );
        return r!;
      },
      (r) => r.w >= expected.windows && r.l >= expected.late && r.s >= expected.sessions,
      timeoutMs,
      300,
    );
  } finally {
    await repo.close();
  }
}
