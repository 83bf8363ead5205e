import type { Producer } from 'kafkajs';
import { createRuntime, Runtime } from '../../shared/runtime';
import { createLogger } from '../../shared/logging/logger';
import { createIdempotentProducer } from '../../shared/kafka/kafka.client';
import { rawTopicFor, TOPIC_DEFS, TopicName } from '../../shared/kafka/topics';
import { SCHEMAS, type Alert } from '../../shared/events/events';
import { ClickHouseRepository, ClickHouseSettings } from '../../shared/clickhouse/clickhouse.repository';
import { createRedis } from '../../shared/redis/redis';
import { metricsRegistry } from '../../shared/metrics/metrics';
import { ProcessorService } from '../../processors/processor.service';
import { RawSink } from '../../processors/raw-sink';
import { NotifyService } from '../../notifications/notify.service';
import { notifyMetrics } from '../../notifications/notify.metrics';
import { FeedConsumer } from '../../gateway/feed.consumer';
import type { FeedMessage } from '../../gateway/feed.mapper';
import { gatewayMetrics } from '../../gateway/gateway.metrics';
import { eventually, testStack, TestStack } from '../support/stack';
import { generateStream, processorResults, secondDatabase, waitComplete } from '../processors/processor-fixtures';
import { PausableProxy, referenceRun } from '../processors/recovery-support';
import { cleanupNotify, WebhookReceiver } from '../notifications/webhook-receiver';
import { createProcessor, createRawSink } from '../../processors/processor.wiring';

/**
 * Issue 16 part 2. Every consumer of Avro (processor, raw sink, notify, gateway feed) runs with a schema
 * cache that is cold for the ids it meets: the input is written under a new schema version (one more
 * optional field), registered after the consumers started — "a new schema id". Their registry sits
 * behind a TCP proxy that the test takes down for 20 s while the input arrives. A registry that cannot
 * answer is an outage to wait out, so: 0 DLQ entries, 0 skipped messages, and windows, raw rows, webhook
 * deliveries and feed records identical to uninterrupted references that read the registry directly.
 */
const OUTAGE_MS = 20_000;
const PROBE_FIELD = { name: 'outageProbe', type: ['null', 'string'], default: null };
// `reauth_required` concerns one connection, so it goes to the alert's own user whoever owns the channel.
const PROBE_TYPE = 'reauth_required';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Registers the next version of a topic's schema (BACKWARD compatible) and returns its new id. */
async function registerNextVersion(rt: Runtime, name: TopicName): Promise<number> {
  const base = SCHEMAS[TOPIC_DEFS[name].schema] as unknown as { fields: object[] };
  return rt.registry.register(`${rt.topics[name]}-value`, { ...base, fields: [...base.fields, PROBE_FIELD] });
}

const counterValue = async (c: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> }, outcome: string) =>
  (await c.get()).values.filter((v) => v.labels.outcome === outcome).reduce((s, v) => s + v.value, 0);

async function registryRetries(): Promise<Array<{ consumer: string; value: number }>> {
  const m = metricsRegistry.getSingleMetric('spacehub_schema_registry_retries_total');
  if (!m) return [];
  return (await m.get()).values.map((v) => ({ consumer: String(v.labels.consumer), value: v.value }));
}

async function rawRows(settings: ClickHouseSettings) {
  const repo = new ClickHouseRepository(settings);
  try {
    return await repo.query<Record<string, unknown>>(
      'raw rows',
      // One row per event id (a producer retry's copy collapses in the ReplacingMergeTree).
      'SELECT event_id, platform, channel_id, user_id, observed_at, live, viewers, stream_id, title FROM snapshots_raw FINAL ORDER BY event_id',
    );
  } finally {
    await repo.close();
  }
}

