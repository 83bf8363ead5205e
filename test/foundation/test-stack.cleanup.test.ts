import { Queue } from 'bullmq';
import { createClickHouse } from '../../shared/clickhouse/clickhouse.repository';
import { bullPrefix, createRedis } from '../../shared/redis/redis';
import { randomSuffix, testStack } from '../support/stack';

/**
 * STYLE habit 14: a test file's namespace on the shared stack is gone after `cleanup()` — its Kafka
 * topics, its ClickHouse database and every Redis key under its prefix (BullMQ's included) — while
 * another file's keys stay.
 */
describe('testStack().cleanup() leaves nothing of the test behind on the shared stack', () => {
  it('deletes its topics, its database and its Redis keys, and no key of another prefix', async () => {
    const stack = await testStack();
    const { config } = stack.rt;
    const redis = createRedis(config.REDIS_URL);
    const other = `t${randomSuffix()}`;
    const bull = createRedis(config.REDIS_URL, { forBullMQ: true });
    const queue = new Queue('cleanup-probe', { connection: bull, prefix: bullPrefix(config.REDIS_KEY_PREFIX) });
    try {
      for (let i = 0; i < 2500; i++) await redis.set(`${config.REDIS_KEY_PREFIX}:probe:${i}`, '1');
      await queue.add('job', { n: 1 });
      await redis.set(`${other}:probe`, 'kept');
      expect((await redis.keys(`${config.REDIS_KEY_PREFIX}:*`)).length).toBeGreaterThan(2500);

      await stack.cleanup();

      expect(await redis.keys(`${config.REDIS_KEY_PREFIX}:*`)).toEqual([]);
      expect(await redis.get(`${other}:probe`)).toBe('kept');
      const admin = stack.rt.kafka.admin();
      await admin.connect();
      const topics = await admin.listTopics();
      await admin.disconnect();
      expect(topics.filter((t) => t.startsWith(`${config.KAFKA_TOPIC_PREFIX}.`))).toEqual([]);
      const ch = createClickHouse(stack.rt.clickhouseSettings, undefined);
      const dbs = await (await ch.query({ query: 'SELECT name FROM system.databases WHERE name = {db:String}', query_params: { db: config.CLICKHOUSE_DATABASE }, format: 'JSONEachRow' })).json();
      await ch.close();
      expect(dbs).toEqual([]);
    } finally {
      await queue.close();
      bull.disconnect();
      await redis.del(`${other}:probe`);
      redis.disconnect();
    }
  });
});
