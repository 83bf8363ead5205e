import type { KafkaMessage } from 'kafkajs';
import { createRedis } from '../../shared/redis/redis';
import type { Alert } from '../../shared/events/events';
import { IngestService } from '../../ingest/ingest.service';
import type { IngestConnection, IngestPorts } from '../../ingest/ingest.ports';
import { schedulerId } from '../../ingest/jobs/ingest-job';
import { batchSchedulerId, shardOf } from '../../ingest/scheduler/batch-plan';
import type { PlatformAdapter } from '../../platforms/platform.adapter';
import { ChannelStateStore } from '../../ingest/lifecycle/channel-state.store';
import { connectionEventsChannel } from '../../ingest/scheduler/connection-events.listener';
import { eventually, randomSuffix, testStack, TestStack } from '../support/stack';

const unused = async (): Promise<never> => {
  throw new Error('not used');
};
/**
 * What the real adapters offer for batched polling (Twitch: stream states by id; YouTube: live videos
 * and subscriber counts by id): the scheduler reads which forms exist; it never calls them here.
 */
const batchForms: Record<string, Partial<PlatformAdapter>> = { twitch: { streamStates: unused }, youtube: { liveVideos: unused, subscriberCounts: unused } };

/** Connections as platforms/ would list them; the scheduler only reads them (adapters are never called here). */
function connectionsPort(list: IngestConnection[]): IngestPorts {
  return {
    platforms: ['twitch', 'youtube'],
    connections: {
      get: async (id) => list.find((c) => c.connectionId === id) ?? null,
      listActive: async () => list.filter((c) => c.status === 'active'),
      listActiveByChannel: async (platform, channelId) => list.filter((c) => c.status === 'active' && c.platform === platform && c.channelId === channelId),
    },
    tokens: { getAccessToken: async () => { throw new Error('not used'); } },
    adapterFor: (p) => batchForms[p] as PlatformAdapter,
  };
}

const conn = (id: string, platform: 'twitch' | 'youtube', channelId: string): IngestConnection => ({ connectionId: id, userId: `user-${id}`, platform, channelId, status: 'active', updatedAt: 1000 });
const SHARDS = 2;
const shardIds = (platform: string) => Array.from({ length: SHARDS }, (_, i) => batchSchedulerId(platform, i));

