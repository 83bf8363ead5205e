import type { Alert, StreamSnapshot } from '../../shared/events/events';
import { schedulerId } from '../../ingest/jobs/ingest-job';
import { shardOf } from '../../ingest/scheduler/batch-plan';
import { adapterFor } from '../../platforms/registry';
import { eventually } from '../support/stack';
import { duplicates, ingestHarness, type IngestHarness, type simulatedPlatforms, type TopicCollector } from './ingest.harness';

/**
 * Issue 16.4 on the real path (simulator OAuth → ConnectionRepository → BullMQ → Kafka): two users
 * connect the same Twitch and YouTube channels. Each channel is polled once (one scheduler, one
 * record per poll slot, stamped with the earliest-connected owner); a refused grant fails over to the
 * other owner's token; an owner who disconnects stops nothing for the other.
 */
describe('ingest: channels with two owners (real Redis, Kafka, Schema Registry, simulator)', () => {
  let h: IngestHarness;
  let platforms: Awaited<ReturnType<typeof simulatedPlatforms>>;
  let collector: TopicCollector;

  beforeAll(async () => {
    h = await ingestHarness({ channels: 4, topics: ['snapshots', 'alerts'] });
    ({ platforms, collector } = h);
  });
  afterAll(async () => h?.close());

  it('polls a shared channel once, fails over to the other owner\'s token, and keeps polling when one owner leaves', async () => {
    for (const c of platforms.sim.world.channels) platforms.sim.world.forceLive(c.channelId, false);
    // seedDemo picks the same first Twitch and YouTube channel for both users: two owners each.
    const alice = await platforms.connect('alice', 2);
    const bob = await platforms.connect('bob', 2);
    expect(bob.map((c) => `${c.platform}:${c.channelId}`)).toEqual(alice.map((c) => `${c.platform}:${c.channelId}`));
    const [twitch, youtube] = [alice.find((c) => c.platform === 'twitch')!, alice.find((c) => c.platform === 'youtube')!];
    const svc = await h.startIngest({ metricsPort: null });

    // One set of schedulers per channel, not per connection (batched polling, the default: Twitch's
    // stream state and YouTube's subscriber count are their shard's job; the channel is in its shard once).
    const keys = async (p: string) => (await svc.queues.poll(p).getJobSchedulers()).map((s) => s.key).filter((k) => !k.startsWith('batch_')).sort();
    const shardOfChannel = async (ch: { platform: string; channelId: string }) => (await svc.scheduler.batchMembers(ch.platform, shardOf(ch.channelId, svc.scheduler.batchShards))).filter((id) => id === ch.channelId);
    expect(await keys('twitch')).toEqual([schedulerId(twitch, 'followers')]);
    expect(await keys('youtube')).toEqual([schedulerId(youtube, 'snapshot')]);
    for (const ch of [twitch, youtube]) expect(await shardOfChannel(ch)).toEqual([ch.channelId]);

    const snaps = (channelId: string) => collector.of<StreamSnapshot>('snapshots').filter((s) => s.value.channelId === channelId).map((s) => s.value);
    await eventually(async () => [snaps(twitch.channelId).length, snaps(youtube.channelId).length], ([t, y]) => t! >= 3 && y! >= 3, 60_000);
    for (const ch of [twitch, youtube]) {
      // Once per poll slot: no two records of one channel share an id (two schedulers would poll each slot twice).
      expect(duplicates(snaps(ch.channelId).map((s) => s.eventId))).toEqual([]);
      // Polled with the earliest-connected owner's token; the record carries that user.
      expect(new Set(snaps(ch.channelId).map((s) => s.userId))).toEqual(new Set(['alice']));
    }

    // Alice's Twitch grant is revoked at the platform: her refresh is refused, bob's token takes over.
    const aliceTokens = await platforms.platform.connections.getTokens(twitch.connectionId);
    await adapterFor('twitch', platforms.platform.platforms).revoke(aliceTokens!.accessToken);
    await eventually(async () => snaps(twitch.channelId).filter((s) => s.userId === 'bob').length, (n) => n >= 2, 60_000);
    expect((await platforms.platform.connections.get(twitch.connectionId))!.status).toBe('reauth_required');
    expect(await keys('twitch')).toHaveLength(1);
    expect(await shardOfChannel(twitch)).toEqual([twitch.channelId]);
    // Alice hears about her own connection, once.
    const reauth = () => collector.of<Alert>('alerts').filter((a) => a.value.type === 'reauth_required').map((a) => a.value);
    await eventually(async () => reauth().length, (n) => n >= 1, 30_000);
    expect(reauth().map((a) => [a.userId, a.channelId])).toEqual([['alice', twitch.channelId]]);

    // Bob disconnects YouTube: alice's connection keeps the channel polled, with her (untouched) grant.
    const bobYouTube = bob.find((c) => c.platform === 'youtube')!;
    await platforms.platform.streaming.disconnectPlatform('bob', bobYouTube.connectionId);
    await svc.eventsApplied();
    const before = snaps(youtube.channelId).length;
    await eventually(async () => snaps(youtube.channelId).length, (n) => n >= before + 2, 60_000);
    expect(await keys('youtube')).toHaveLength(1);
    expect(duplicates(snaps(youtube.channelId).map((s) => s.eventId))).toEqual([]);
    expect(duplicates(snaps(twitch.channelId).map((s) => s.eventId))).toEqual([]);

    // The last owner leaving stops the channel.
    await platforms.platform.streaming.disconnectPlatform('alice', youtube.connectionId);
    await eventually(() => keys('youtube'), (k) => k.length === 0, 20_000);
    expect(await shardOfChannel(youtube)).toEqual([]);
  });
});
