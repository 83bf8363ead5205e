import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { createClient } from '@clickhouse/client';
import IORedis from 'ioredis';
import { SchemaRegistryClient } from '../../shared/schema-registry/schema-registry';
import { topicsFor } from '../../shared/kafka/topics';

/**
 * A second, private native stack on its own ports and folder (so the shared one other tests use is not
 * disturbed): data written before `down` is there after `up` — ClickHouse rows, Kafka committed
 * offsets, Schema Registry ids, Redis keys.
 */
const ROOT = path.resolve(__dirname, '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spacehub-stack-'));
const ports = { kafka: 29092, controller: 29093, registry: 28081, clickhouse: 28123, redis: 26379 };
const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH, HOME: process.env.HOME, JAVA_HOME: process.env.JAVA_HOME,
  STACK_DIR: dir,
  STACK_KAFKA_PORT: String(ports.kafka), STACK_KAFKA_CONTROLLER_PORT: String(ports.controller),
  STACK_SCHEMA_REGISTRY_PORT: String(ports.registry), STACK_CLICKHOUSE_PORT: String(ports.clickhouse),
  STACK_REDIS_PORT: String(ports.redis),
  // Reuse the jars and the registry build of the main stack instead of fetching them again.
  SPACEHUB_STACK_LIB_DIR: path.join(ROOT, '.stack', 'lib'),
  SPACEHUB_NO_DOTENV: '1',
};
/** `status` exits 1 while anything is down, so it is read without throwing. */
const status = () => spawnSync('bash', [path.join(ROOT, 'infra/stack.sh'), 'status'], { env, encoding: 'utf8' }).stdout;
const stack = (cmd: string) => execFileSync('bash', [path.join(ROOT, 'infra/stack.sh'), cmd], { env, cwd: os.tmpdir(), stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

describe('native stack restart keeps data', () => {
  afterAll(() => {
    try { stack('down'); } catch { /* already down */ }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ClickHouse rows, Kafka offsets, registry ids and Redis keys survive down + up', async () => {
    stack('up');
    const kafka = new Kafka({ brokers: [`127.0.0.1:${ports.kafka}`], logLevel: logLevel.NOTHING, retry: { retries: 20 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'persist', numPartitions: 1 }] });
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic: 'persist', messages: Array.from({ length: 10 }, (_, i) => ({ value: `m${i}` })) });
    await producer.disconnect();
    await admin.setOffsets({ groupId: 'persist-group', topic: 'persist', partitions: [{ partition: 0, offset: '7' }] });
    await admin.disconnect();

    const ch = createClient({ url: `http://127.0.0.1:${ports.clickhouse}` });
    await ch.command({ query: 'CREATE TABLE IF NOT EXISTS persist (n UInt32) ENGINE = MergeTree ORDER BY n' });
    await ch.insert({ table: 'persist', values: [{ n: 1 }, { n: 2 }, { n: 3 }], format: 'JSONEachRow' });
    await ch.close();

    const registry = new SchemaRegistryClient(`http://127.0.0.1:${ports.registry}/apis/ccompat/v7`, topicsFor('persist'));
    const schema = { type: 'record', name: 'P', fields: [{ name: 'a', type: 'string' }] };
    const id = await registry.register('persist-value', schema);

    const redis = new IORedis(ports.redis, '127.0.0.1');
    await redis.set('persist', 'yes');
    redis.disconnect();

    stack('down');
    expect(status()).toMatch(/kafka\s+down/);
    expect(status()).toMatch(/clickhouse\s+down/);
    stack('up');

    const admin2 = kafka.admin();
    await admin2.connect();
    const offsets = await admin2.fetchOffsets({ groupId: 'persist-group', topics: ['persist'] });
    const high = await admin2.fetchTopicOffsets('persist');
    await admin2.disconnect();
    expect(offsets[0]!.partitions[0]!.offset).toBe('7');
    expect(high[0]!.high).toBe('10');

    const ch2 = createClient({ url: `http://127.0.0.1:${ports.clickhouse}` });
    const rows = await (await ch2.query({ query: 'SELECT sum(n) AS s, count() AS c FROM persist', format: 'JSONEachRow' })).json<{ s: string | number; c: string | number }>();
    await ch2.close();
    expect(Number(rows[0]!.c)).toBe(3);
    expect(Number(rows[0]!.s)).toBe(6);

    expect(await registry.register('persist-value', schema)).toBe(id);

    const redis2 = new IORedis(ports.redis, '127.0.0.1');
    expect(await redis2.get('persist')).toBe('yes');
    redis2.disconnect();
  }, 300000);
});