describe('a Schema Registry outage with cold caches turns no good message into a dead letter or a skip (real Kafka, Registry, ClickHouse, Redis)', () => {
  let stack: TestStack;
  let cold: Runtime;
  let refRt: Runtime;
  let producer: Producer;
  const proxy = (() => {
    const target = new URL(process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:18081/apis/ccompat/v7');
    return { target, tcp: new PausableProxy({ host: target.hostname, port: Number(target.port) }) };
  })();
  const rx = new WebhookReceiver();
  const closers: Array<() => Promise<unknown>> = [];
  const coldFeed: FeedMessage[] = [];
  const refFeed: FeedMessage[] = [];
  let processor: ProcessorService;
  let rawSink: RawSink;
  const plan = generateStream({ channels: 4, minutes: 6 });
  // Complete = every window and ended session is written. Late rows are written with the windows that
  // precede them (the late events come before the ticks that close the last windows), and they are
  // compared with the reference below rather than counted here.
  const expected = { windows: plan.expectedWindows, late: 0, sessions: 4 };
  const probes: Alert[] = [0, 1, 2, 3, 4, 5].map((i) => ({
    alertId: `probe:${PROBE_TYPE}:${i}`, type: PROBE_TYPE, userId: 'alice', platform: 'twitch', channelId: `10${i}`, occurredAt: Date.UTC(2025, 5, 2, 18, i),
    severity: 'warning', message: `probe ${i}: reconnect your account`, detailsJson: '{}',
  }));

  beforeAll(async () => {
    // The fixture's event times are in 2025: the default raw TTL (30 days) would drop its raw rows at
    // insert (and 100 years would overflow ClickHouse's DateTime).
    stack = await testStack({ CLICKHOUSE_RAW_TTL_DAYS: '3650', ALLOW_PRIVATE_WEBHOOK_TARGETS: 'true', WEBHOOK_ALLOWED_PORTS: '*', PROCESSOR_FLUSH_INTERVAL_MS: '100', PROCESSOR_BATCH_MAX_EVENTS: '40', NOTIFY_BACKOFF_INITIAL_MS: '50', NOTIFY_BACKOFF_MAX_MS: '200' });
    const c = stack.rt.config;
    const url = `${await proxy.tcp.start()}${proxy.target.pathname}`;
    // The consumers under test: their own registry client, through the proxy. Their bootstrap registers
    // (and so caches) today's schema versions, as every service does at start.
    cold = createRuntime({ ...c, SCHEMA_REGISTRY_URL: url }, createLogger(c.LOG_LEVEL));
    await cold.registry.registerAll();
    // The references: the registry directly; notify with its own Redis namespace and group.
    refRt = createRuntime({ ...c, REDIS_KEY_PREFIX: `${c.REDIS_KEY_PREFIX}ref`, NOTIFY_GROUP_ID: `${c.KAFKA_TOPIC_PREFIX}.notify-ref` }, createLogger(c.LOG_LEVEL));
    await rx.start();

    processor = createProcessor(cold, { groupId: `${c.KAFKA_TOPIC_PREFIX}.processor-cold` });
    closers.push(() => processor.close());
    await processor.start();
    rawSink = createRawSink(cold);
    closers.push(() => rawSink.close());
    await rawSink.start();
    for (const [rt, path, feed] of [[cold, '/cold', coldFeed], [refRt, '/ref', refFeed]] as const) {
      const notify = await NotifyService.start(rt, { metricsPort: null });
      closers.push(() => notify.close());
      await notify.repo.create({ userId: 'alice', url: rx.script(path, [200]), format: 'json', events: [PROBE_TYPE], description: '', secret: `whsec_${path.slice(1)}` });
      const gateway = new FeedConsumer(rt, (m) => void feed.push(m), 10_000);
      closers.push(() => gateway.close());
      await gateway.start();
    }
    producer = createIdempotentProducer(stack.rt.kafka);
    await producer.connect();
  }, 180_000);

  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await producer?.disconnect();
    await proxy.tcp.close();
    await rx.close();
    if (stack) {
      const redis = createRedis(stack.rt.config.REDIS_URL);
      for (const rt of [stack.rt, refRt]) if (rt) await cleanupNotify(rt, redis).catch(() => undefined);
      redis.disconnect();
    }
    await stack?.cleanup();
  }, 120_000);

  it('waits the outage out: 0 DLQ, 0 skipped; windows, raw rows, webhooks and feed identical to the references', async () => {
    const { rt } = stack;
    // A producer upgraded to the next schema versions: ids no consumer under test has seen.
    const ids = new Map<TopicName, number>();
    for (const name of ['snapshots', 'followers', 'chat', 'lifecycle', 'alerts'] as const) ids.set(name, await registerNextVersion(rt, name));
    const encode = (name: TopicName, value: object) => rt.registry.registry.encode(ids.get(name)!, { ...value, outageProbe: null });

    await proxy.tcp.pause(); // the registry is down for the consumers under test
    const outageStarted = Date.now();
    // The processor's input in 1-minute event-time chunks, each acknowledged before the next (as
    // processor-fixtures' produceEvents writes it, with the new schema ids), then the probe alerts.
    const events = plan.events;
    for (let i = 0; i < events.length;) {
      const start = events[i]!.t;
      const byTopic = new Map<string, Array<{ key: string; value: Buffer }>>();
      for (let n = 0; i < events.length && (n === 0 || (events[i]!.t - start < 60_000 && events[i]!.t >= start)); n++, i++) {
        const e = events[i]!;
        const topic = rt.topics[e.topic];
        if (!byTopic.has(topic)) byTopic.set(topic, []);
        byTopic.get(topic)!.push({ key: e.key, value: await encode(e.topic, e.value) });
      }
      await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    }
    await producer.send({ topic: rt.topics.alerts, acks: -1, messages: await Promise.all(probes.map(async (a) => ({ key: a.userId, value: await encode('alerts', a) }))) });

    // While the registry is down the references get everything and the consumers under test wait.
    await eventually(async () => ({ ref: rx.on('/ref').length, feed: refFeed.filter((m) => JSON.stringify(m).includes('probe:')).length }), (n) => n.ref === probes.length && n.feed === probes.length, 60_000);
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStarted)));
    const lost = async () => ({
      processorDlq: processor.stats.dlq,
      rawSinkSkipped: rawSink.undecodable,
      notifySkipped: await counterValue(notifyMetrics.enqueued, 'undecodable'),
      gatewaySkipped: await counterValue(gatewayMetrics.feed, 'undecodable'),
    });
    const none = { processorDlq: 0, rawSinkSkipped: 0, notifySkipped: 0, gatewaySkipped: 0 };
    // Waiting, not consuming: nothing decoded (so nothing processed, written, delivered) and nothing lost.
    expect({
      ...(await lost()),
      processed: processor.stats.processed,
      rawRows: (await rawRows(rt.clickhouseSettings)).length,
      webhooks: rx.on('/cold').length,
      feedProbes: coldFeed.filter((m) => JSON.stringify(m).includes('probe:')).length,
    }).toEqual({ ...none, processed: 0, rawRows: 0, webhooks: 0, feedProbes: 0 });

    await proxy.tcp.resume();
    await waitComplete(rt.clickhouseSettings, expected, 120_000);
    await processor.flushNow();
    const snapshotIds = new Set(plan.events.filter((e) => e.topic === 'snapshots').map((e) => e.value.eventId)).size;
    await eventually(() => rawRows(rt.clickhouseSettings), (r) => r.length === snapshotIds, 60_000);
    await eventually(async () => rx.on('/cold').length, (n) => n === probes.length, 60_000);
    const probeFeed = (feed: FeedMessage[]) => feed.filter((m) => JSON.stringify(m).includes('probe:')).map((m) => JSON.stringify(m)).sort();
    await eventually(async () => probeFeed(coldFeed).length, (n) => n === probes.length, 60_000);

    // Nothing dead-lettered or skipped after the outage either.
    expect(await lost()).toEqual(none);
    const admin = rt.kafka.admin();
    await admin.connect();
    const dlqTopic = rawTopicFor(rt.kafkaSettings.topicPrefix, 'processorDlq');
    const dlqEntries = (await admin.listTopics()).includes(dlqTopic) ? (await admin.fetchTopicOffsets(dlqTopic)).reduce((s, p) => s + Number(p.high), 0) : 0;
    await admin.disconnect();
    expect(dlqEntries).toBe(0);

    // Webhooks: the same deliveries as the reference notify (bodies; signatures differ by secret and time).
    const bodies = (path: string) => rx.on(path).map((r) => r.body).sort();
    expect(bodies('/cold')).toEqual(bodies('/ref'));
    // Gateway feed: the same records as the reference feed.
    expect(probeFeed(coldFeed)).toEqual(probeFeed(refFeed));

    // Windows, sessions, alerts, late rows: identical to an uninterrupted processor (fresh group, own database).
    const reference = await referenceRun(rt, expected);
    const got = await processorResults(rt.clickhouseSettings);
    expect(got.windows).toHaveLength(plan.expectedWindows);
    expect(got.windows).toEqual(reference.windows);
    expect(got.sessions).toEqual(reference.sessions);
    expect(got.alerts).toEqual(reference.alerts);
    expect(got.late).toEqual(reference.late);

    // Raw rows: identical to a raw sink that read the registry directly.
    const db = await secondDatabase(rt);
    const refSink = createRawSink({ ...rt, clickhouseSettings: db.settings }, `${rt.kafkaSettings.topicPrefix}.raw-sink-ref`);
    let refRows: Array<Record<string, unknown>>;
    try {
      await refSink.start();
      refRows = await eventually(() => rawRows(db.settings), (r) => r.length === snapshotIds, 60_000);
      expect(await rawRows(rt.clickhouseSettings)).toEqual(refRows);
    } finally {
      await refSink.close();
      await db.drop();
    }

    // What each consumer did during the outage (printed like the fault suite's table).
    const waits = new Map((await registryRetries()).map((v) => [v.consumer, v.value]));
    const l = await lost();
    console.log(`Schema Registry down ${OUTAGE_MS / 1000} s, cold caches (new schema ids)\n${[
      '| consumer | registry retries | dead-lettered / skipped | output vs reference |',
      '|---|---:|---:|---|',
      `| processor | ${waits.get('processor decode') ?? 0} | ${l.processorDlq} | ${got.windows.length} windows, ${got.sessions.length} sessions, ${got.alerts.length} alerts, ${got.late.length} late rows: identical |`,
      `| raw sink | ${waits.get('raw sink decode') ?? 0} | ${l.rawSinkSkipped} | ${refRows.length} raw rows: identical |`,
      `| notify | ${waits.get('notify decode') ?? 0} | ${l.notifySkipped} | ${bodies('/cold').length} webhook deliveries: identical |`,
      `| gateway feed | ${waits.get('gateway feed decode') ?? 0} | ${l.gatewaySkipped} | ${probeFeed(coldFeed).length} alert records: identical |`,
    ].join('\n')}`);
    for (const consumer of ['processor decode', 'raw sink decode', 'notify decode', 'gateway feed decode']) expect(waits.get(consumer) ?? 0).toBeGreaterThan(0);
  }, 420_000);
});
