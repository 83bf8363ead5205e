import type { ChildProcess } from 'node:child_process';
import type { StreamLifecycle, StreamSnapshot } from '../../shared/events/events';
import { createRedis } from '../../shared/redis/redis';
import { Queue, type Job } from 'bullmq';
import { bullPrefix } from '../../shared/redis/redis';
import { pollQueueName, slotOf, type PollJobData } from '../../ingest/jobs/ingest-job';
import { snapshotEventId } from '../../ingest/output/normalise';
import { ChannelStateStore } from '../../ingest/lifecycle/channel-state.store';
import { dueThisRun, shardOf } from '../../ingest/scheduler/batch-plan';
import { eventually, type TestStack } from '../support/stack';
import { childEnv, duplicates, FAST_INGEST, ingestHarness, type IngestHarness, type simulatedPlatforms, startIngestProcess, type TopicCollector } from './ingest.harness';

describe('ingest survives kill -9 of a worker mid-job (child process, real Redis, Kafka, Schema Registry)', () => {
  let h: IngestHarness;
  let stack: TestStack;
  let platforms: Awaited<ReturnType<typeof simulatedPlatforms>>;
  let collector: TopicCollector;
  const children: ChildProcess[] = [];
  const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:16379', { forBullMQ: true });

  beforeAll(async () => {
    h = await ingestHarness({ channels: 10, topics: ['snapshots', 'lifecycle'], env: { INGEST_STALLED_INTERVAL_MS: '2000' } });
    ({ stack, platforms, collector } = h);
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    redis.disconnect();
    await h?.close(); // the collector, the simulator, then the stack: its topics, database and Redis keys
  });

  it('loses no snapshot of the jobs in flight and produces every lifecycle event exactly once in effect', async () => {
    const { sim } = platforms;
    const world = sim.world;
    const c = stack.rt.config;
    const env: Record<string, string> = {
      ...(await childEnv(stack.rt, sim.port)),
      ...FAST_INGEST,
      INGEST_STALLED_INTERVAL_MS: '2000',
      SHUTDOWN_GRACE_MS: '5000',
      // Held calls stay in flight (no client timeout) so the shutdown below has jobs to hand back.
      PLATFORM_HTTP_TIMEOUT_MS: '30000',
      INGEST_JOB_TIMEOUT_MS: '30000',
    };
    const [a, b] = [world.channels[0]!, world.channels[3]!]; // one Twitch, one YouTube
    const since = Date.now() - 10 * 60_000;
    for (const ch of world.channels) world.forceLive(ch.channelId, ch === a, since);
    const connected = await platforms.connect('creator-crash', 10);
    const states = new ChannelStateStore(redis, c.REDIS_KEY_PREFIX);
    /**
     * The snapshot ids a job in flight owes: a channel's own job its one record; a shard's job (batched
     * polling, the default) a record for each member its run asks about — Twitch: live, never seen, or
     * offline and its turn (batch-plan.dueThisRun); YouTube: the live streams it refreshes.
     */
    const owedBy = async (j: Job<PollJobData>): Promise<string[]> => {
      const slot = slotOf(j);
      if (j.data.shard === undefined) return [snapshotEventId(j.data, slot)];
      const members = connected.filter((k) => k.platform === j.data.platform && shardOf(k.channelId, c.INGEST_BATCH_SHARDS) === j.data.shard).map((k) => k.channelId);
      const known = await states.readMany(j.data.platform, members);
      const due = members.filter((id) =>
        j.data.platform === 'youtube'
          ? !!(known.get(id)?.live && known.get(id)?.streamId)
          : dueThisRun({ channelId: id, live: known.get(id)?.live ?? null, slot, liveEveryMs: 1000 * c.INGEST_LIVE_POLL_SECONDS, offlineEveryMs: 1000 * c.INGEST_OFFLINE_POLL_SECONDS }));
      return due.map((channelId) => snapshotEventId({ platform: j.data.platform, channelId }, slot));
    };

    const first = await startIngestProcess(env);
    children.push(first.child);
    const lifecycle = () => collector.of<StreamLifecycle>('lifecycle').map((e) => e.value);
    await eventually(async () => lifecycle().filter((e) => e.channelId === a.channelId && e.type === 'started').length, (n) => n === 1, 60_000);

    // Hold the next stream-state calls mid-flight, and start B's stream so its transition is in flight too.
    sim.inject({ route: '/helix/streams', kind: 'slow', delayMs: 6000, times: 30 });
    sim.inject({ route: '/youtube/v3/liveBroadcasts', kind: 'slow', delayMs: 6000, times: 30 });
    world.forceLive(b.channelId, true, since);
    const queues = ['twitch', 'youtube'].map((p) => new Queue<PollJobData>(pollQueueName(p), { connection: redis, prefix: bullPrefix(c.REDIS_KEY_PREFIX) }));
    const activeSnapshots = async () => (await Promise.all(queues.map((q) => q.getActive()))).flat().filter((j) => j.data.resource === 'snapshot');
    // Among them the run of live channel A's shard (every run asks about A).
    const holdsA = (jobs: Array<Job<PollJobData>>) => jobs.some((j) => j.data.platform === 'twitch' && j.data.shard === shardOf(a.channelId, c.INGEST_BATCH_SHARDS));
    const inFlight = await eventually(activeSnapshots, (jobs) => jobs.length >= 3 && holdsA(jobs), 30_000, 100);
    first.child.kill('SIGKILL');
    await first.exited;
    sim.clearFaults();
    const lost = (await Promise.all(inFlight.map(owedBy))).flat();
    expect(lost.some((id) => id.startsWith(`twitch:${a.channelId}:`))).toBe(true);

    const second = await startIngestProcess(env);
    children.push(second.child);
    // Every snapshot that was in flight when the worker died is produced after the restart.
    const snapshotIds = () => new Set(collector.of<StreamSnapshot>('snapshots').map((e) => e.value.eventId));
    await eventually(async () => lost.filter((id) => !snapshotIds().has(id)), (missing) => missing.length === 0, 60_000);
    await eventually(async () => lifecycle().filter((e) => e.channelId === b.channelId && e.type === 'started').length, (n) => n >= 1, 60_000);

    // End both streams, then look at the whole topic.
    world.forceLive(a.channelId, false);
    world.forceLive(b.channelId, false);
    await eventually(async () => lifecycle().filter((e) => e.type === 'ended').length, (n) => n >= 2, 60_000);
    const settled = collector.of<StreamSnapshot>('snapshots').length;
    await eventually(async () => collector.of<StreamSnapshot>('snapshots').length, (n) => n >= settled + 20, 60_000);

    // Exactly once in effect (ChannelStateStore): every transition reaches the topic, in order, and the
    // only possible repeat — the dead process was killed between Kafka's ack and the outbox ack — is the
    // same record under the same id, which consumers de-duplicate. Two different records never share an id.
    const byId = new Map<string, string>();
    for (const e of lifecycle()) {
      const seen = byId.get(e.eventId);
      if (seen !== undefined) expect(JSON.stringify(e)).toBe(seen);
      byId.set(e.eventId, JSON.stringify(e));
    }
    expect(duplicates(lifecycle().map((e) => e.eventId)).length).toBeLessThanOrEqual(inFlight.length);
    const once = (ch: { channelId: string }) => [...new Map(lifecycle().filter((e) => e.channelId === ch.channelId).map((e) => [e.eventId, e.type])).values()];
    for (const ch of [a, b]) expect(once(ch)).toEqual(['started', 'ended']);
    expect(new Set(lifecycle().map((e) => e.channelId))).toEqual(new Set([a.channelId, b.channelId]));

    // Graceful shutdown with jobs that cannot finish in time: SIGTERM drains for SHUTDOWN_GRACE_MS − 3 s,
    // then hands the unfinished jobs back to the queue (waiting, not stuck active) and exits cleanly.
    sim.inject({ route: '/helix/streams', kind: 'slow', delayMs: 20_000, times: 30 });
    sim.inject({ route: '/youtube/v3/liveBroadcasts', kind: 'slow', delayMs: 20_000, times: 30 });
    // Held: still active a second later (a shard's run whose channels are offline and not due this turn
    // ends without a call, and a job that made its call before the fault may just be finishing).
    const stillActive = async () => {
      const before = await activeSnapshots();
      await new Promise((r) => setTimeout(r, 1000));
      const now = new Set((await activeSnapshots()).map((j) => j.id));
      return before.filter((j) => now.has(j.id));
    };
    const held = await eventually(stillActive, (jobs) => jobs.length >= 1, 30_000, 100);
    second.child.kill('SIGTERM');
    const code = await second.exited;
    if (code !== 0) console.log(second.output().slice(-4000));
    expect(code).toBe(0);
    for (const j of held) expect(await j.getState()).toBe('waiting');
    sim.clearFaults();
    await Promise.all(queues.map((q) => q.close()));
  });
});
