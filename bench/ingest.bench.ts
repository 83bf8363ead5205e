/**
 * Ingest throughput (issue 4): `npx tsx bench/ingest.bench.ts [--jobs 3000] [--limited-jobs N] [--seconds 8]` against the
 * native stack (Redis, Kafka, Schema Registry) and an in-process simulator with 50 live channels.
 *
 *  baseline  a bare axios loop doing the same HTTP calls a stream-state poll makes (Twitch
 *            /helix/streams; YouTube liveBroadcasts.list + videos.list), INGEST_CONCURRENCY × 2 loops,
 *            no rate limiting, no Kafka, no Redis.
 *  ingest    the real thing: BullMQ snapshot jobs for the same 50 connections drained by IngestWorkers
 *            (token provider, adapters with the shared Ratelimit bucket and YouTube quota, Avro
 *            through the Schema Registry, idempotent acks=all produce, lifecycle state in Redis),
 *            once with the default per-platform limiter (INGEST_PLATFORM_JOBS_PER_SECOND) — the limit
 *            honoured — and once with the limiter raised out of the way — the machinery's capacity.
 * --limited-jobs (default --jobs) sizes the default-limiter run alone: it runs at the limiter's rate
 * (2 × INGEST_PLATFORM_JOBS_PER_SECOND), so its wall time is jobs / that rate.
 * Only the measured jobs run: the other cadences are an hour, the competition sampler is off and the
 * service opens no push (EventSub) sessions — the figure is polling through BullMQ. Simulator and
 * stack start side by side.
 * Everything shares this machine's cores; the ratios are the point.
 */
import axios from 'axios';
import http from 'node:http';
import { parseArgs } from '../shared/lifecycle/process.contract';
import { loadConfig } from '../shared/config/config';
import type { PollJobData } from '../ingest/jobs/ingest-job';
import { IngestService } from '../ingest/ingest.service';
import { platformPorts } from '../ingest/platform.ports';
import { endpointsAt } from '../platforms/endpoints';
import { createRedis } from '../shared/redis/redis';
import { createPlatformServices } from '../platforms/platform-services';
import { startSimulator } from '../platforms/simulator/simulator.server';
import { testStack } from '../test/support/stack';
import { emitBenchResult, figure } from './bench-result';
import { connectDemoChannels } from './support/demo-connect';

const args = parseArgs(process.argv.slice(2));
const JOBS = Number(args.flags.jobs ?? 3000);
const LIMITED_JOBS = Number(args.flags['limited-jobs'] ?? JOBS);
const SECONDS = Number(args.flags.seconds ?? 8);
const CHANNELS = 50;

