import type { ChatActivity, FollowerCount, StreamLifecycle, StreamSnapshot } from '../../shared/events/events';
import { eventually } from '../support/stack';
import { duplicates, ingestHarness, type IngestHarness, type simulatedPlatforms, type TopicCollector } from './ingest.harness';

describe('ingest end to end: 50 simulated channels → BullMQ → Kafka (real Redis, Kafka, Schema Registry)', () => {
  let h: IngestHarness;
  let platforms: Awaited<ReturnType<typeof simulatedPlatforms>>;
  let collector: TopicCollector;

  beforeAll(async () => {
    h = await ingestHarness({ channels: 50, topics: ['snapshots', 'followers', 'chat', 'lifecycle'] });
    ({ platforms, collector } = h);
  });
  afterAll(async () => h?.close());

  it('every connected channel yields snapshots, follower counts, chat while live and one started/ended per stream', async () => {
    const { sim } = platforms;
    const world = sim.world;
    // Two channels per platform are forced live, the rest offline: the expected lifecycle is known exactly.
    const twitch = world.channels.filter((c) => c.platform === 'twitch');
    const youtube = world.channels.filter((c) => c.platform === 'youtube');
    const forced = [twitch[0]!, twitch[1]!, youtube[0]!, youtube[1]!];
    // Started ten minutes ago: past the simulated audience ramp-up, so chat is flowing.
    const since = Date.now() - 10 * 60_000;
    for (const c of world.channels) world.forceLive(c.channelId, forced.includes(c), since);

    const conns = await platforms.connect('creator-1', 50);
    expect(conns).toHaveLength(50);
    const svc = await h.startIngest({ metricsPort: 0 });

    const snaps = () => collector.of<StreamSnapshot>('snapshots');
    // At least two snapshots of every channel (a poll of each, then the next one at its cadence).
    await eventually(async () => new Set(snaps().map((s) => s.value.channelId)).size, (n) => n === 50, 60_000);
    await eventually(async () => conns.every((c) => snaps().filter((s) => s.value.channelId === c.channelId).length >= 2), Boolean, 60_000);
    const started = () => collector.of<StreamLifecycle>('lifecycle').filter((e) => e.value.type === 'started');
    await eventually(async () => started().length, (n) => n >= 4, 30_000);
    await eventually(async () => new Set(collector.of<ChatActivity>('chat').map((e) => e.value.channelId)).size, (n) => n >= 4, 30_000);
    await eventually(async () => new Set(collector.of<FollowerCount>('followers').map((e) => e.value.channelId)).size, (n) => n === 50, 30_000);

    // End the forced streams: one ended each.
    for (const c of forced) world.forceLive(c.channelId, false);
    const ended = () => collector.of<StreamLifecycle>('lifecycle').filter((e) => e.value.type === 'ended');
    await eventually(async () => ended().length, (n) => n >= 4, 30_000);
    // A few more polls after the end, so any duplicate would have had its chance.
    const after = snaps().length;
    await eventually(async () => snaps().length, (n) => n >= after + 20, 30_000);

    // Content: identity, keys and the world's truth for the forced channels.
    for (const s of snaps()) {
      const conn = conns.find((c) => c.channelId === s.value.channelId)!;
      expect(s.key).toBe(`${conn.platform}:${conn.channelId}`);
      expect(s.value).toMatchObject({ platform: conn.platform, userId: 'creator-1', source: 'poll' });
      expect(s.value.eventId).toMatch(new RegExp(`^${conn.platform}:${conn.channelId}:\\d+$`));
    }
    for (const c of forced) {
      const liveSnap = snaps().find((s) => s.value.channelId === c.channelId && s.value.live)!;
      const truth = world.stateAt(c.channelId, liveSnap.value.observedAt);
      expect(liveSnap.value).toMatchObject({ streamId: truth.streamId, title: truth.title });
      // YouTube reports its own video category (e.g. Gaming), not the game; Twitch reports the game.
      if (c.platform === 'twitch') expect(liveSnap.value.category).toBe(truth.category);
      expect(liveSnap.value.viewers).toBeGreaterThan(0);
      const lifecycle = collector.of<StreamLifecycle>('lifecycle').filter((e) => e.value.channelId === c.channelId).map((e) => e.value);
      expect(lifecycle.map((e) => e.type)).toEqual(['started', 'ended']);
      expect(lifecycle[0]!.eventId).toBe(`${c.platform}:${c.channelId}:${truth.streamId}:started`);
      expect(lifecycle[1]!.eventId).toBe(`${c.platform}:${c.channelId}:${truth.streamId}:ended`);
      expect(lifecycle[1]!.occurredAt).toBeGreaterThanOrEqual(lifecycle[0]!.occurredAt);
    }
    // Nobody else went live, so nobody else has lifecycle events.
    expect(new Set(collector.of<StreamLifecycle>('lifecycle').map((e) => e.value.channelId))).toEqual(new Set(forced.map((c) => c.channelId)));
    expect(duplicates(collector.of<StreamLifecycle>('lifecycle').map((e) => e.value.eventId))).toEqual([]);
    // Follower totals are the world's (they only grow, so the value at observation time bounds them).
    for (const f of collector.of<FollowerCount>('followers')) {
      expect(f.value.followers).toBe(world.followersAt(f.value.channelId, f.value.observedAt));
    }
    // Chat only for the forced-live channels, with pseudonymous chatter ids.
    const chat = collector.of<ChatActivity>('chat').map((e) => e.value);
    expect(chat.every((e) => forced.some((c) => c.channelId === e.channelId))).toBe(true);
    expect(chat.some((e) => e.messages > 0 && e.chatterIds.length > 0)).toBe(true);
    expect(chat.flatMap((e) => e.chatterIds).every((id) => /^[A-Za-z0-9_-]{16}$/.test(id))).toBe(true);
    // No snapshot id twice unless it is the same slot re-polled (none expected without faults).
    expect(duplicates(snaps().map((s) => s.value.eventId))).toEqual([]);

    // Metrics are served.
    const text = await (await fetch(svc.metricsUrl!)).text();
    expect(text).toMatch(/spacehub_ingest_jobs_total\{platform="twitch",resource="snapshot",outcome="done"\} \d+/);
    expect(text).toContain('spacehub_ingest_kafka_produce_seconds_bucket');
    expect(text).toContain('spacehub_ingest_platform_request_seconds_bucket');
  });
});
