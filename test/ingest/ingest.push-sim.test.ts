/**
 * The simulator's EventSub push into ingest (issue 18, C.1 and C.2), end to end without the Twitch CLI:
 * a creator connects through OAuth, ingest opens the channel's EventSub session on the simulator, and
 * - the world's raids, subscriptions, resubscriptions, gifts and cheers of a live session reach ingest's
 *   ChannelEvent topic (and the creator's alerts), channel.update reaches ingest's push path;
 * - a `revocation` with status authorization_revoked marks the connection reauth_required at once (the
 *   creator is alerted), while version_removed does not touch the connection.
 * The simulator's clock jumps an hour once the channel is live, so a live hour of the world's audience
 * events is pushed in seconds (events are a pure function of time, as chat and follows are).
 */
import { createRedis } from '../../shared/redis/redis';
import type { Alert, ChannelEvent } from '../../shared/events/events';
import type { Connection } from '../../platforms/connections/connection.repository';
import { createPlatformServices, type PlatformServices } from '../../platforms/platform-services';
import { endpointsAt } from '../../platforms/endpoints';
import { seedDemo } from '../../platforms/simulator/demo-seed';
import { startSimulator, type Simulator } from '../../platforms/simulator/simulator.server';
import { IngestService } from '../../ingest/ingest.service';
import { platformPorts } from '../../ingest/platform.ports';
import type { IngestPorts } from '../../ingest/ingest.ports';
import { eventually, testStack, type TestStack } from '../support/stack';
import { FAST_INGEST, TopicCollector } from './ingest.harness';

describe('ingest from the simulator\'s EventSub push', () => {
  let stack: TestStack;
  let sim: Simulator;
  let platform: PlatformServices;
  let redis: ReturnType<typeof createRedis>;
  let ports: IngestPorts;
  let collector: TopicCollector;
  let ingest: IngestService | undefined;
  let conns: Connection[];
  let offsetMs = 0;
  const clock = () => Date.now() + offsetMs;

  beforeAll(async () => {
    stack = await testStack({ ...FAST_INGEST });
    // audienceScale: a freshly started test stream has few viewers; subs and cheers scale with them.
    sim = await startSimulator({ port: 0, seed: 11, channels: 8, clock, audienceScale: 40 });
    redis = createRedis(stack.rt.config.REDIS_URL);
    platform = createPlatformServices(stack.rt.config, redis, undefined, { endpoints: endpointsAt(sim.url) });
    for (const c of sim.world.channels) sim.world.forceLive(c.channelId, false);
    // Two Twitch channels (the demo picks alternate platforms): one for the audience, one to revoke.
    conns = (await seedDemo({ streaming: platform.streaming, simulatorUrl: sim.url, redirectUri: () => 'http://127.0.0.1/callback' }, { userId: 'u_push_sim', channels: 4 }))
      .filter((c) => c.platform === 'twitch');
    expect(conns).toHaveLength(2);
    collector = new TopicCollector(stack.rt, ['channelEvents', 'alerts', 'lifecycle']);
    await collector.start();
    ports = platformPorts(stack.rt.config, undefined, { endpoints: endpointsAt(sim.url) });
    ingest = await IngestService.start(stack.rt, { ports, metricsPort: null });
  });
  afterAll(async () => {
    await ingest?.close();
    await ports?.close?.();
    await collector?.stop();
    await platform?.close();
    redis?.disconnect();
    await sim?.close();
    await stack?.cleanup();
  });

  const pushStatus = (channelId: string) => ingest!.push!.source('twitch')!.status(channelId);

  it('pushes a live hour\'s raids, subs, resubs, gifts and cheers into the ChannelEvent topic and the creator\'s alerts, and channel.update to ingest', async () => {
    const channelId = conns[0]!.channelId;
    const status = await eventually(async () => pushStatus(channelId), (s) => s?.connected === true, 30_000, 100);
    expect(status!.subscribed).toEqual(['channel.cheer', 'channel.follow', 'channel.raid', 'channel.subscribe', 'channel.subscription.gift', 'channel.subscription.message', 'channel.update', 'stream.offline', 'stream.online']);

    sim.world.forceLive(channelId, true, clock());
    await eventually(async () => collector.of<{ channelId: string; type: string }>('lifecycle').filter((e) => e.value.channelId === channelId && e.value.type === 'started'), (e) => e.length >= 1, 30_000);
    offsetMs += 3_600_000;

    const kinds = ['raid', 'subscribe', 'resubscribe', 'gift', 'cheer'];
    const events = await eventually(
      async () => collector.of<ChannelEvent>('channelEvents').map((e) => e.value).filter((e) => e.channelId === channelId),
      (es) => kinds.every((k) => es.some((e) => e.type === k)),
      60_000, 200,
    );
    const first = (k: string) => events.find((e) => e.type === k)!;
    expect(first('raid')).toMatchObject({ platform: 'twitch', viewers: expect.any(Number), actorLogin: expect.any(String) });
    expect(first('raid').viewers).toBeGreaterThan(0);
    expect(['1000', '2000', '3000']).toContain(first('subscribe').tier);
    expect(first('resubscribe').months).toBeGreaterThan(0);
    expect(first('gift')).toMatchObject({ gifted: true, count: expect.any(Number) });
    expect(first('cheer').bits).toBeGreaterThan(0);
    // Each gift's recipients arrive as channel.subscribe with is_gift, as on Twitch.
    expect(events.some((e) => e.type === 'subscribe' && e.gifted === true)).toBe(true);
    // channel.update: the title changed when the stream started.
    expect(ingest!.push!.handled.get('update') ?? 0).toBeGreaterThanOrEqual(1);

    // The alerts are produced beside the events, not before them: wait for them as for the events.
    const alertTypes = ['raid', 'new_subscriber', 'cheer'];
    const alerts = await eventually(
      async () => collector.of<Alert>('alerts').map((a) => a.value).filter((a) => a.channelId === channelId),
      (as) => alertTypes.every((t) => as.some((a) => a.type === t)),
      30_000, 200,
    );
    for (const t of alertTypes) expect(alerts.some((a) => a.type === t)).toBe(true);
    // Redeliveries are one record each (ids from the delivery's message_id).
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
  });

  it('a revocation for authorization_revoked marks the connection for re-authorisation at once; version_removed does not', async () => {
    const conn = conns[1]!;
    await eventually(async () => pushStatus(conn.channelId), (s) => s?.connected === true, 30_000, 100);

    expect(sim.eventSub.revoke(conn.channelId, 'version_removed', 'channel.update')).toBe(1);
    await eventually(async () => pushStatus(conn.channelId)?.missing['channel.update'], (m) => m !== undefined, 15_000, 100);
    expect((await platform.connections.get(conn.connectionId))!.status).toBe('active');

    // Nothing else can notice here: the grant still works at Twitch's token endpoint and in every poll.
    expect(sim.eventSub.revoke(conn.channelId, 'authorization_revoked')).toBeGreaterThan(1);
    await eventually(async () => (await platform.connections.get(conn.connectionId))!.status, (s) => s === 'reauth_required', 15_000, 100);
    const alert = await eventually(
      async () => collector.of<Alert>('alerts').map((a) => a.value).find((a) => a.type === 'reauth_required' && a.channelId === conn.channelId),
      (a) => a !== undefined, 15_000,
    );
    expect(alert).toMatchObject({ userId: 'u_push_sim', platform: 'twitch', severity: 'critical' });
    // The other channel's connection is untouched.
    expect((await platform.connections.get(conns[0]!.connectionId))!.status).toBe('active');
  });
});
