import type { FollowerCount, StreamLifecycle, StreamSnapshot } from '../../shared/events/events';
import { IngestService } from '../../ingest/ingest.service';
import { platformPorts } from '../../ingest/platform.ports';
import type { IngestPorts } from '../../ingest/ingest.ports';
import { schedulerId } from '../../ingest/jobs/ingest-job';
import { batchSchedulerId } from '../../ingest/scheduler/batch-plan';
import { endpointsAt } from '../../platforms/endpoints';
import type { Connection } from '../../platforms/connections/connection.repository';
import { eventually, testStack, TestStack } from '../support/stack';
import { duplicates, FAST_INGEST, simulatedPlatforms, TopicCollector } from './ingest.harness';

/**
 * Issue 18.1 on the real path (simulator OAuth → ConnectionRepository → BullMQ → Kafka) with
 * INGEST_BATCH_POLLING: one job scheduler per shard instead of one snapshot job per channel; Twitch
 * asks /helix/streams about many channels per call with the app token, YouTube refreshes live streams
 * 50 per videos.list unit. The records are the ones the per-channel path makes: same event ids, one
 * started/ended per stream, the earliest owner of a shared channel on every record.
 */
describe('ingest: batched stream state (real Redis, Kafka, Schema Registry, simulator)', () => {
  let stack: TestStack;
  let platforms: Awaited<ReturnType<typeof simulatedPlatforms>>;
  let ports: IngestPorts;
  let svc: IngestService | undefined;
  let collector: TopicCollector;
  let conns: Connection[];
  const SHARDS = 2;

  beforeAll(async () => {
    stack = await testStack({ ...FAST_INGEST, INGEST_BATCH_POLLING: 'true', INGEST_BATCH_SHARDS: String(SHARDS) });
    platforms = await simulatedPlatforms(stack.rt, 24);
    ports = platformPorts(stack.rt.config, undefined, { endpoints: endpointsAt(platforms.sim.url) });
    collector = new TopicCollector(stack.rt, ['snapshots', 'lifecycle', 'followers']);
    await collector.start();
  });
  afterAll(async () => {
    await svc?.close();
    await ports?.close?.();
    await collector?.stop();
    await platforms?.close();
    await stack?.cleanup();
  });

  const snaps = (channelId: string) => collector.of<StreamSnapshot>('snapshots').filter((s) => s.value.channelId === channelId).map((s) => s.value);
  const followers = (channelId: string) => collector.of<FollowerCount>('followers').filter((s) => s.value.channelId === channelId).map((s) => s.value);
  const lifecycle = (channelId: string) => collector.of<StreamLifecycle>('lifecycle').filter((s) => s.value.channelId === channelId).map((s) => s.value);

  it('polls every channel through one job per shard: many channels per Helix call, the app token, ids as before', async () => {
    const world = platforms.sim.world;
    for (const c of world.channels) world.forceLive(c.channelId, false);
    conns = await platforms.connect('alice', 20);
    // Bob also owns the first two channels: each stays one channel, polled for alice (earliest owner).
    const shared = await platforms.connect('bob', 2);
    const twitch = conns.filter((c) => c.platform === 'twitch');
    const youtube = conns.filter((c) => c.platform === 'youtube');
    const liveTwitch = twitch.slice(0, 4);
    const liveYouTube = youtube.slice(0, 3);
    for (const c of [...liveTwitch, ...liveYouTube]) world.forceLive(c.channelId, true, Date.now() - 60_000);
    platforms.sim.state.resetCounters();
    svc = await IngestService.start(stack.rt, { ports, metricsPort: null });

    // Twitch: the shards' schedulers and no per-channel snapshot scheduler; YouTube keeps its go-live job per channel.
    const keys = async (p: string) => (await svc!.queues.poll(p).getJobSchedulers(0, -1)).map((s) => s.key);
    const tKeys = await keys('twitch');
    for (let s = 0; s < SHARDS; s++) expect(tKeys).toContain(batchSchedulerId('twitch', s));
    for (const c of twitch) expect(tKeys).not.toContain(schedulerId(c, 'snapshot'));
    const yKeys = await keys('youtube');
    for (let s = 0; s < SHARDS; s++) expect(yKeys).toContain(batchSchedulerId('youtube', s));
    for (const c of youtube) expect(yKeys).toContain(schedulerId(c, 'snapshot'));
    // YouTube subscriber counts come from the shards' jobs too (channels.list, 50 a unit).
    for (const c of youtube) expect(yKeys).not.toContain(schedulerId(c, 'followers'));

    await eventually(async () => twitch.map((c) => snaps(c.channelId).length), (n) => n.every((x) => x >= 2), 60_000);
    await eventually(async () => liveTwitch.map((c) => snaps(c.channelId).filter((s) => s.live).length), (n) => n.every((x) => x >= 3), 60_000);
    await eventually(async () => liveYouTube.map((c) => snaps(c.channelId).filter((s) => s.live && s.viewers !== null).length), (n) => n.every((x) => x >= 3), 60_000);

    // Many channels per call: the Twitch records outnumber the /helix/streams calls several times over.
    const counters = platforms.sim.state.counters;
    const twitchRecords = twitch.reduce((n, c) => n + snaps(c.channelId).length, 0);
    expect(twitchRecords / counters.requests['/helix/streams']!).toBeGreaterThanOrEqual(2.5);
    // ... all of them with the app token (its own bucket), none with a creator's.
    const appBucket = `${stack.rt.config.TWITCH_CLIENT_ID}:app`;
    expect(counters.maxWindowPoints[appBucket]).toBeGreaterThan(0);
    expect(counters.tokenCalls['twitch:client_credentials']).toBeGreaterThanOrEqual(1);
    // YouTube live streams come from videos.list batches: fewer calls than live YouTube records.
    const ytLiveRecords = liveYouTube.reduce((n, c) => n + snaps(c.channelId).filter((s) => s.live).length, 0);
    expect(counters.requests['/youtube/v3/videos']!).toBeLessThan(ytLiveRecords);

    // Every YouTube creator's subscriber count, from fewer channels.list calls than records, ids as before.
    await eventually(async () => youtube.map((c) => followers(c.channelId).length), (n) => n.every((x) => x >= 2), 60_000);
    const ytFollowerRecords = youtube.reduce((n, c) => n + followers(c.channelId).length, 0);
    expect(counters.requests['/youtube/v3/channels']! * 2).toBeLessThanOrEqual(ytFollowerRecords);
    for (const c of youtube) {
      const mine = followers(c.channelId);
      for (const f of mine) expect(f.eventId).toMatch(new RegExp(`^youtube:${c.channelId}:followers:\\d+$`));
      expect(duplicates(mine.map((f) => f.eventId))).toEqual([]);
      expect(mine[0]!.followers).toBeGreaterThan(0);
    }

    // Event ids as on the per-channel path: <platform>:<channelId>:<slot>, one record per slot.
    for (const c of conns) {
      const mine = snaps(c.channelId);
      for (const s of mine) expect(s.eventId).toMatch(new RegExp(`^${c.platform}:${c.channelId}:\\d+$`));
      expect(duplicates(mine.map((s) => s.eventId))).toEqual([]);
    }
    // The shared channels are one channel each, their records stamped with the earliest owner.
    for (const c of shared) expect(new Set(snaps(c.channelId).map((s) => s.userId))).toEqual(new Set(['alice']));

    // One started per live stream, with the lifecycle ids of before.
    for (const c of [...liveTwitch, ...liveYouTube]) {
      const streamId = world.stateAt(c.channelId, Date.now()).streamId!;
      await eventually(async () => lifecycle(c.channelId), (l) => l.some((e) => e.type === 'started'), 30_000);
      expect(lifecycle(c.channelId).filter((e) => e.type === 'started').map((e) => e.eventId)).toEqual([`${c.platform}:${c.channelId}:${streamId}:started`]);
    }
    // Chat follows the live state the batch observed.
    for (const c of liveTwitch) await eventually(async () => keys('twitch'), (k) => k.includes(schedulerId(c, 'chat')), 30_000);
  });

  it('ends streams once when the batch sees them offline (Twitch) or their video ended (YouTube)', async () => {
    const world = platforms.sim.world;
    const twitch = conns.filter((c) => c.platform === 'twitch')[0]!;
    const youtube = conns.filter((c) => c.platform === 'youtube')[0]!;
    for (const c of [twitch, youtube]) world.forceLive(c.channelId, false);
    for (const c of [twitch, youtube]) {
      await eventually(async () => lifecycle(c.channelId), (l) => l.some((e) => e.type === 'ended'), 60_000);
      await eventually(async () => snaps(c.channelId).slice(-1)[0]?.live, (live) => live === false, 30_000);
    }
    await new Promise((r) => setTimeout(r, 5000));
    for (const c of [twitch, youtube]) {
      expect(lifecycle(c.channelId).filter((e) => e.type === 'ended')).toHaveLength(1);
      expect(duplicates(snaps(c.channelId).map((s) => s.eventId))).toEqual([]);
    }
  });
});
