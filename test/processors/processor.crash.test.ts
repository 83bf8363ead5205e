import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { Producer } from 'kafkajs';
import { createIdempotentProducer } from '../../shared/kafka/kafka.client';
import { testStack, TestStack } from '../support/stack';
import { generateStream, processorResults, produceEvents, waitComplete } from './processor-fixtures';
import { referenceRun, splitAt, waitForWindows, windowCount } from './recovery-support';

const ROOT = path.resolve(__dirname, '../..');

/** `bin/spacehub process` on the test's namespace, as a separate OS process. */
function spawnProcessor(stack: TestStack, groupId: string): ChildProcess {
  const c = stack.rt.config;
  const child = spawn(path.join(ROOT, 'bin/spacehub'), ['process'], {
    cwd: ROOT,
    env: {
      ...process.env,
      SPACEHUB_DEV: '1',
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      KAFKA_TOPIC_PREFIX: c.KAFKA_TOPIC_PREFIX,
      KAFKA_PARTITIONS: String(c.KAFKA_PARTITIONS),
      CLICKHOUSE_DATABASE: c.CLICKHOUSE_DATABASE,
      REDIS_KEY_PREFIX: c.REDIS_KEY_PREFIX,
      PROCESSOR_GROUP_ID: groupId,
      // Small, frequent flushes and commits: the kill lands between many of them.
      PROCESSOR_FLUSH_INTERVAL_MS: '100',
      PROCESSOR_BATCH_MAX_EVENTS: '40',
      METRICS_PORT: String(20000 + Math.floor(Math.random() * 20000)),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  child.on('exit', (code, signal) => {
    if (code !== null && code !== 0) console.error(`processor child exited with ${code}:\n${log}`);
    void signal;
  });
  return child;
}

const killHard = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });

describe('processor crash: kill -9 mid-stream and restart (real Kafka, Registry, ClickHouse, child process)', () => {
  let stack: TestStack;
  let producer: Producer;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    stack = await testStack();
    producer = createIdempotentProducer(stack.rt.kafka);
    await producer.connect();
  });
  afterAll(async () => {
    if (child) await killHard(child);
    await producer?.disconnect();
    await stack?.cleanup();
  });

  it('ClickHouse holds the same windows, sessions, alerts and late events as an uninterrupted run', async () => {
    const { rt } = stack;
    const { events, expectedWindows, expectedLate } = generateStream({ channels: 6, minutes: 14 });
    const expected = { windows: expectedWindows, late: expectedLate, sessions: 6 };
    const [before, after] = splitAt(events, 5);
    const [middle, rest] = splitAt(after, 10);
    const group = `${rt.kafkaSettings.topicPrefix}.crash`;

    await produceEvents(rt, producer, before);
    child = spawnProcessor(stack, group);
    await waitForWindows(rt.clickhouseSettings, 12); // minutes 0–1 of 6 channels closed
    // More input arrives while it runs; the kill lands while it is consuming and flushing.
    const producing = produceEvents(rt, producer, middle, 20_000);
    await waitForWindows(rt.clickhouseSettings, 30); // minute 4 closed: it is consuming the middle part
    await killHard(child);
    await producing;
    const atKill = await windowCount(rt.clickhouseSettings);
    expect(atKill).toBeLessThan(expectedWindows);

    await produceEvents(rt, producer, rest);
    child = spawnProcessor(stack, group);
    await waitComplete(rt.clickhouseSettings, expected, 90000);
    await killHard(child);

    const reference = await referenceRun(rt, expected);
    const crashed = await processorResults(rt.clickhouseSettings);
    expect(crashed.windows).toHaveLength(expectedWindows);
    expect(crashed.windows).toEqual(reference.windows);
    expect(crashed.sessions).toEqual(reference.sessions);
    expect(crashed.alerts).toEqual(reference.alerts);
    expect(crashed.late).toEqual(reference.late);
    expect(crashed.alerts.filter((a) => a.type === 'viewer_spike')).toHaveLength(1);
    expect(crashed.alerts.filter((a) => a.type === 'follower_milestone')).toHaveLength(6);
  });
});
