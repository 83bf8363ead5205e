import type { StreamLifecycle } from '../../shared/events/events';
import { channelKey } from '../../shared/kafka/topics';
import { createRedis } from '../../shared/redis/redis';
import { ChannelStateStore } from '../../ingest/lifecycle/channel-state.store';
import type { ChannelLiveState } from '../../ingest/lifecycle/lifecycle.derive';
import { EventProducer, type OutgoingEvent } from '../../ingest/output/event.producer';
import { Outbox } from '../../ingest/output/outbox';
import { eventually, randomSuffix, testStack, TestStack } from '../support/stack';
import { TopicCollector } from './ingest.harness';

/**
 * Issue 21: the lifecycle outbox is produced under a per-channel lease. Two snapshot runs of one channel
 * that overlap (a stalled job re-run while the first still runs, a retry next to the next poll) used to
 * both read the same outbox entry before either acked it, and both produced it: the identical
 * `started` record twice on the topic. Real Redis, Kafka and Schema Registry.
 */
describe('lifecycle outbox against real Redis and Kafka', () => {
  let stack: TestStack;
  let producer: EventProducer;
  let collector: TopicCollector;
  const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:16379');

  beforeAll(async () => {
    stack = await testStack();
    producer = new EventProducer(stack.rt);
    await producer.waitUntilReady();
    collector = new TopicCollector(stack.rt, ['lifecycle']);
    await collector.start();
  });
  afterAll(async () => {
    await collector?.stop();
    await producer?.close();
    const keys = await redis.keys(`${stack.rt.config.REDIS_KEY_PREFIX}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await stack?.cleanup();
  });

  it('two concurrent snapshot runs of one channel produce its pending lifecycle entry exactly once', async () => {
    const store = new ChannelStateStore(redis, stack.rt.config.REDIS_KEY_PREFIX);
    const id = `ch${randomSuffix()}`;
    const live: ChannelLiveState = { live: true, streamId: 's1', startedAt: 1, title: null, category: null, observedAt: 10 };
    const started: StreamLifecycle = { eventId: `twitch:${id}:s1:started`, type: 'started', platform: 'twitch', channelId: id, userId: 'u', streamId: 's1', occurredAt: 1, title: null, category: null, source: 'poll', reportedAt: null };
    const out = (e: StreamLifecycle): OutgoingEvent => ({ topic: 'lifecycle', key: channelKey(e.platform, e.channelId), eventId: e.eventId, value: e });
    expect(await store.commit('twitch', id, null, live, [started])).toBe(true);

    // Each run holds its send until the other run has reached its own send too (or 1.5 s passed):
    // without a lease both then hold the same pending entry; with one, the second waits for the first.
    let arrived = 0;
    const bothArrived = new Promise<void>((resolve) => {
      const check = setInterval(() => arrived >= 2 && resolve(), 10);
      setTimeout(() => { clearInterval(check); resolve(); }, 1500);
    });
    const run = () => store.produce('twitch', id, async (events) => {
      arrived++;
      await bothArrived;
      await producer.send(events.map(out));
    });
    const produced = await Promise.all([run(), run()]);

    // A sentinel on the same key (same partition) is read after everything the two runs produced.
    const sentinel: StreamLifecycle = { ...started, eventId: `${started.eventId}:sentinel`, type: 'updated' };
    await producer.send([out(sentinel)]);
    const mine = () => collector.of<StreamLifecycle>('lifecycle').map((e) => e.value).filter((e) => e.channelId === id);
    await eventually(async () => mine().some((e) => e.eventId === sentinel.eventId), Boolean, 30_000);

    expect(mine().filter((e) => e.eventId === started.eventId)).toHaveLength(1);
    expect(produced.sort()).toEqual([0, 1]);
    expect((await store.pending('twitch', id)).events).toEqual([]);
  });

  it('a lease left by a killed holder only delays the next run: once it expires, the pending entry is produced and acked', async () => {
    const outbox = new Outbox<{ n: number }>(redis, 300);
    const key = `${stack.rt.config.REDIS_KEY_PREFIX}:ingest:outbox:test:${randomSuffix()}`;
    expect(await outbox.commit(key, { key: `${key}:guard`, expected: null, next: 'g1', ttlMs: 60_000 }, [{ n: 1 }])).toBe(true);
    // A process killed -9 while producing leaves its lease behind, with the lease's expiry.
    await redis.set(`${key}:lease`, 'dead-holder', 'PX', 300);
    const sent: Array<{ n: number }[]> = [];
    expect(await outbox.produce(key, async (items) => void sent.push(items))).toBe(1);
    expect(sent).toEqual([[{ n: 1 }]]);
    expect((await outbox.pending(key)).items).toEqual([]);
    expect(await redis.exists(`${key}:lease`)).toBe(0);
  });
});
