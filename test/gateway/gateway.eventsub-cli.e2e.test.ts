/**
 * Issue 18, the outside peer: Twitch's own EventSub WebSocket server (the Twitch CLI) pushes to our
 * EventSub client; ingest's push path (no polling runs here) puts the events on Kafka; the processors
 * open and close the session and raise alerts; the creator's gateway client receives
 * - `stream.online` / `stream.offline` as start / end `stream_notification`s,
 * - a follow, a raid and a sub as `alert`s with their figures.
 * The channel is connected through the simulator's OAuth (a real connection with a real token in
 * Redis); its EventSub session goes to the CLI, which requires subscriptions (-S) as Twitch does.
 */
import os from 'node:os';
import type { StreamSnapshot } from '../../shared/events/events';
import { channelKey } from '../../shared/kafka/topics';
import type { ProcessorService } from '../../processors/processor.service';
import { createProcessor } from '../../processors/processor.wiring';
import { platformPorts } from '../../ingest/platform.ports';
import type { IngestPorts } from '../../ingest/ingest.ports';
import { ChannelStateStore } from '../../ingest/lifecycle/channel-state.store';
import { EventProducer } from '../../ingest/output/event.producer';
import { PushIngest } from '../../ingest/push/push.ingest';
import { createRedis } from '../../shared/redis/redis';
import { endpointsAt } from '../../platforms/endpoints';
import { FAST_INGEST, simulatedPlatforms } from '../ingest/ingest.harness';
import { eventually } from '../support/stack';
import { startEventSubServer, withCliLock } from '../support/twitch-cli';
import { GatewayFixture, PlainClient } from './gateway.fixture';

jest.setTimeout(240_000);

describe('gateway end to end from the Twitch CLI EventSub server: push → ingest → processors → gateway client', () => {
  it('stream.online/offline arrive as start/end notifications; a follow, a raid and a sub as alerts', async () => {
    await withCliLock(async () => {
      const cli = await startEventSubServer();
      const f = await GatewayFixture.create({ ...FAST_INGEST, PROCESSOR_ALLOWED_LATENESS_SECONDS: '0', PROCESSOR_FLUSH_INTERVAL_MS: '200' }, { clickhouse: true });
      const { rt } = f.stack;
      const platforms = await simulatedPlatforms(rt, 2);
      let ports: IngestPorts | undefined;
      let push: PushIngest | undefined;
      let processor: ProcessorService | undefined;
      let plain: PlainClient | undefined;
      const producer = new EventProducer(rt);
      const redis = createRedis(rt.config.REDIS_URL);
      try {
        for (const c of platforms.sim.world.channels) platforms.sim.world.forceLive(c.channelId, false);
        const conns = await platforms.connect(f.alice.userId, 2);
        const conn = conns.find((c) => c.platform === 'twitch')!;
        expect(conn).toBeDefined();
        const channelId = conn.channelId;
        ports = platformPorts(rt.config, undefined, { endpoints: { ...endpointsAt(platforms.sim.url), twitchEventSub: cli.wsUrl, twitchEventSubApi: cli.url } });
        await producer.waitUntilReady();
        push = new PushIngest({
          ports, producer, states: new ChannelStateStore(redis, rt.config.REDIS_KEY_PREFIX), redis, redisKeyPrefix: rt.config.REDIS_KEY_PREFIX,
          processId: `${os.hostname()}:${process.pid}:test`, onLiveChanged: async () => undefined, logger: rt.logger,
        });
        plain = await PlainClient.connect(f.wsUrl, { token: f.alice.token });
        await plain.request('join_stream_channel', { userId: f.alice.userId });
        processor = createProcessor(rt);
        await processor.start();

        const active = await ports.connections.listActive();
        expect((await push.reconcile(active)).watching).toBe(new Set(active.filter((c) => c.platform === 'twitch').map((c) => c.channelId)).size);
        const status = push.source('twitch')!.status(channelId)!;
        expect(status.connected).toBe(true);
        expect(status.subscribed).toEqual(expect.arrayContaining(['stream.online', 'stream.offline', 'channel.follow', 'channel.raid']));

        cli.trigger('stream.online', '-t', channelId);
        const start = await plain.waitFor('stream_notification', (d) => d.type === 'start' && d.channelId === channelId, 60_000);
        expect(start).toMatchObject({ userId: f.alice.userId, platform: 'twitch', channelId });

        cli.trigger('channel.follow', '-t', channelId, '-f', '5550001', '--from-user-name', 'newfan');
        cli.trigger('channel.raid', '-t', channelId, '-f', '5550002');
        const alerts = await eventually(async () => plain!.of('alert').filter((a) => a.channelId === channelId), (a) => a.length >= 2, 60_000);
        const follow = alerts.find((a) => a.type === 'new_follower')!;
        expect(follow.details).toMatchObject({ kind: 'follow', actor: expect.objectContaining({ id: '5550001' }) });
        const raid = alerts.find((a) => a.type === 'raid')!;
        expect(raid.details).toMatchObject({ kind: 'raid', viewers: expect.any(Number), actor: expect.objectContaining({ id: '5550002' }) });

        // channel.subscribe needs channel:read:subscriptions; the simulator's grant has it only if the
        // adapter asks for it, so the CLI's sub event is sent to the session only when subscribed.
        if (status.subscribed.includes('channel.subscribe')) {
          cli.trigger('channel.subscribe', '-t', channelId, '--tier', '1000');
          const sub = await plain.waitFor('alert', (d) => d.type === 'new_subscriber' && d.channelId === channelId, 60_000);
          expect(sub.details).toMatchObject({ kind: 'subscribe', tier: '1000' });
        } else {
          expect(status.missing['channel.subscribe']).toMatch(/channel:read:subscriptions/);
        }

        cli.trigger('stream.offline', '-t', channelId);
        const lifecycle = await f.lifecycleRecords();
        await eventually(async () => lifecycle().filter((e) => e.channelId === channelId && e.type === 'ended'), (e) => e.length === 1, 60_000);
        // Sessions close on event time: one far-future record stands in for the minutes that move the watermark.
        const key = channelKey('twitch', channelId);
        const later = Date.now() + 10 * 60_000;
        const tick: StreamSnapshot = { eventId: `${key}:tick`, platform: 'twitch', channelId, userId: f.alice.userId, observedAt: later, live: false, viewers: null, streamId: null, startedAt: null, title: null, category: null, language: null, source: 'poll' };
        await f.producer.send({ topic: rt.topics.snapshots, acks: -1, messages: [{ key, value: await rt.registry.encode('snapshots', tick), timestamp: String(later) }] });
        const end = await plain.waitFor('stream_notification', (d) => d.type === 'end' && d.channelId === channelId, 60_000);
        expect(end).toMatchObject({ platform: 'twitch', channelId });
        const started = lifecycle().filter((e) => e.channelId === channelId);
        expect(started.map((e) => [e.type, e.source])).toEqual([['started', 'eventsub'], ['ended', 'eventsub']]);
      } finally {
        plain?.close();
        await push?.close();
        await processor?.close();
        await producer.close();
        redis.disconnect();
        await ports?.close?.();
        await platforms.close();
        await f.close();
        await cli.stop();
      }
    });
  });
});
