import type { Producer } from 'kafkajs';
import { createIdempotentProducer } from '../../shared/kafka/kafka.client';
import { ProcessorService } from '../../processors/processor.service';
import { eventually, testStack, TestStack } from '../support/stack';
import { FixtureEvent, generateStream, processorResults, produceEvents, secondDatabase, waitComplete } from './processor-fixtures';
import { PausableProxy, referenceRun, Results, splitAt, waitForWindows, windowCount } from './recovery-support';
import { createProcessor, ProcessorOptions } from '../../processors/processor.wiring';

describe('processor: rebalance between two instances, and a ClickHouse outage (real Kafka, Registry, ClickHouse)', () => {
  let stack: TestStack;
  let producer: Producer;
  const running: ProcessorService[] = [];
  let reference: Results;
  let events: FixtureEvent[];
  const plan = generateStream({ channels: 6, minutes: 14 });
  const expected = { windows: plan.expectedWindows, late: plan.expectedLate, sessions: 6 };

  beforeAll(async () => {
    stack = await testStack({ PROCESSOR_FLUSH_INTERVAL_MS: '100', PROCESSOR_BATCH_MAX_EVENTS: '40' });
    producer = createIdempotentProducer(stack.rt.kafka);
    await producer.connect();
    events = plan.events;
  });
  afterAll(async () => {
    for (const p of running) await p.close();
    await producer?.disconnect();
    await stack?.cleanup();
  });

  const startProcessor = async (opts: ProcessorOptions) => {
    const p = createProcessor(stack.rt, opts);
    running.push(p);
    await p.start();
    return p;
  };

  it('a second instance joining and the first leaving mid-stream change nothing in the results', async () => {
    const { rt } = stack;
    const [first, after] = splitAt(events, 5);
    const [second, third] = splitAt(after, 10);
    const groupId = `${rt.kafkaSettings.topicPrefix}.rebalance`;

    await produceEvents(rt, producer, first);
    const a = await startProcessor({ groupId });
    await waitForWindows(rt.clickhouseSettings, 12);
    const b = await startProcessor({ groupId }); // rebalance: partitions are split between a and b
    await produceEvents(rt, producer, second, 20_000);
    await eventually(async () => b.stats.processed, (n) => n > 0, 60000);
    await a.close(); // rebalance again: b takes every partition and replays a's uncommitted part
    await produceEvents(rt, producer, third);
    await waitComplete(rt.clickhouseSettings, expected, 90000);
    await b.flushNow();

    reference = await referenceRun(rt, expected);
    const got = await processorResults(rt.clickhouseSettings);
    expect(got.windows).toHaveLength(plan.expectedWindows);
    expect(got.windows).toEqual(reference.windows);
    expect(got.sessions).toEqual(reference.sessions);
    expect(got.alerts).toEqual(reference.alerts);
    expect(got.late).toEqual(reference.late);
    await b.close();
  });

  it('pauses and retries while ClickHouse is unreachable, then catches up with nothing lost', async () => {
    const { rt } = stack;
    const db = await secondDatabase(rt);
    const target = new URL(rt.clickhouseSettings.url);
    const proxy = new PausableProxy({ host: target.hostname, port: Number(target.port) });
    try {
      const url = await proxy.start();
      await proxy.pause(); // ClickHouse is down from the processor's point of view
      const p = await startProcessor({ groupId: `${rt.kafkaSettings.topicPrefix}.outage`, clickhouse: { ...db.settings, url } });
      await eventually(async () => p.stats.retries, (n) => n >= 3, 60000);
      expect(await windowCount(db.settings)).toBe(0);
      await proxy.resume();
      await waitComplete(db.settings, expected, 90000);
      await p.flushNow();
      const got = await processorResults(db.settings);
      expect(got.windows).toEqual(reference.windows);
      expect(got.sessions).toEqual(reference.sessions);
      expect(got.alerts).toEqual(reference.alerts);
      expect(got.late).toEqual(reference.late);
    } finally {
      await proxy.close();
      await db.drop();
    }
  });
});
