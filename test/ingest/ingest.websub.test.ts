import { createRedis } from '../../shared/redis/redis';
import type { Redis } from 'ioredis';
import type { StreamLifecycle } from '../../shared/events/events';
import type { Connection } from '../../platforms/connections/connection.repository';
import { atomFeedOf } from '../../platforms/simulator/websub.sim';
import { feedTopicOf, hubSignature } from '../../platforms/youtube/youtube.websub';
import { schedulerId } from '../../ingest/jobs/ingest-job';
import { WebSubStore } from '../../ingest/push/websub.store';
import { cipherFromConfig } from '../../platforms/platform-services';
import { eventually } from '../support/stack';
import { freePort, ingestHarness, type IngestHarness } from './ingest.harness';

/**
 * YouTube go-live by WebSub push on the real path: the simulator's hub verifies our intent with a GET
 * challenge, pushes the channel's Atom feed when it goes live, our callback checks the video with one
 * videos.list and the go-live goes through the poll's compare-and-set + outbox onto the lifecycle
 * topic — while the channel's go-live poll runs only every INGEST_WEBSUB_RECONCILE_SECONDS, so the
 * record cannot have come from polling. Forged, foreign and malformed notifications produce nothing.
 */
async function websubHarness(env: Record<string, string> = {}): Promise<{ h: IngestHarness; base: string; port: number }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/websub`;
  const h = await ingestHarness({
    channels: 6,
    topics: ['lifecycle'],
    env: {
      INGEST_BATCH_POLLING: 'true', INGEST_BATCH_SHARDS: '1',
      INGEST_OFFLINE_POLL_SECONDS: '600', INGEST_WEBSUB_RECONCILE_SECONDS: '7200',
      YOUTUBE_WEBSUB_CALLBACK_URL: base, INGEST_WEBSUB_PORT: String(port), YOUTUBE_WEBSUB_LEASE_SECONDS: '600',
      ...env,
    },
  });
  return { h, base, port };
}

/** A WebSub run for `user`: the harness, every channel offline, the user's 6 channels connected (their YouTube ones returned), ingest started. */
interface WebSubRun { h: IngestHarness; base: string; youtube: Connection[]; redis: Redis; store: WebSubStore }
async function startWebSub(user: string): Promise<WebSubRun> {
  const { h, base } = await websubHarness();
  const redis = createRedis(h.stack.rt.config.REDIS_URL);
  const store = new WebSubStore(redis, h.stack.rt.config.REDIS_KEY_PREFIX, cipherFromConfig(h.stack.rt.config));
  for (const c of h.platforms.sim.world.channels) h.platforms.sim.world.forceLive(c.channelId, false);
  const youtube = (await h.platforms.connect(user, 6)).filter((c) => c.platform === 'youtube');
  await h.startIngest({ metricsPort: null });
  return { h, base, youtube, redis, store };
}

const requests = (h: IngestHarness, path: string) => h.platforms.sim.state.counters.requests[path] ?? 0;

/** Waits until nothing has called `path` for 2 s. */
async function quiet(h: IngestHarness, path: string): Promise<void> {
  for (let last = -1; ; ) {
    const n = requests(h, path);
    if (n === last) return;
    last = n;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

describe('ingest: YouTube go-live by WebSub (simulator hub, real Redis and Kafka)', () => {
  let h: IngestHarness;
  let base: string;
  let youtube: Connection[];
  let redis: Redis;
  let store: WebSubStore;

  beforeAll(async () => {
    ({ h, base, youtube, redis, store } = await startWebSub('wendy'));
    expect(youtube).toHaveLength(3);
  }, 60_000);
  afterAll(async () => {
    redis?.disconnect();
    await h?.close();
  });

  it('subscribes each channel\'s feed, answers the hub\'s challenge, and slows the leased channels\' go-live poll to the reconcile cadence', async () => {
    const hub = h.platforms.sim.webSub;
    const subs = await eventually(async () => hub.subscriptions(), (s) => s.length === 3, 20_000);
    expect(subs.map((s) => s.topic).sort()).toEqual(youtube.map((c) => feedTopicOf(c.channelId)).sort());
    expect(subs.every((s) => s.callback.startsWith(`${base}/youtube/`) && s.secret === '(set)' && s.leaseSeconds === 600)).toBe(true);
    expect((await store.activeChannels()).sort()).toEqual(youtube.map((c) => c.channelId).sort());
    // The go-live poll of a leased channel: every 7,200 s (reconcile) instead of the offline 600 s.
    const queue = h.svc!.queues.poll('youtube');
    for (const c of youtube) {
      const every = await eventually(async () => Number((await queue.getJobScheduler(schedulerId(c, 'snapshot')))?.every), (e) => e === 7_200_000, 15_000);
      expect(every).toBe(7_200_000);
    }
  });

  it('a channel going live reaches the lifecycle topic by push: one videos.list, no go-live poll, the poll\'s event id, source websub', async () => {
    const sim = h.platforms.sim;
    const ch = youtube[0]!;
    // Re-timing a scheduler runs it once at once (BullMQ): let those go-live polls pass first.
    await quiet(h, '/youtube/v3/liveBroadcasts');
    const broadcastsBefore = requests(h, '/youtube/v3/liveBroadcasts');
    const videosBefore = requests(h, '/youtube/v3/videos');
    const goLivePoll = () => h.svc!.queues.poll('youtube').getJobScheduler(schedulerId(ch, 'snapshot'));
    const goLiveNext = (await goLivePoll())?.next;
    sim.world.forceLive(ch.channelId, true);
    const streamId = sim.world.stateAt(ch.channelId, Date.now()).streamId!;
    const id = `youtube:${ch.channelId}:${streamId}:started`;
    const started = await eventually(async () => h.collector.of<StreamLifecycle>('lifecycle').filter((e) => e.value.eventId === id), (x) => x.length > 0, 20_000);
    expect(started[0]!.value).toMatchObject({ type: 'started', source: 'websub', platform: 'youtube', channelId: ch.channelId, streamId, userId: 'wendy' });
    // No go-live poll ran (its scheduler's next run did not move); the one liveBroadcasts.list allowed is
    // the chat's first run finding the stream's live chat id.
    expect((await goLivePoll())?.next).toBe(goLiveNext);
    expect(requests(h, '/youtube/v3/liveBroadcasts') - broadcastsBefore).toBeLessThanOrEqual(1);
    expect(requests(h, '/youtube/v3/videos') - videosBefore).toBeGreaterThanOrEqual(1);
    // The live state is committed as a poll's: the shard's live refresh then sees the same stream, derives nothing new.
    const state = await h.svc!.states.read('youtube', ch.channelId);
    expect(state.state).toMatchObject({ live: true, streamId });
    await new Promise((r) => setTimeout(r, 3000));
    expect(h.collector.of<StreamLifecycle>('lifecycle').filter((e) => e.value.channelId === ch.channelId && e.value.type === 'started')).toHaveLength(1);
  });

  it('rejects a forged signature, an unknown topic and malformed XML with a clear status, and produces nothing', async () => {
    const sim = h.platforms.sim;
    const ch = youtube[1]!;
    const url = `${base}/youtube/${ch.channelId}`;
    const secret = (await store.get(ch.channelId))!.secret;
    sim.world.forceLive(ch.channelId, true);
    const videoId = sim.world.stateAt(ch.channelId, Date.now()).streamId!;
    // Only the test's own POSTs may reach the callback: the hub loses this channel's subscription
    // (in the same tick as the go-live, so it never pushes it; our record of the subscription stays).
    expect(sim.webSub.drop(ch.channelId)).toBe(1);
    // The stream of the test before ends, so no live refresh (videos.list) runs while we count.
    h.platforms.sim.world.forceLive(youtube[0]!.channelId, false);
    await eventually(() => h.svc!.states.read('youtube', youtube[0]!.channelId), (s) => s.state?.live === false, 15_000);
    await quiet(h, '/youtube/v3/videos');
    const feed = atomFeedOf({ channelId: ch.channelId, channelName: 'x', videoId, title: 't', published: Date.now(), updated: Date.now() });
    const videosBefore = requests(h, '/youtube/v3/videos');
    const post = (body: string, signature?: string, to = url) =>
      fetch(to, { method: 'POST', headers: { 'content-type': 'application/atom+xml', ...(signature ? { 'x-hub-signature': signature } : {}) }, body });

    // A forged or missing signature is acknowledged (2xx, as PubSubHubbub 0.4 §8 asks) and ignored.
    const forged = await post(feed, hubSignature('not-the-secret', feed));
    expect(forged.status).toBe(202);
    expect(await forged.text()).toMatch(/ignored: X-Hub-Signature/);
    expect((await post(feed)).status).toBe(202); // unsigned
    const unknown = await post(feed, hubSignature(secret, feed), `${base}/youtube/UCnobodyAskedForThis0000`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toMatch(/unknown topic/);
    const broken = '<feed xmlns="http://www.w3.org/2005/Atom"><entry><yt:videoId>abc</entry></feed>';
    const malformed = await post(broken, hubSignature(secret, broken));
    expect(malformed.status).toBe(400);
    expect(await malformed.text()).toMatch(/not a YouTube feed notification/);
    const foreign = atomFeedOf({ channelId: youtube[2]!.channelId, channelName: 'x', videoId, title: 't', published: Date.now(), updated: Date.now() });
    expect((await post(foreign, hubSignature(secret, foreign))).status).toBe(400);

    // The hub's GET challenge is answered only for a topic we asked for, in the mode we asked.
    const challenge = (topic: string, mode = 'subscribe', to = url) => fetch(`${to}?hub.mode=${mode}&hub.topic=${encodeURIComponent(topic)}&hub.challenge=c123&hub.lease_seconds=60`);
    const wrongTopic = await challenge(feedTopicOf(youtube[2]!.channelId));
    expect(wrongTopic.status).toBe(404);
    expect(await wrongTopic.text()).not.toContain('c123');
    expect((await challenge(feedTopicOf('UCnobody'), 'subscribe', `${base}/youtube/UCnobody`)).status).toBe(404);
    expect((await challenge(feedTopicOf(ch.channelId), 'unsubscribe')).status).toBe(404);

    await new Promise((r) => setTimeout(r, 1000));
    expect(requests(h, '/youtube/v3/videos')).toBe(videosBefore);
    expect(h.collector.of<StreamLifecycle>('lifecycle').filter((e) => e.value.channelId === ch.channelId)).toHaveLength(0);
    expect((await h.svc!.states.read('youtube', ch.channelId)).state?.live).not.toBe(true);

    // The same notification, signed with the subscription's secret, is accepted: one check, the go-live recorded.
    const ok = await post(feed, hubSignature(secret, feed));
    expect(ok.status).toBe(200);
    await eventually(async () => h.collector.of<StreamLifecycle>('lifecycle').filter((e) => e.value.eventId === `youtube:${ch.channelId}:${videoId}:started`), (x) => x.length === 1, 15_000);
    expect(requests(h, '/youtube/v3/videos') - videosBefore).toBe(1);
  });
});

describe('ingest: no WebSub secret at rest in clear', () => {
  let h: IngestHarness;
  let base: string;
  let youtube: Connection[];
  let redis: Redis;
  let store: WebSubStore;

  beforeAll(async () => {
    ({ h, base, youtube, redis, store } = await startWebSub('sally'));
  }, 60_000);
  afterAll(async () => {
    redis?.disconnect();
    await h?.close();
  });

  it('stores the hub secret sealed: Redis holds no usable secret, and signatures made with what it holds, or with an old clear value, start nothing', async () => {
    const sim = h.platforms.sim;
    await eventually(async () => sim.webSub.subscriptions(), (s) => s.length === youtube.length, 20_000);
    const key = (channelId: string) => `${h.stack.rt.config.REDIS_KEY_PREFIX}:ingest:websub:youtube:sub:${channelId}`;
    for (const c of youtube) {
      const secret = (await eventually(() => store.get(c.channelId), (x) => x !== null, 10_000))!.secret;
      const raw = await redis.hgetall(key(c.channelId));
      expect(raw.secret).toBeUndefined();
      expect(raw.secretBlob).toMatch(/^v1\./);
      for (const v of Object.values(raw)) expect(v).not.toContain(secret);
    }

    const [sealed, legacy] = youtube as [Connection, Connection];
    const post = (ch: Connection, body: string, signature: string) =>
      fetch(`${base}/youtube/${ch.channelId}`, { method: 'POST', headers: { 'content-type': 'application/atom+xml', 'x-hub-signature': signature }, body });
    const feedOf = (ch: Connection) => {
      sim.world.forceLive(ch.channelId, true);
      const videoId = sim.world.stateAt(ch.channelId, Date.now()).streamId!;
      // Only the test's POSTs reach the callback: the hub forgets the subscription in the go-live's tick.
      expect(sim.webSub.drop(ch.channelId)).toBe(1);
      return atomFeedOf({ channelId: ch.channelId, channelName: 'x', videoId, title: 't', published: Date.now(), updated: Date.now() });
    };

    // Someone who read Redis signs with what is stored there: acknowledged and ignored.
    const feed1 = feedOf(sealed);
    const atRest = (await redis.hgetall(key(sealed.channelId))).secretBlob!;
    const withBlob = await post(sealed, feed1, hubSignature(atRest, feed1));
    expect(withBlob.status).toBe(202);
    expect(await withBlob.text()).toMatch(/ignored: X-Hub-Signature/);

    // A record of before this change (the secret in clear, nothing sealed): the clear value authenticates nothing.
    const feed2 = feedOf(legacy);
    await redis.multi().hdel(key(legacy.channelId), 'secretBlob').hset(key(legacy.channelId), 'secret', 'old-clear-secret').exec();
    const withOld = await post(legacy, feed2, hubSignature('old-clear-secret', feed2));
    expect(withOld.status).not.toBe(200);
    expect(withOld.status).toBeLessThan(500);

    await new Promise((r) => setTimeout(r, 1500));
    for (const ch of [sealed, legacy]) {
      expect(h.collector.of<StreamLifecycle>('lifecycle').filter((e) => e.value.channelId === ch.channelId && e.value.source === 'websub')).toHaveLength(0);
    }
  });
});

describe('ingest: WebSub scheduled and ended videos', () => {
  let h: IngestHarness;
  let base: string;
  let youtube: Connection[];
  let redis: Redis;
  let store: WebSubStore;
  const lifecycleOf = (ch: Connection) => h.collector.of<StreamLifecycle>('lifecycle').filter((e) => e.value.channelId === ch.channelId);

  beforeAll(async () => {
    ({ h, base, youtube, redis, store } = await startWebSub('uma'));
    await eventually(async () => store.activeChannels(), (a) => a.length === youtube.length, 20_000);
  }, 60_000);
  afterAll(async () => {
    redis?.disconnect();
    await h?.close();
  });

  it('a video announced only as scheduled is checked again when it is due, and its go-live is recorded then (no go-live poll, no second push)', async () => {
    const sim = h.platforms.sim;
    const ch = youtube[0]!;
    const goLivePoll = () => h.svc!.queues.poll('youtube').getJobScheduler(schedulerId(ch, 'snapshot'));
    // The lease re-times the go-live poll to the reconcile cadence (and a new scheduler runs at once): let that pass first.
    await eventually(async () => Number((await goLivePoll())?.every), (e) => e === 7_200_000, 15_000);
    await quiet(h, '/youtube/v3/liveBroadcasts');
    const goLiveNext = (await goLivePoll())?.next;
    // A broadcast scheduled 20 s from now, on a whole second as the API reports scheduled starts (one due
    // before the real start, rounded down, would find it not started and re-check only a minute later):
    // the hub announces it as scheduled (its video is `upcoming`).
    const startAt = Math.ceil((Date.now() + 20_000) / 1000) * 1000;
    sim.world.forceLive(ch.channelId, true, startAt);
    const videoId = sim.world.stateAt(ch.channelId, startAt + 1).streamId!;
    const dueKey = `${h.stack.rt.config.REDIS_KEY_PREFIX}:ingest:websub:youtube:due`;
    const due = await eventually(() => redis.zscore(dueKey, `${ch.channelId} ${videoId}`), (x) => x !== null, 15_000);
    expect(Math.abs(Number(due) - startAt)).toBeLessThan(2000); // remembered for its scheduled start (the API's whole seconds)
    expect(lifecycleOf(ch)).toHaveLength(0); // nothing started at the announcement
    // The hub forgets the subscription now: the start itself is never pushed, only our re-check can see it.
    expect(sim.webSub.drop(ch.channelId)).toBe(1);
    const id = `youtube:${ch.channelId}:${videoId}:started`;
    const started = await eventually(async () => lifecycleOf(ch).filter((e) => e.value.eventId === id), (x) => x.length > 0, 60_000);
    expect(started[0]!.value).toMatchObject({ type: 'started', source: 'websub', streamId: videoId });
    expect((await goLivePoll())?.next).toBe(goLiveNext);
    expect(await redis.zscore(dueKey, `${ch.channelId} ${videoId}`)).toBeNull();
  });

  it('an ended video raises no go-live: it ends the stream the channel is live with, and announced again it starts nothing', async () => {
    const sim = h.platforms.sim;
    const ch = youtube[1]!;
    sim.world.forceLive(ch.channelId, true);
    const videoId = sim.world.stateAt(ch.channelId, Date.now()).streamId!;
    await eventually(async () => lifecycleOf(ch).filter((e) => e.value.type === 'started'), (x) => x.length === 1, 20_000);
    expect(sim.webSub.drop(ch.channelId)).toBe(1);
    sim.world.forceLive(ch.channelId, false);
    const secret = (await store.get(ch.channelId))!.secret;
    const feed = atomFeedOf({ channelId: ch.channelId, channelName: 'x', videoId, title: 't', published: Date.now(), updated: Date.now() });
    const post = () => fetch(`${base}/youtube/${ch.channelId}`, { method: 'POST', headers: { 'content-type': 'application/atom+xml', 'x-hub-signature': hubSignature(secret, feed) }, body: feed });
    const first = await post();
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('ok: 0 stream(s) started');
    await eventually(async () => lifecycleOf(ch).filter((e) => e.value.type === 'ended'), (x) => x.length === 1, 20_000);
    expect((await h.svc!.states.read('youtube', ch.channelId)).state?.live).toBe(false);
    // The same ended video announced again (a VOD's update) while the channel is offline: nothing.
    expect(await (await post()).text()).toBe('ok: 0 stream(s) started');
    await new Promise((r) => setTimeout(r, 1500));
    expect(lifecycleOf(ch).map((e) => e.value.type).sort()).toEqual(['ended', 'started']);
    expect((await h.svc!.states.read('youtube', ch.channelId)).state?.live).toBe(false);
  });
});

describe('ingest: WebSub leases are renewed before they end', () => {
  let h: IngestHarness;

  beforeAll(async () => {
    // The hub grants 4 s whatever we ask; ingest reconciles every second and renews with under half the lease left.
    ({ h } = await websubHarness({ INGEST_RECONCILE_SECONDS: '1' }));
    h.platforms.sim.webSub.maxLeaseSeconds = 4;
    for (const c of h.platforms.sim.world.channels) h.platforms.sim.world.forceLive(c.channelId, false);
    await h.platforms.connect('rene', 2);
    await h.startIngest({ metricsPort: null });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('keeps the hub\'s subscription alive past several 4 s leases, and a go-live after them is still pushed', async () => {
    const hub = h.platforms.sim.webSub;
    const first = await eventually(async () => hub.subscriptions(), (s) => s.length === 1, 20_000);
    const firstExpiry = first[0]!.expiresAt;
    await new Promise((r) => setTimeout(r, 9000));
    const now = await eventually(async () => hub.subscriptions(), (s) => s.length === 1, 5000);
    expect(now[0]!.expiresAt).toBeGreaterThan(firstExpiry + 4000);
    expect(hub.counters.verifications).toBeGreaterThanOrEqual(3);
    expect(hub.counters.verificationFailures).toBe(0);

    const ch = h.platforms.sim.world.channels.find((c) => c.channelId === now[0]!.channelId)!;
    h.platforms.sim.world.forceLive(ch.channelId, true);
    const streamId = h.platforms.sim.world.stateAt(ch.channelId, Date.now()).streamId!;
    const started = await eventually(async () => h.collector.of<StreamLifecycle>('lifecycle').filter((e) => e.value.eventId === `youtube:${ch.channelId}:${streamId}:started`), (x) => x.length === 1, 15_000);
    expect(started[0]!.value.source).toBe('websub');
  });
});