async function main(): Promise<void> {
  const defaults = loadConfig();
  const concurrency = defaults.INGEST_CONCURRENCY;
  // The per-channel path (the opt-out): with batching, a live YouTube channel's own snapshot job skips
  // (its shard refreshes it) and Twitch has none, so the measured jobs would not make their calls.
  // Batched polling's cost and throughput are bench/ingest-scale's.
  const overrides = { INGEST_BATCH_POLLING: 'false', INGEST_RECONCILE_SECONDS: '3600', YOUTUBE_DAILY_QUOTA_UNITS: '1000000000', LOG_LEVEL: 'warn', INGEST_LIVE_POLL_SECONDS: '3600', INGEST_OFFLINE_POLL_SECONDS: '3600', INGEST_FOLLOWERS_POLL_SECONDS: '3600', INGEST_COMPETITION_SAMPLE_MINUTES: '0' };
  const [sim, stack] = await Promise.all([
    startSimulator({ seed: 42, channels: CHANNELS, config: { twitchRateLimit: { points: 10_000_000, windowMs: 60_000 }, youtubeQuotaPerDay: 1_000_000_000 } }),
    testStack(overrides),
  ]);
  const since = Date.now() - 10 * 60_000;
  for (const c of sim.world.channels) sim.world.forceLive(c.channelId, true, since);
  const redis = createRedis(stack.rt.config.REDIS_URL);
  const platform = createPlatformServices(stack.rt.config, redis, undefined, { endpoints: endpointsAt(sim.url) });
  try {
    const conns = await connectDemoChannels({ streaming: platform.streaming, simulatorUrl: sim.url, redirectUri: () => 'http://127.0.0.1:9/cb' }, { userId: 'bench', channels: CHANNELS, concurrency: 8 });
    const tokens = new Map(await Promise.all(conns.map(async (c) => [c.connectionId, await platform.tokens.getAccessToken(c.connectionId)] as const)));
    console.log(`simulator: ${CHANNELS} live channels (${conns.filter((c) => c.platform === 'twitch').length} Twitch, ${conns.filter((c) => c.platform === 'youtube').length} YouTube); ingest concurrency ${concurrency} per platform queue`);

    // ---- baseline: bare axios, same calls, 2 × concurrency loops (ingest runs one worker per platform)
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const ax = axios.create({ baseURL: sim.url, httpAgent: agent, timeout: 10_000 });
    const pollBare = async (i: number) => {
      const c = conns[i % conns.length]!;
      const auth = { Authorization: `Bearer ${tokens.get(c.connectionId)}` };
      if (c.platform === 'twitch') {
        await ax.get('/helix/streams', { params: { user_id: c.channelId, first: 1 }, headers: { ...auth, 'Client-Id': stack.rt.config.TWITCH_CLIENT_ID } });
      } else {
        const b = await ax.get('/youtube/v3/liveBroadcasts', { params: { part: 'snippet,status', broadcastStatus: 'active', broadcastType: 'all', maxResults: 5 }, headers: auth });
        const id = (b.data.items as Array<{ id: string; snippet: { channelId: string } }>).find((x) => x.snippet.channelId === c.channelId)?.id;
        if (id) await ax.get('/youtube/v3/videos', { params: { part: 'snippet,liveStreamingDetails', id }, headers: auth });
      }
    };
    for (let i = 0; i < 100; i++) await pollBare(i); // warm-up
    const runBare = async (label: string) => {
      let n = 0;
      const deadline = Date.now() + SECONDS * 1000;
      const t0 = Date.now();
      await Promise.all(Array.from({ length: 2 * concurrency }, async () => {
        while (Date.now() < deadline) await pollBare(n++);
      }));
      const rate = n / ((Date.now() - t0) / 1000);
      console.log(`baseline  bare axios loop, ${label.padEnd(30)}         ${rate.toFixed(0).padStart(7)} polls/s`);
      return rate;
    };
    // Measured before and after the ingest runs: the machine is shared, the mean is the baseline.
    const bareBefore = await runBare('before');
    // ---- ingest: the same polls as BullMQ jobs
    const runIngest = async (label: string, perSecond: number, jobCount: number) => {
      const rt = { ...stack.rt, config: { ...stack.rt.config, INGEST_PLATFORM_JOBS_PER_SECOND: perSecond } };
      // The service owns (and closes) its ports.
      const ports = platformPorts(stack.rt.config, undefined, { endpoints: endpointsAt(sim.url) });
      const svc = await IngestService.start(rt, { ports, metricsPort: null, push: false });
      const active = async () => (await Promise.all(svc.queues.all().map((q) => q.getActiveCount()))).reduce((a, b) => a + b, 0);
      try {
        // Only the measured jobs run: the reconciled schedulers are removed and their first runs finished.
        for (const q of svc.queues.all()) {
          for (const sch of await q.getJobSchedulers()) await q.removeJobScheduler(sch.key);
          await q.drain(true);
        }
        while ((await active()) > 0) await new Promise((r) => setTimeout(r, 50));
        const before = (await Promise.all(svc.queues.all().map((q) => q.getCompletedCount()))).reduce((a, b) => a + b, 0);
        const jobs = Array.from({ length: jobCount }, (_, i) => {
          const c = conns[i % conns.length]!;
          const data: PollJobData = { platform: c.platform, channelId: c.channelId, resource: 'snapshot', everyMs: 3_600_000 };
          return { platform: c.platform, data };
        });
        const start = Date.now();
        for (const p of ['twitch', 'youtube']) {
          await svc.queues.poll(p).addBulk(jobs.filter((j) => j.platform === p).map((j) => ({ name: 'snapshot', data: j.data, opts: { removeOnComplete: false, attempts: 3 } })));
        }
        const done = async () => (await Promise.all(svc.queues.all().map((q) => q.getCompletedCount()))).reduce((a, b) => a + b, 0);
        while ((await done()) < before + jobCount) await new Promise((r) => setTimeout(r, 50));
        const rate = jobCount / ((Date.now() - start) / 1000);
        console.log(`ingest    ${label.padEnd(48)} ${rate.toFixed(0).padStart(7)} polls/s`);
        while ((await active()) > 0) await new Promise((r) => setTimeout(r, 50));
        for (const q of svc.queues.all()) await q.obliterate({ force: true });
        return rate;
      } finally {
        await svc.close();
      }
    };
    const limited = await runIngest(`limiter ${defaults.INGEST_PLATFORM_JOBS_PER_SECOND}/s per platform (default config)`, defaults.INGEST_PLATFORM_JOBS_PER_SECOND, LIMITED_JOBS);
    const capacity = await runIngest('limiter raised to 100000/s (capacity)', 100_000, JOBS);
    const bare = (bareBefore + (await runBare('after'))) / 2;
    console.log(`ratio     ingest (default limiter) / bare loop = ${(limited / bare).toFixed(3)}   (the limiter caps at ${2 * defaults.INGEST_PLATFORM_JOBS_PER_SECOND}/s for 2 platforms)`);
    console.log(`ratio     ingest (capacity) / bare loop        = ${(capacity / bare).toFixed(3)}`);
    emitBenchResult({
      bench: 'ingest', params: { jobs: JOBS, limitedJobs: LIMITED_JOBS, seconds: SECONDS, channels: CHANNELS },
      figures: [
        figure(`ingest polls/s, default limiter (${defaults.INGEST_PLATFORM_JOBS_PER_SECOND}/s per platform)`, limited, 'polls/s', 'bare axios loop, same HTTP calls', bare),
        figure('ingest polls/s, limiter raised (capacity)', capacity, 'polls/s', 'bare axios loop, same HTTP calls', bare),
      ],
    });
    agent.destroy();
  } finally {
    await platform.close();
    redis.disconnect();
    await sim.close();
    await stack.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
