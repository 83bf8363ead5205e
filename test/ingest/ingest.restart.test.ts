import type { ChildProcess } from 'node:child_process';
import type { StreamSnapshot } from '../../shared/events/events';
import { createRedis } from '../../shared/redis/redis';
import { Queue } from 'bullmq';
import { bullPrefix } from '../../shared/redis/redis';
import { pollQueueName, type PollJobData } from '../../ingest/jobs/ingest-job';
import { eventually, type TestStack } from '../support/stack';
import { childEnv, FAST_INGEST, ingestHarness, type IngestHarness, type simulatedPlatforms, startIngestProcess, type TopicCollector } from './ingest.harness';

const POLL_S = 5;
/** Start-up of the worker's first jobs, the platform round trip and Kafka on a loaded 2-core machine. */
const SLACK_MS = 5000;

/**
 * Issue 16 part 6: kill -9 of ingest while polls are in flight, then a restart, with the production
 * lock settings (INGEST_STALLED_INTERVAL_MS at its default). Every live channel must be polled again
 * within one INGEST_LIVE_POLL_SECONDS (+ slack) of the restarted process being ready, not once the dead
 * worker's locks expire.
 */
describe('ingest restarted after kill -9 mid-poll resumes every channel within one poll interval (child process, real Redis/Kafka)', () => {
  let h: IngestHarness;
  let stack: TestStack;
  let platforms: Awaited<ReturnType<typeof simulatedPlatforms>>;
  let collector: TopicCollector;
  const children: ChildProcess[] = [];
  const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:16379', { forBullMQ: true });

  beforeAll(async () => {
    h = await ingestHarness({ channels: 6, topics: ['snapshots'] });
    ({ stack, platforms, collector } = h);
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    redis.disconnect();
    await h?.close(); // the collector, the simulator, then the stack: its topics, database and Redis keys
  });

  it('every live channel has a snapshot within INGEST_LIVE_POLL_SECONDS of readiness; polls missed per channel are reported', async () => {
    const { sim } = platforms;
    const world = sim.world;
    const c = stack.rt.config;
    // The lock settings are the production defaults (not FAST_INGEST's): what a dead worker's jobs are locked for.
    const { INGEST_STALLED_INTERVAL_MS: _fast, ...fast } = FAST_INGEST;
    const env: Record<string, string> = {
      ...(await childEnv(stack.rt, sim.port)),
      ...fast,
      INGEST_LIVE_POLL_SECONDS: String(POLL_S),
      INGEST_OFFLINE_POLL_SECONDS: String(POLL_S),
      INGEST_FOLLOWERS_POLL_SECONDS: '30',
      PLATFORM_HTTP_TIMEOUT_MS: '30000',
      INGEST_JOB_TIMEOUT_MS: '30000',
    };
    const since = Date.now() - 10 * 60_000;
    for (const ch of world.channels) world.forceLive(ch.channelId, true, since);
    const conns = await platforms.connect('creator-restart', 6);
    const snaps = () => collector.of<StreamSnapshot>('snapshots').map((e) => e.value);

    const first = await startIngestProcess(env);
    children.push(first.child);
    await eventually(async () => conns.every((k) => snaps().filter((s) => s.channelId === k.channelId && s.live).length >= 2), Boolean, 90_000);

    // Hold stream-state calls so the dead process dies mid-poll, holding those jobs' locks.
    sim.inject({ route: '/helix/streams', kind: 'slow', delayMs: 20_000, times: 100 });
    sim.inject({ route: '/youtube/v3/liveBroadcasts', kind: 'slow', delayMs: 20_000, times: 100 });
    const queues = ['twitch', 'youtube'].map((p) => new Queue<PollJobData>(pollQueueName(p), { connection: redis, prefix: bullPrefix(c.REDIS_KEY_PREFIX) }));
    const activeSnapshots = async () => (await Promise.all(queues.map((q) => q.getActive()))).flat().filter((j) => j.data.resource === 'snapshot');
    await eventually(activeSnapshots, (jobs) => jobs.length >= conns.length, 30_000, 100);
    first.child.kill('SIGKILL');
    await first.exited;
    sim.clearFaults();
    const killedAt = Date.now();

    const second = await startIngestProcess(env);
    children.push(second.child);
    const { readyAt } = second;
    const deadline = readyAt + POLL_S * 1000 + SLACK_MS;
    // Look a little past the deadline, then judge by the observation times.
    await eventually(async () => Date.now(), (t) => t > deadline + 3000, 60_000, 500);
    const firstAfter = new Map<string, number>();
    for (const k of conns) {
      const t = snaps().filter((s) => s.channelId === k.channelId && s.observedAt >= readyAt).map((s) => s.observedAt);
      if (t.length) firstAfter.set(k.channelId, Math.min(...t));
    }
    // Polls missed per channel: poll slots of POLL_S between the last observation before the kill
    // and the first one after readiness that no snapshot covers.
    const report = conns.map((k) => {
      const before = Math.max(...snaps().filter((s) => s.channelId === k.channelId && s.observedAt < killedAt).map((s) => s.observedAt));
      const after = firstAfter.get(k.channelId);
      return {
        channel: `${k.platform}:${k.channelId}`,
        'first poll after ready s': after === undefined ? 'none' : ((after - readyAt) / 1000).toFixed(1),
        'polls missed': after === undefined ? 'all' : Math.max(0, Math.round((after - before) / (POLL_S * 1000)) - 1),
      };
    });
    console.log(`restart after kill -9 (ready ${((readyAt - killedAt) / 1000).toFixed(1)} s after the kill):\n${JSON.stringify(report, null, 1)}`);
    const late = conns.filter((k) => !((firstAfter.get(k.channelId) ?? Infinity) <= deadline)).map((k) => k.channelId);
    expect(late).toEqual([]);
    await Promise.all(queues.map((q) => q.close()));
  }, 300_000);
});
