import type { Producer } from 'kafkajs';
import { ClickHouseRepository } from '../shared/clickhouse/clickhouse.repository';
import type { ChatActivity, FollowerCount, StreamLifecycle, StreamSnapshot } from '../shared/events/events';
import { createIdempotentProducer } from '../shared/kafka/kafka.client';
import { channelKey } from '../shared/kafka/topics';
import { HeartbeatProducer } from '../ingest/heartbeat.producer';
import { ProcessorService } from '../processors/processor.service';
import { RawSink } from '../processors/raw-sink';
import { eventually, testStack, TestStack } from '../test/support/stack';
import { DASHBOARDS_DIR } from './grafana/generate-dashboards';
import { finalSql, loadDashboards, panelContext } from './grafana-panels';
import { createProcessor, createRawSink } from '../processors/processor.wiring';

/**
 * Every panel over what the real pipeline writes: events produced to Kafka as ingest does, then the
 * processors (windows, sessions, alerts, late events), the raw sink and a heartbeat producer fill
 * ClickHouse. A panel must return rows whenever every table it reads holds data.
 */
const MIN = 60_000;
const USER = 'u_pipeline_creator';
const CHANNELS = [
  { platform: 'twitch', channelId: 'pipe1', base: 300 },
  { platform: 'youtube', channelId: 'pipe2', base: 120 },
] as const;

type Topic = 'snapshots' | 'followers' | 'chat' | 'lifecycle';
type Ev = { topic: Topic; key: string; t: number; value: StreamSnapshot | FollowerCount | ChatActivity | StreamLifecycle };

/** One session of `minutes` starting at `start`, as ingest would produce it (polls every 10 s). */
function session(c: (typeof CHANNELS)[number], streamId: string, start: number, minutes: number): Ev[] {
  const key = channelKey(c.platform, c.channelId);
  const base = { platform: c.platform, channelId: c.channelId, userId: USER };
  const end = start + minutes * MIN;
  const out: Ev[] = [];
  const life = (type: 'started' | 'ended', t: number): Ev => ({
    topic: 'lifecycle', key, t, value: { ...base, eventId: `${c.platform}:${c.channelId}:${streamId}:${type}`, type, streamId, occurredAt: t, title: 'Pipeline check', category: 'Science', source: 'poll', reportedAt: null },
  });
  out.push(life('started', start));
  for (let t = start + 5_000, k = 0; t < end; t += 10_000, k++) {
    out.push({ topic: 'snapshots', key, t, value: { ...base, eventId: `${c.platform}:${c.channelId}:${t}`, observedAt: t, live: true, viewers: c.base + (k % 6) * 7, streamId, startedAt: start, title: 'Pipeline check', category: 'Science', language: 'en', source: 'poll' } });
  }
  for (let t = start + 30_000, k = 0; t <= end; t += 30_000, k++) {
    out.push({ topic: 'chat', key, t: t - 1, value: { ...base, eventId: `${c.platform}:${c.channelId}:chat:${t}`, intervalStart: t - 30_000, intervalEnd: t, messages: 4 + (k % 3), chatterIds: [`a${k % 5}`, `b${k % 3}`], samplingRate: 1 } });
  }
  for (let t = start + 20_000, k = 0; t < end; t += MIN, k++) {
    out.push({ topic: 'followers', key, t, value: { ...base, eventId: `${c.platform}:${c.channelId}:followers:${t}`, observedAt: t, followers: 5000 + k * 2, ...(c.platform === 'twitch' ? { paidSubscribers: 100 + k, subscriptionPoints: 120 + k } : {}) } });
  }
  out.push(life('ended', end));
  return out;
}

const offlineTick = (c: (typeof CHANNELS)[number], t: number, id: string): Ev => ({
  topic: 'snapshots', key: channelKey(c.platform, c.channelId), t,
  value: { platform: c.platform, channelId: c.channelId, userId: USER, eventId: id, observedAt: t, live: false, viewers: null, streamId: null, startedAt: null, title: null, category: null, language: null, source: 'poll' },
});

async function produce(stack: TestStack, producer: Producer, events: Ev[]): Promise<void> {
  const { rt } = stack;
  const byTopic = new Map<string, { key: string; value: Buffer }[]>();
  for (const e of [...events].sort((a, b) => a.t - b.t)) {
    const topic = rt.topics[e.topic];
    if (!byTopic.has(topic)) byTopic.set(topic, []);
    byTopic.get(topic)!.push({ key: e.key, value: await rt.registry.encode(e.topic, e.value) });
  }
  await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
}

