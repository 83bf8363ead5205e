import type { Alert, StreamSnapshot } from '../../shared/events/events';
import { metricsRegistry } from '../../shared/metrics/metrics';
import type { DeadLetter } from '../../ingest/jobs/dead-letter';
import { listDeadLetters } from '../../ingest/dlq.command';
import { schedulerId } from '../../ingest/jobs/ingest-job';
import { shardOf } from '../../ingest/scheduler/batch-plan';
import { eventually } from '../support/stack';
import { ingestHarness, type IngestHarness, type simulatedPlatforms, type TopicCollector } from './ingest.harness';

async function counter(outcome: string): Promise<number> {
  const m = (await metricsRegistry.getMetricsAsJSON()).find((x) => x.name === 'spacehub_ingest_jobs_total');
  return ((m?.values ?? []) as Array<{ value: number; labels: Record<string, string> }>).filter((v) => v.labels.outcome === outcome).reduce((a, v) => a + v.value, 0);
}

describe('ingest under platform faults: 429, 5xx, timeouts, malformed bodies (simulator faults, real Redis/Kafka)', () => {
  let h: IngestHarness;
  let platforms: Awaited<ReturnType<typeof simulatedPlatforms>>;
  let collector: TopicCollector;

  beforeAll(async () => {
    h = await ingestHarness({ channels: 4, topics: ['snapshots', 'alerts'], env: { INGEST_JOB_ATTEMPTS: '3', PLATFORM_HTTP_TIMEOUT_MS: '800' } });
    ({ platforms, collector } = h);
  });
  afterAll(async () => h?.close());

  it('retries transient faults, postpones rate-limited polls, dead-letters the rest with a reason, and keeps running', async () => {
    const { sim } = platforms;
    const since = Date.now() - 10 * 60_000;
    for (const c of sim.world.channels) sim.world.forceLive(c.channelId, true, since);
    const conns = await platforms.connect('creator-faults', 4);
    const before = { retried: await counter('retried'), rateLimited: await counter('rate_limited'), dead: await counter('dead_lettered') };

    sim.inject({ route: '/helix/streams', kind: 'rate_limit', resetSeconds: 1, times: 6 });
    sim.inject({ route: '/helix/channels/followers', kind: 'server_error', status: 503, times: 6 });
    sim.inject({ route: '/youtube/v3/channels', kind: 'timeout', delayMs: 5000, times: 4 });
    // Enough broken bodies that YouTube stream-state polls run out of attempts.
    sim.inject({ route: '/youtube/v3/liveBroadcasts', kind: 'malformed', times: 40 });
    sim.inject({ route: '/youtube/v3/videos', kind: 'truncated', times: 4 });

    const svc = await h.startIngest({ metricsPort: null });
    const dlq = svc.queues.dlq;
    const entries = await eventually(async () => (await dlq.getJobs(['waiting', 'delayed', 'completed', 'failed', 'active'])).map((j) => j.data as DeadLetter), (e) => e.length >= 1, 60_000);
    for (const e of entries) {
      expect(e.reason.length).toBeGreaterThan(10);
      expect(e.errorCode).toMatch(/^[A-Z_]+$/);
      expect(e.data).toMatchObject({ platform: expect.any(String), channelId: expect.any(String), resource: expect.any(String) });
      expect(e.attemptsMade).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(e)).not.toMatch(/access_?token|Bearer/i);
    }
    expect(entries.some((e) => e.errorCode === 'MALFORMED_RESPONSE' && /not JSON/.test(e.reason) && e.attemptsMade === 3)).toBe(true);
    // What `spacehub dlq list` prints: newest first, each with its reason.
    const listed = await listDeadLetters(dlq, 10);
    expect(listed.length).toBeGreaterThanOrEqual(1);
    expect(listed.every((e, i) => i === 0 || listed[i - 1]!.failedAt >= e.failedAt)).toBe(true);
    await eventually(async () => (await counter('retried')) - before.retried, (n) => n > 0, 30_000);
    await eventually(async () => (await counter('rate_limited')) - before.rateLimited, (n) => n > 0, 30_000);

    // Once the faults are gone every channel is polled again: the worker survived all of it.
    sim.clearFaults();
    const mark = Date.now();
    await eventually(
      async () => new Set(collector.of<StreamSnapshot>('snapshots').filter((s) => s.value.observedAt > mark).map((s) => s.value.channelId)).size,
      (n) => n === conns.length,
      60_000,
    );
    expect((await counter('dead_lettered')) - before.dead).toBeGreaterThanOrEqual(1);
  });

  it('a revoked grant stops the connection\'s polling and raises exactly one reauth_required alert', async () => {
    const { sim } = platforms;
    const conns = await platforms.platform.connections.listActive();
    const victim = conns.find((c) => c.platform === 'twitch')!;
    // The creator revoked our access on Twitch: the access token dies, the refresh is refused.
    sim.state.revokeChannel('twitch', victim.channelId);
    sim.state.expireChannel('twitch', victim.channelId);
    const alerts = () => collector.of<Alert>('alerts').map((e) => e.value).filter((a) => a.type === 'reauth_required');
    await eventually(async () => alerts().length, (n) => n >= 1, 60_000);
    // Its channel (it has no other owner) loses its schedulers and leaves its shard.
    const slug = `${schedulerId(victim, 'snapshot').split('.')[0]}.`;
    const stillPolled = async () =>
      (await h.svc!.queues.poll('twitch').getJobSchedulers()).some((s) => s.key.startsWith(slug)) ||
      (await h.svc!.scheduler.batchMembers('twitch', shardOf(victim.channelId, h.svc!.scheduler.batchShards))).includes(victim.channelId);
    await eventually(stillPolled, (polled) => !polled, 30_000);
    await h.svc!.eventsApplied();
    expect((await platforms.platform.connections.get(victim.connectionId))!.status).toBe('reauth_required');
    await new Promise((r) => setTimeout(r, 1500)); // room for a duplicate to show up
    expect(alerts()).toHaveLength(1);
    expect(alerts()[0]).toMatchObject({ userId: victim.userId, platform: 'twitch', channelId: victim.channelId, severity: 'critical' });
    // The other connections keep being polled.
    const mark = Date.now();
    await eventually(async () => new Set(collector.of<StreamSnapshot>('snapshots').filter((s) => s.value.observedAt > mark).map((s) => s.value.channelId)).size, (n) => n === conns.length - 1, 30_000);
  });
});