describe('ingest scheduler against real Redis and Kafka (batched polling, the default)', () => {
  let stack: TestStack;
  const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:16379');

  beforeAll(async () => {
    stack = await testStack({ INGEST_RECONCILE_SECONDS: '3600', INGEST_BATCH_SHARDS: String(SHARDS) });
  });
  afterAll(async () => {
    redis.disconnect();
    await stack?.cleanup(); // its topics, database and Redis keys
  });

  it('keeps one scheduler per shard and per (channel, unbatched resource): start-up, restarts, orphans, live transitions', async () => {
    const list = [conn('c1', 'twitch', '111'), conn('c2', 'twitch', '222'), conn('c3', 'youtube', 'UC3')];
    const [t1, t2, y3] = list.map((c) => ({ platform: c.platform, channelId: c.channelId }));
    const ports = connectionsPort(list);
    let svc = await IngestService.start(stack.rt, { ports, workers: false, metricsPort: null });
    try {
      const ids = async () => [...(await svc.queues.poll('twitch').getJobSchedulers()), ...(await svc.queues.poll('youtube').getJobSchedulers())].map((s) => s.key).sort();
      // Stream state is the shards' job: Twitch channels have no snapshot job of their own, only
      // followers; a YouTube channel keeps its go-live job (liveBroadcasts.list is per channel) and its
      // subscriber count is read by its shard (channels.list, 50 a unit). No chat while offline.
      expect(await ids()).toEqual([...shardIds('twitch'), ...shardIds('youtube'), schedulerId(t1!, 'followers'), schedulerId(t2!, 'followers'), schedulerId(y3!, 'snapshot')].sort());
      for (const c of [t1!, t2!, y3!]) expect(await svc.scheduler.batchMembers(c.platform, shardOf(c.channelId, SHARDS))).toContain(c.channelId);
      expect((await svc.queues.poll('twitch').getJobScheduler(batchSchedulerId('twitch', 0)))!.every).toBe(stack.rt.config.INGEST_LIVE_POLL_SECONDS * 1000);
      expect((await svc.queues.poll('youtube').getJobScheduler(schedulerId(y3!, 'snapshot')))!.every).toBe(stack.rt.config.INGEST_OFFLINE_POLL_SECONDS * 1000);

      // An orphan (a connection deleted while no ingest ran; a per-connection scheduler of the old layout)
      // and a missing scheduler are both repaired.
      await svc.queues.poll('twitch').upsertJobScheduler('ghost.snapshot', { every: 60_000 }, { name: 'snapshot', data: { connectionId: 'ghost' } as never });
      await svc.queues.poll('twitch').removeJobScheduler(schedulerId(t2!, 'followers'));
      expect(await svc.reconcile()).toEqual({ added: 1, removed: 1 });
      expect(await ids()).toHaveLength(2 * SHARDS + 3);

      // A restart reconciles again and changes nothing.
      await svc.close();
      svc = await IngestService.start(stack.rt, { ports, workers: false, metricsPort: null });
      expect(await svc.reconcile()).toEqual({ added: 0, removed: 0 });
      expect(await ids()).toHaveLength(2 * SHARDS + 3);

      // Going live starts chat; the shard job keeps polling the stream state (no per-channel snapshot job).
      const twitch = svc.queues.poll('twitch');
      await svc.scheduler.onLiveChanged(list[0]!, true);
      expect((await twitch.getJobScheduler(schedulerId(t1!, 'snapshot')))?.every).toBeUndefined();
      expect((await twitch.getJobScheduler(schedulerId(t1!, 'chat')))?.every).toBe(stack.rt.config.INGEST_CHAT_MIN_POLL_MS);
      // A live YouTube channel's own job stays at the go-live cadence: its shard refreshes the live video.
      await svc.scheduler.onLiveChanged(list[2]!, true);
      expect((await svc.queues.poll('youtube').getJobScheduler(schedulerId(y3!, 'snapshot')))!.every).toBe(stack.rt.config.INGEST_OFFLINE_POLL_SECONDS * 1000);
      expect((await svc.queues.poll('youtube').getJobScheduler(schedulerId(y3!, 'chat')))?.every).toBeGreaterThanOrEqual(stack.rt.config.INGEST_CHAT_MIN_POLL_MS);
      // Going offline leaves chat for one more run (it reads what was said before the end), which stops it.
      await svc.scheduler.onLiveChanged(list[0]!, false);
      expect((await twitch.getJobScheduler(schedulerId(t1!, 'chat')))?.every).toBe(stack.rt.config.INGEST_CHAT_MIN_POLL_MS);
      await svc.scheduler.stopChat(list[0]!);
      expect((await twitch.getJobScheduler(schedulerId(t1!, 'chat')))?.every).toBeUndefined();
    } finally {
      await svc.close();
    }
  });

  it('connection events add and remove schedulers at once; reauth_required also raises one Alert on the alerts topic', async () => {
    const list: IngestConnection[] = [];
    const ports = connectionsPort(list);
    const svc = await IngestService.start(stack.rt, { ports, workers: false, metricsPort: null });
    const publisher = createRedis(stack.rt.config.REDIS_URL);
    const channel = connectionEventsChannel(stack.rt.config.REDIS_KEY_PREFIX);
    const publish = (type: string, c: IngestConnection) => publisher.publish(channel, JSON.stringify({ type, connectionId: c.connectionId, userId: c.userId, platform: c.platform, channelId: c.channelId }));
    // The channel's own schedulers (the shards' are there from start-up, whoever is connected).
    const own = async () => (await svc.queues.poll('youtube').getJobSchedulers()).map((s) => s.key).filter((k) => !k.startsWith('batch_'));
    const inShard = async (channelId: string) => (await svc.scheduler.batchMembers('youtube', shardOf(channelId, SHARDS))).includes(channelId);
    try {
      const yt = conn(`y${randomSuffix()}`, 'youtube', 'UCx');
      list.push(yt);
      await publish('connected', yt);
      await eventually(own, (k) => k.length === 1, 10_000);
      expect(await inShard('UCx')).toBe(true);

      await publisher.publish(channel, '{"type":"connected","connectionId":42}'); // invalid: ignored, not fatal
      yt.status = 'reauth_required';
      await publish('reauth_required', yt);
      await publish('reauth_required', yt); // twice (two publishers): one alert
      await eventually(own, (k) => k.length === 0, 10_000);
      await svc.eventsApplied();
      expect(await inShard('UCx')).toBe(false);

      const alerts: Alert[] = [];
      const consumer = stack.rt.kafka.consumer({ groupId: `alerts-${randomSuffix()}` });
      await consumer.connect();
      await consumer.subscribe({ topic: stack.rt.topics.alerts, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }: { message: KafkaMessage }) => { alerts.push(await stack.rt.registry.decode<Alert>(stack.rt.topics.alerts, message.value)); } });
      await eventually(async () => alerts.length, (n) => n >= 1, 20_000);
      await new Promise((r) => setTimeout(r, 1000));
      await consumer.disconnect();
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ type: 'reauth_required', userId: yt.userId, platform: 'youtube', channelId: 'UCx', severity: 'critical', alertId: `${yt.connectionId}:reauth_required:1000` });
      expect(alerts[0]!.message).not.toMatch(/token/i);
    } finally {
      publisher.disconnect();
      await svc.close();
    }
  });

  it('a channel two users connected has one set of schedulers; it stays polled until its last owner leaves', async () => {
    const shared = { platform: 'youtube' as const, channelId: `UCshared${randomSuffix()}` };
    const a = { ...conn(`a${randomSuffix()}`, 'youtube', shared.channelId), userId: 'alice' };
    const b = { ...conn(`b${randomSuffix()}`, 'youtube', shared.channelId), userId: 'bob' };
    const list: IngestConnection[] = [a, b];
    const svc = await IngestService.start(stack.rt, { ports: connectionsPort(list), workers: false, metricsPort: null });
    const publisher = createRedis(stack.rt.config.REDIS_URL);
    const channel = connectionEventsChannel(stack.rt.config.REDIS_KEY_PREFIX);
    const publish = (type: string, c: IngestConnection) => publisher.publish(channel, JSON.stringify({ type, connectionId: c.connectionId, userId: c.userId, platform: c.platform, channelId: c.channelId }));
    const youtube = svc.queues.poll('youtube');
    const mine = async () => (await youtube.getJobSchedulers()).map((s) => s.key).filter((k) => k.startsWith(`${schedulerId(shared, 'snapshot').split('.')[0]}.`)).sort();
    const shardMembers = () => svc.scheduler.batchMembers('youtube', shardOf(shared.channelId, SHARDS));
    try {
      // Its go-live job (the subscriber count is its shard's), and one place in its shard.
      expect(await mine()).toEqual([schedulerId(shared, 'snapshot')]);
      expect((await shardMembers()).filter((id) => id === shared.channelId)).toHaveLength(1);
      // A third connection event for the same channel adds nothing.
      await publish('connected', b);
      await svc.eventsApplied();
      expect(await svc.reconcile()).toEqual({ added: 0, removed: 0 });
      expect(await mine()).toHaveLength(1);
      // The quota is shared among channels, not connections: one YouTube poller.
      expect(await redis.scard(`${stack.rt.config.REDIS_KEY_PREFIX}:ingest:connections:youtube`)).toBe(1);

      // Alice leaves: Bob's connection keeps the channel polled.
      a.status = 'revoked';
      await publish('disconnected', a);
      await new Promise((r) => setTimeout(r, 500));
      await svc.eventsApplied();
      expect(await mine()).toHaveLength(1);
      expect(await svc.reconcile()).toEqual({ added: 0, removed: 0 });

      // Bob leaves too: nothing is left to poll for.
      b.status = 'revoked';
      await publish('disconnected', b);
      await eventually(mine, (ids) => ids.length === 0, 10_000);
      expect(await shardMembers()).not.toContain(shared.channelId);
    } finally {
      publisher.disconnect();
      await svc.close();
    }
  });

  it('channel state commits are compare-and-set, and the outbox keeps events until acknowledged', async () => {
    const store = new ChannelStateStore(redis, stack.rt.config.REDIS_KEY_PREFIX);
    const id = `ch${randomSuffix()}`;
    const live = { live: true, streamId: 's1', startedAt: 1, title: null, category: null, observedAt: 10 };
    const started = { eventId: `twitch:${id}:s1:started`, type: 'started', platform: 'twitch', channelId: id, userId: 'u', streamId: 's1', occurredAt: 1, title: null, category: null, source: 'poll', reportedAt: null };
    const { raw } = await store.read('twitch', id);
    expect(raw).toBeNull();
    // Two runs computed the same transition from the same state: only one commits it.
    const results = await Promise.all([store.commit('twitch', id, raw, live, [started]), store.commit('twitch', id, raw, live, [started])]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const pending = await store.pending('twitch', id);
    expect(pending.events).toEqual([started]);
    await store.ack('twitch', id, pending.raw);
    await store.ack('twitch', id, pending.raw); // a second ack of the same items is a no-op
    expect((await store.pending('twitch', id)).events).toEqual([]);
    expect((await store.read('twitch', id)).state).toEqual(live);
  });
});

