import { createIdempotentProducer } from '../../shared/kafka/kafka.client';
import { channelKey } from '../../shared/kafka/topics';
import { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import { chDateTime64 } from '../../shared/clickhouse/tables';
import type { StreamSnapshot } from '../../shared/events/events';
import { RawSink } from '../../processors/raw-sink';
import { eventually, testStack, TestStack } from '../support/stack';
import { createRawSink } from '../../processors/processor.wiring';

describe('vertical slice: Kafka + Schema Registry → processor → ClickHouse (real servers)', () => {
  let stack: TestStack;
  let sink: RawSink;
  let repo: ClickHouseRepository;

  beforeAll(async () => {
    stack = await testStack();
    sink = createRawSink(stack.rt);
    repo = new ClickHouseRepository(stack.rt.clickhouseSettings);
  });
  afterAll(async () => {
    await sink?.close();
    await repo?.close();
    await stack?.cleanup();
  });

  it('an Avro snapshot produced through the registry lands as a row in ClickHouse', async () => {
    const { rt } = stack;
    // Recent: raw rows older than CLICKHOUSE_RAW_TTL_DAYS are dropped by the table's TTL.
    const observedAt = Math.floor(Date.now() / 1000) * 1000;
    const snap: StreamSnapshot = {
      eventId: `twitch:123:${observedAt}`, platform: 'twitch', channelId: '123', userId: 'u1',
      observedAt, live: true, viewers: 4321, streamId: 's-1', startedAt: observedAt - 3600_000,
      title: 'Speedrun', category: 'Celeste', language: 'en', source: 'poll',
    };
    const producer = createIdempotentProducer(rt.kafka);
    await producer.connect();
    const value = await rt.registry.encode('snapshots', snap);
    expect(value[0]).toBe(0); // Confluent wire format: magic byte, then the schema id
    expect(value.readInt32BE(1)).toBe(rt.registry.schemaId('snapshots'));
    // The same event twice (a producer retry or a replay) and one undecodable message.
    await producer.send({ topic: rt.topics.snapshots, acks: -1, messages: [
      { key: channelKey('twitch', '123'), value },
      { key: channelKey('twitch', '123'), value: Buffer.from('not avro') },
      { key: channelKey('twitch', '123'), value },
    ] });
    await producer.disconnect();
    await sink.start();

    const rows = await eventually(
      () => repo.query<{ event_id: string; viewers: number; live: number; title: string; observed_at: string; n: number }>(
        'slice rows',
        `SELECT event_id, any(viewers) AS viewers, any(live) AS live, any(title) AS title, any(observed_at) AS observed_at, count() AS n
         FROM snapshots_raw WHERE channel_id = {channel:String} GROUP BY event_id`,
        { channel: '123' },
      ),
      (r) => r.length === 1,
    );
    expect(rows[0]).toMatchObject({ event_id: snap.eventId, viewers: 4321, live: 1, title: 'Speedrun', observed_at: chDateTime64(observedAt) });
    expect(sink.undecodable).toBe(1);
    // Deduplicated view: one row per event id.
    const dedup = await repo.query<{ c: number }>('slice dedup', 'SELECT count() AS c FROM snapshots_raw FINAL WHERE channel_id = {channel:String}', { channel: '123' });
    expect(dedup[0]!.c).toBe(1);
  });
});