describe('dashboard panels over real processor output (Kafka → processors, raw sink → ClickHouse)', () => {
  let stack: TestStack;
  let repo: ClickHouseRepository;
  let processor: ProcessorService;
  let sink: RawSink;
  let heartbeat: HeartbeatProducer;
  const now = Math.floor(Date.now() / MIN) * MIN;

  beforeAll(async () => {
    stack = await testStack({ PROCESSOR_ALLOWED_LATENESS_SECONDS: '60', PROCESSOR_FLUSH_INTERVAL_MS: '200' });
    repo = new ClickHouseRepository(stack.rt.clickhouseSettings);
    const producer = createIdempotentProducer(stack.rt.kafka);
    await producer.connect();
    // A week ago (for "same time last week"), then today's sessions; offline ticks close the windows,
    // and one event older than the watermark afterwards is late.
    const week = 7 * 86_400_000;
    await produce(stack, producer, CHANNELS.flatMap((c, i) => session(c, `old${i}`, now - week - 20 * MIN, 12)));
    await produce(stack, producer, CHANNELS.flatMap((c, i) => session(c, `s${i}`, now - 20 * MIN, 12)));
    await produce(stack, producer, CHANNELS.map((c) => offlineTick(c, now - MIN, `${c.channelId}:tick`)));
    const late = offlineTick(CHANNELS[0], now - 15 * MIN, 'pipe1:late');
    await produce(stack, producer, [{ ...late, value: { ...(late.value as StreamSnapshot), live: true, viewers: 999, streamId: 's0' } }]);
    await producer.disconnect();
    processor = createProcessor(stack.rt);
    sink = createRawSink(stack.rt);
    heartbeat = new HeartbeatProducer(stack.rt, 'dashboards-test');
    await Promise.all([processor.start(), sink.start(), heartbeat.start(500)]);
    const count = async (table: string) => (await repo.query<{ n: number }>('count', `SELECT count() AS n FROM ${table}`))[0]!.n;
    await eventually(
      async () => ({
        windows: await count('metrics_1m'),
        ended: (await repo.query<{ n: number }>('ended', "SELECT count() AS n FROM stream_sessions FINAL WHERE status = 'ended'"))[0]!.n,
        alerts: await count('alerts'),
        late: await count('late_events'),
        snapshots: await count('snapshots_raw'),
        heartbeats: await count('heartbeats'),
      }),
      (s) => s.windows >= 40 && s.ended >= 4 && s.alerts >= 4 && s.late >= 1 && s.snapshots >= 250 && s.heartbeats >= 1,
      50_000,
      500,
    );
  }, 90_000);

  afterAll(async () => {
    await heartbeat?.close().catch(() => undefined);
    await sink?.close().catch(() => undefined);
    await processor?.close().catch(() => undefined);
    await repo?.close();
    await stack?.cleanup();
  });

  it('every panel target runs, and returns rows whenever the tables it reads hold data', async () => {
    const vars = { user: USER, platform: 'twitch', channel: 'pipe1' };
    const empty = new Set<string>();
    for (const t of ['metrics_1m', 'stream_sessions', 'alerts', 'late_events', 'snapshots_raw', 'heartbeats', 'model_runs']) {
      const n = (await repo.query<{ n: number }>('count', `SELECT count() AS n FROM ${t}`))[0]!.n;
      if (n === 0) empty.add(t);
    }
    expect([...empty]).toEqual(['model_runs']); // nobody trains a model in this test
    const results: Array<{ panel: string; rows: number; expectRows: boolean }> = [];
    // "now" is when Grafana runs the query: heartbeats and late events carry wall-clock arrival times.
    const queryTime = new Date();
    for (const { file, dashboard } of loadDashboards(DASHBOARDS_DIR)) {
      for (const p of dashboard.panels) {
        for (const target of p.targets ?? []) {
          const reads = [...target.rawSql.matchAll(/\bFROM\s+([a-z_][a-z0-9_]*)/gi)].map((m) => m[1]!);
          const rows = await repo.query('panel', finalSql(target.rawSql, panelContext(dashboard, p, queryTime), vars));
          results.push({ panel: `${file} #${p.id}${target.refId} ${p.title}`, rows: rows.length, expectRows: reads.every((t) => !empty.has(t)) });
        }
      }
    }
    expect(results.filter((r) => r.expectRows && r.rows === 0)).toEqual([]);
    expect(results.filter((r) => r.expectRows).length).toBeGreaterThan(30);
  });
});