describe('ingest scheduler with INGEST_BATCH_POLLING=false (the per-channel opt-out)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await testStack({ INGEST_RECONCILE_SECONDS: '3600', INGEST_BATCH_POLLING: 'false' });
  });
  afterAll(async () => stack?.cleanup());

  it('keeps one snapshot and one followers scheduler per channel, no shard scheduler; live switches the snapshot cadence', async () => {
    const list = [conn('c1', 'twitch', '111'), conn('c3', 'youtube', 'UC3')];
    const [t1, y3] = list.map((c) => ({ platform: c.platform, channelId: c.channelId }));
    const svc = await IngestService.start(stack.rt, { ports: connectionsPort(list), workers: false, metricsPort: null });
    try {
      const ids = async () => [...(await svc.queues.poll('twitch').getJobSchedulers()), ...(await svc.queues.poll('youtube').getJobSchedulers())].map((s) => s.key).sort();
      expect(await ids()).toEqual([t1, y3].flatMap((c) => [schedulerId(c!, 'followers'), schedulerId(c!, 'snapshot')]).sort());
      const twitch = svc.queues.poll('twitch');
      expect((await twitch.getJobScheduler(schedulerId(t1!, 'snapshot')))!.every).toBe(stack.rt.config.INGEST_OFFLINE_POLL_SECONDS * 1000);
      await svc.scheduler.onLiveChanged(list[0]!, true);
      expect((await twitch.getJobScheduler(schedulerId(t1!, 'snapshot')))!.every).toBe(stack.rt.config.INGEST_LIVE_POLL_SECONDS * 1000);
      expect((await twitch.getJobScheduler(schedulerId(t1!, 'chat')))?.every).toBe(stack.rt.config.INGEST_CHAT_MIN_POLL_MS);
    } finally {
      await svc.close();
    }
  });
});
