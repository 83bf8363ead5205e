/**
 * Ingest at platform scale (issue 18): `npx tsx bench/ingest-scale.bench.ts [--twitch 10000] [--youtube 200]
 * [--throughput 2000] [--runs 10]`, against the native stack and an in-process simulator. Same run,
 * today's per-channel path as the baseline.
 *
 *  cost      Platform HTTP calls per channel-hour (Twitch, 10 % live) and YouTube units per creator-day
 *            (15 % live), from real calls to the simulator counted by the simulator:
 *              per-channel  one snapshot poll per channel (Twitch /helix/streams?user_id=1 with the
 *                           creator's token; YouTube liveBroadcasts.list + videos.list when live),
 *                           at INGEST_LIVE_POLL_SECONDS live / INGEST_OFFLINE_POLL_SECONDS offline;
 *              batched      the shards' runs over one whole offline interval (batch-plan.dueThisRun +
 *                           TwitchService.streamStates, 100 ids a call, app token); YouTube live
 *                           streams 50 per videos.list unit, go-live per channel (liveBroadcasts.list).
 *            Subscriber counts (channels.list, 1 unit each per INGEST_FOLLOWERS_POLL_SECONDS) are the
 *            same on both paths and shown apart; chat is the planner's business (below).
 *  goals     100,000 Twitch channels (10 % live) at a 30 s cadence on one app token (800 points/min),
 *            driven over HTTP: a second simulator holds --goal bulk Twitch channels (made on demand
 *            from their ids, world.bulkTwitchChannels) with Twitch's real bucket of 800 points a
 *            minute; the 8 shards' runs of one whole 30 s live cadence (two runs 30 s apart in the
 *            simulator's time — its clock is moved forward between them instead of waiting — so both
 *            fall in one of its 60 s bucket windows) ask TwitchService.streamStates
 *            about the channels batch-plan.dueThisRun names, 100 ids a call with the app token; the
 *            figure is the points the simulator charged that window (its bucket, the one that answers
 *            Ratelimit-Remaining), and its 429s. The channels' last-known states are the world's (what
 *            the first pass records; that pass, 100,000 never-seen ids, is planned apart, pure). The whole
 *            5-minute offline rotation is also planned (pure) for its busiest minute. Per-channel path:
 *            calls per poll measured on the OAuth sample × the cadence. 100 YouTube creators inside
 *            10,000 units/day at 1-minute live resolution: the quota planner's plan.
 *  throughput  Channels refreshed per CPU-second (≈ per core): the real snapshot path (state CAS +
 *            outbox in Redis, Avro + acks=all Kafka, owner lookup) per channel with its own call, vs
 *            the batch handler of the shards; no BullMQ in either (its per-job cost only adds to the
 *            per-channel path). The simulator runs in this process, so its work is in both figures.
 */
import type { Job } from 'bullmq';
import { parseArgs } from '../shared/lifecycle/process.contract';
import { createRedis } from '../shared/redis/redis';
import { endpointsAt } from '../platforms/endpoints';
import { createPlatformServices } from '../platforms/platform-services';
import { adapterFor } from '../platforms/registry';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSimulatorApp, startSimulator } from '../platforms/simulator/simulator.server';
import { SimState } from '../platforms/simulator/simulator.state';
import { bulkTwitchChannelId, createWorld } from '../platforms/simulator/world';
import type { TwitchService } from '../platforms/twitch/twitch.adapter';
import type { YouTubeService } from '../platforms/youtube/youtube.adapter';
import { platformPorts } from '../ingest/platform.ports';
import { IngestQueues, pollJobOptions } from '../ingest/jobs/ingest.queues';
import type { PollJobData } from '../ingest/jobs/ingest-job';
import { ChannelStateStore } from '../ingest/lifecycle/channel-state.store';
import { EventProducer } from '../ingest/output/event.producer';
import { IngestScheduler } from '../ingest/scheduler/ingest.scheduler';
import { PollPolicy } from '../ingest/scheduler/poll-policy';
import { dueThisRun, idsPerRun, planRun, shardOf } from '../ingest/scheduler/batch-plan';
import { planQuota } from '../ingest/scheduler/quota-planner';
import { createSnapshotHandler, type HandlerDeps } from '../ingest/worker/poll.handlers';
import { createBatchSnapshotHandler } from '../ingest/worker/batch.handler';
import { testStack } from '../test/support/stack';
import { emitBenchResult, figure } from './bench-result';
import { connectDemoChannels } from './support/demo-connect';

const args = parseArgs(process.argv.slice(2));
const TWITCH = Number(args.flags.twitch ?? 10_000);
const YOUTUBE = Number(args.flags.youtube ?? 200);
const THROUGHPUT = Number(args.flags.throughput ?? 2000);
const SHARDS = Number(args.flags.shards ?? 8);
const SAMPLE = Number(args.flags.sample ?? 40); // channels per platform connected by OAuth: the per-channel polls actually made
const GOAL = Number(args.flags.goal ?? 100_000); // Twitch channels of the goal, driven over HTTP

const HOUR = 3_600_000;
const DAY = 86_400_000;

let goalClose: (() => Promise<void>) | undefined;

interface GoalRun {
  atMs: number;
  asked: number;
  live: number;
  calls: number;
  wallS: number;
}

/**
 * The goal's simulator (GOAL bulk Twitch channels, 10 % live, Twitch's 800-point bucket) and the 8
 * shards' two runs of one live cadence, started at once; `finish()` waits for them and reports what the
 * simulator charged the app token in that window. Its own client id: the adapter's shared Ratelimit
 * bucket in Redis is per client id, and the main simulator's bucket is raised.
 */
async function startGoalCadence(c: import('../shared/config/config').Config, redis: import('ioredis').Redis, LIVE_MS: number, OFFLINE_MS: number, SHARDS: number) {
  const now = Date.now();
  const m0 = process.memoryUsage().rss;
  const t0 = Date.now();
  const world = createWorld({ seed: 18, channels: 0, bulkTwitchChannels: GOAL });
  const isLive = (i: number) => i % 10 === 0;
  for (let i = 0; i < GOAL; i++) world.forceLive(bulkTwitchChannelId(i), isLive(i), isLive(i) ? now - 10 * 60_000 : now - 3_600_000);
  // The simulator's clock runs `skew` ahead of the wall: the second run starts exactly one live interval
  // after the first in the simulator's time (its bucket windows, its world) without 30 s of waiting.
  let skew = 0;
  const state = new SimState(() => Date.now() + skew);
  const server = http.createServer(createSimulatorApp(world, state));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'bench-goal-client';
  const platform = createPlatformServices({ ...c, TWITCH_CLIENT_ID: clientId }, redis, undefined, { endpoints: endpointsAt(url) });
  goalClose = async () => {
    await platform.close();
    await new Promise((r) => server.close(r));
  };
  console.log(`goal simulator: ${GOAL} bulk Twitch channels (${Math.ceil(GOAL / 10)} live) ready in ${((Date.now() - t0) / 1000).toFixed(1)} s, +${((process.memoryUsage().rss - m0) / 1e6).toFixed(0)} MB RSS`);
  const twitch = adapterFor('twitch', platform.platforms) as TwitchService;
  const ids = Array.from({ length: GOAL }, (_, i) => bulkTwitchChannelId(i));
  const shards = Array.from({ length: SHARDS }, () => [] as string[]);
  for (const id of ids) shards[shardOf(id, SHARDS)]!.push(id);
  // Last-known states, as the first pass records them (the world's); the runs update them.
  const known = new Map(ids.map((id, i) => [id, isLive(i)] as const));
  // The first pass of a fresh deployment (no last-known state) as the batch handler plans it
  // (batch-plan.planRun within the app token's bucket), pure: its busiest minute, and when every channel was seen.
  const firstPass = (() => {
    const seen = new Map<string, boolean>();
    const maxIds = idsPerRun(twitch.streamStatesBudget, { shards: SHARDS, liveEveryMs: LIVE_MS });
    const calls: number[] = [];
    for (let r = 0; seen.size < GOAL && r < 100; r++) {
      calls.push(shards.reduce((n, m) => {
        const due = planRun({ members: m.map((id) => ({ channelId: id, live: seen.get(id) ?? null })), slot: r * LIVE_MS, liveEveryMs: LIVE_MS, offlineEveryMs: OFFLINE_MS, maxIds });
        for (const id of due) seen.set(id, known.get(id)!);
        return n + Math.ceil(due.length / 100);
      }, 0));
    }
    const perMin = Math.max(1, Math.round(60_000 / LIVE_MS));
    return { busiestMinute: Math.max(...calls.map((_, r) => calls.slice(r, r + perMin).reduce((a, b) => a + b, 0))), allSeenS: (calls.length * LIVE_MS) / 1000 };
  })();
  const slot0 = Math.ceil(now / LIVE_MS) * LIVE_MS;
  const streams = () => state.counters.requests['/helix/streams'] ?? 0;
  const runs: GoalRun[] = [];
  const run = async (slot: number) => {
    const calls0 = streams();
    const w0 = state.clock();
    let asked = 0;
    let live = 0;
    // The 8 shard jobs run side by side, as INGEST_CONCURRENCY workers take them.
    await Promise.all(shards.map(async (members) => {
      const due = members.filter((id) => dueThisRun({ channelId: id, live: known.get(id) ?? null, slot, liveEveryMs: LIVE_MS, offlineEveryMs: OFFLINE_MS }));
      for (const [id, s] of await twitch.streamStates(due)) {
        known.set(id, s.live);
        if (s.live) live++;
      }
      asked += due.length;
    }));
    runs.push({ atMs: w0 - startedAt, asked, live, calls: streams() - calls0, wallS: (state.clock() - w0) / 1000 });
  };
  // Run 0 now, run 1 as soon as it ends with the simulator's clock moved to one live interval after
  // run 0 began (the job scheduler's next slot), while the bench's other sections go on against the
  // other simulator.
  const startedAt = state.clock();
  const run0 = run(slot0);
  const run1 = run0.then(() => {
    skew += startedAt + LIVE_MS - state.clock();
    return run(slot0 + LIVE_MS);
  });
  run1.catch(() => undefined);
  return {
    slot0,
    live: (id: string) => known.get(id) ?? null,
    async finish() {
      await run0;
      await run1;
      // The bucket's window began with run 0's first call and lasts 60 s (simulator time): both runs
      // fall in it unless the second ends after it (then the figure is one run's, and says so).
      const last = runs[runs.length - 1]!;
      return {
        runs,
        firstPass,
        windowPoints: state.counters.maxWindowPoints[`${clientId}:app`] ?? 0,
        oneWindow: last.atMs + 1000 * last.wallS < 60_000,
        rateLimited: state.counters.rateLimited,
      };
    },
  };
}

async function main(): Promise<void> {
  // The simulator's world is built while the stack bootstraps (its waits on Kafka and ClickHouse).
  // The world alternates Twitch and YouTube channels: 2 × the larger count covers both.
  const [stack, sim] = await Promise.all([
    testStack({ LOG_LEVEL: 'warn', INGEST_BATCH_POLLING: 'true', INGEST_BATCH_SHARDS: String(SHARDS), YOUTUBE_DAILY_QUOTA_UNITS: '1000000000', INGEST_RECONCILE_SECONDS: '3600' }),
    startSimulator({ seed: 18, channels: 2 * Math.max(TWITCH, YOUTUBE, THROUGHPUT), config: { twitchRateLimit: { points: 100_000_000, windowMs: 60_000 }, youtubeQuotaPerDay: 1_000_000_000 } }),
  ]);
  const c = stack.rt.config;
  const LIVE_MS = 1000 * c.INGEST_LIVE_POLL_SECONDS;
  const OFFLINE_MS = 1000 * c.INGEST_OFFLINE_POLL_SECONDS;
  const FOLLOWERS_MS = 1000 * c.INGEST_FOLLOWERS_POLL_SECONDS;
  const redis = createRedis(c.REDIS_URL);
  const platform = createPlatformServices(c, redis, undefined, { endpoints: endpointsAt(sim.url) });
  const ports = platformPorts(c, undefined, { endpoints: endpointsAt(sim.url) });
  const bull = createRedis(c.REDIS_URL, { forBullMQ: true });
  const queues = new IngestQueues(bull, c.REDIS_KEY_PREFIX, ports.platforms);
  const producer = new EventProducer(stack.rt);
  try {
    await producer.waitUntilReady();
    const world = sim.world;
    const now = Date.now();
    const twitchIds = world.channels.filter((x) => x.platform === 'twitch').slice(0, TWITCH).map((x) => x.channelId);
    const youtubeIds = world.channels.filter((x) => x.platform === 'youtube').slice(0, YOUTUBE).map((x) => x.channelId);
    for (const x of world.channels) world.forceLive(x.channelId, false, now - HOUR);
    const liveTwitch = new Set(twitchIds.filter((_, i) => i % 10 === 0)); // 10 % live
    const liveYouTube = new Set(youtubeIds.filter((_, i) => i % 20 < 3)); // 15 % live
    for (const id of [...liveTwitch, ...liveYouTube]) world.forceLive(id, true, now - 10 * 60_000);
    const twitch = adapterFor('twitch', platform.platforms) as TwitchService;
    const youtube = adapterFor('youtube', platform.platforms) as YouTubeService;
    const requests = (route: string) => sim.state.counters.requests[route] ?? 0;
    const units = () => sim.state.quotaUsed(c.YOUTUBE_CLIENT_ID);

    // ---- the 100,000-channel goal over HTTP: its two runs go on while the sections below run
    const goal = await startGoalCadence(c, redis, LIVE_MS, OFFLINE_MS, SHARDS);

    // ---- connections: real OAuth for the YouTube creators and a sample of Twitch channels (tokens are needed)
    const t0 = Date.now();
    const seeded = await connectDemoChannels({ streaming: platform.streaming, simulatorUrl: sim.url, redirectUri: () => 'http://127.0.0.1:9/cb' }, { userId: 'bench', channels: 2 * SAMPLE, concurrency: 8 });
    const ytConns = seeded.filter((x) => x.platform === 'youtube');
    const twConns = seeded.filter((x) => x.platform === 'twitch').slice(0, SAMPLE);
    console.log(`simulator: ${TWITCH} Twitch channels (${liveTwitch.size} live), ${YOUTUBE} YouTube creators (${liveYouTube.size} live); ${seeded.length} of them connected by OAuth (the per-channel sample) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // ---- Twitch cost: per-channel (measured per poll on a sample, times the cadence) vs batched (the shards' runs over one offline interval)
    const sampleLive = twConns.filter((x) => liveTwitch.has(x.channelId)).length;
    let before = requests('/helix/streams');
    for (const conn of twConns) await twitch.streamState(await platform.tokens.getAccessToken(conn.connectionId), conn.channelId);
    const callsPerPoll = (requests('/helix/streams') - before) / twConns.length;
    const liveShare = liveTwitch.size / TWITCH;
    const perChannelTwitch = callsPerPoll * (liveShare * (HOUR / LIVE_MS) + (1 - liveShare) * (HOUR / OFFLINE_MS));
    const shards = Array.from({ length: SHARDS }, () => [] as string[]);
    for (const id of twitchIds) shards[shardOf(id, SHARDS)]!.push(id);
    const runs = Math.max(1, Math.round(OFFLINE_MS / LIVE_MS)); // every offline channel asked once
    const slot0 = Math.ceil(now / LIVE_MS) * LIVE_MS;
    before = requests('/helix/streams');
    const tokenCalls0 = sim.state.counters.tokenCalls['twitch:client_credentials'] ?? 0;
    let observed = 0;
    const tb0 = Date.now();
    for (let r = 0; r < runs; r++) {
      for (const members of shards) {
        const due = members.filter((id) => dueThisRun({ channelId: id, live: liveTwitch.has(id), slot: slot0 + r * LIVE_MS, liveEveryMs: LIVE_MS, offlineEveryMs: OFFLINE_MS }));
        observed += (await twitch.streamStates(due)).size;
      }
    }
    const batchCalls = requests('/helix/streams') - before;
    const batchedTwitch = (batchCalls * (HOUR / (runs * LIVE_MS))) / TWITCH;
    console.log(`twitch    per-channel (today)   ${perChannelTwitch.toFixed(2).padStart(8)} calls/channel-hour   (${callsPerPoll} call/poll measured on ${twConns.length} channels, ${sampleLive} live; cadence ${LIVE_MS / 1000} s live / ${OFFLINE_MS / 1000} s offline)`);
    console.log(`twitch    batched (100 ids/call) ${batchedTwitch.toFixed(4).padStart(8)} calls/channel-hour   (${batchCalls} /helix/streams calls for ${runs} runs × ${SHARDS} shards = ${(observed / runs).toFixed(0)} channel states a run, ${((Date.now() - tb0) / 1000).toFixed(1)} s; app tokens issued ${(sim.state.counters.tokenCalls['twitch:client_credentials'] ?? 0) - tokenCalls0})`);

    // ---- YouTube cost per creator-day: per-channel streamState (1 unit offline, 2 live) vs batched
    let u0 = units();
    for (const conn of ytConns) await youtube.streamState(await platform.tokens.getAccessToken(conn.connectionId), conn.channelId);
    const perPollUnits = (units() - u0) / ytConns.length; // averaged over 15 % live
    // Per poll: 2 units live, 1 offline (measured above on the sample); per creator-day at the cadence, 15 % live.
    const sampleLiveYT = ytConns.filter((x) => liveYouTube.has(x.channelId)).length;
    const liveUnitsPerPoll = sampleLiveYT ? (perPollUnits * ytConns.length - (ytConns.length - sampleLiveYT)) / sampleLiveYT : 2;
    const ytLiveShare = liveYouTube.size / YOUTUBE;
    const perChannelYT = ytLiveShare * liveUnitsPerPoll * (DAY / LIVE_MS) + (1 - ytLiveShare) * 1 * (DAY / OFFLINE_MS);
    const ytLive = youtubeIds.filter((id) => liveYouTube.has(id));
    const anyToken = await platform.tokens.getAccessToken(ytConns[0]!.connectionId);
    const streamIds = ytLive.map((id) => world.stateAt(id, Date.now()).streamId!);
    u0 = units();
    const refreshed = await youtube.liveVideos(anyToken, streamIds);
    const liveRefreshUnits = units() - u0;
    const batchedYT = (liveRefreshUnits * (DAY / LIVE_MS)) / YOUTUBE + (1 - ytLiveShare) * 1 * (DAY / OFFLINE_MS);
    const subscribersYT = DAY / FOLLOWERS_MS;
    u0 = units();
    const counted = await youtube.subscriberCounts(anyToken, youtubeIds);
    const subscriberUnits = units() - u0;
    const subscribersBatchedYT = (subscriberUnits * (DAY / FOLLOWERS_MS)) / YOUTUBE;
    console.log(`youtube   per-channel (today)   ${perChannelYT.toFixed(1).padStart(8)} units/creator-day   (stream state; measured ${liveUnitsPerPoll.toFixed(1)} units per live poll, 1 offline, on ${ytConns.length} creators)`);
    console.log(`youtube   batched (50/unit)      ${batchedYT.toFixed(1).padStart(8)} units/creator-day   (${liveRefreshUnits} unit(s) refresh ${refreshed.size} live streams; go-live 1 unit per offline creator per ${OFFLINE_MS / 1000} s)`);
    console.log(`youtube   subscribers per-channel ${subscribersYT.toFixed(1).padStart(7)} units/creator-day   (channels.list per creator every ${FOLLOWERS_MS / 1000} s)`);
    console.log(`youtube   subscribers batched   ${subscribersBatchedYT.toFixed(1).padStart(8)} units/creator-day   (${subscriberUnits} unit(s) count ${counted.size} creators, 50 a call)`);
    // With WebSub (a lease on every creator's feed): go-live is pushed and checked with one videos.list per
    // announced video (notifications arriving together share it), measured here on one announced video;
    // the go-live poll stays as a reconcile every INGEST_WEBSUB_RECONCILE_SECONDS. One go-live a creator-day.
    const RECONCILE_MS = 1000 * c.INGEST_WEBSUB_RECONCILE_SECONDS;
    u0 = units();
    await youtube.liveVideos(anyToken, streamIds.slice(0, 1));
    const checkUnits = units() - u0;
    const webSubGoLiveYT = (1 - ytLiveShare) * (DAY / RECONCILE_MS) + checkUnits * 1;
    const batchedWebSubYT = (liveRefreshUnits * (DAY / LIVE_MS)) / YOUTUBE + webSubGoLiveYT;
    console.log(`youtube   batched + WebSub       ${batchedWebSubYT.toFixed(1).padStart(8)} units/creator-day   (go-live ${webSubGoLiveYT.toFixed(1)} of them: reconcile poll every ${RECONCILE_MS / 1000} s offline + ${checkUnits} unit to check a pushed go-live; polled go-live ${((1 - ytLiveShare) * (DAY / OFFLINE_MS)).toFixed(1)})`);

    // ---- the 100-creator goal: the quota planner inside 10,000 units/day
    const targets = { liveRefresh: LIVE_MS, goLive: OFFLINE_MS, chat: c.INGEST_CHAT_MIN_POLL_MS, subscribers: FOLLOWERS_MS };
    const plan100 = planQuota({ remainingUnits: 10_000, horizonMs: DAY, creators: 100, live: 15, targetMs: targets, subscribersPerCall: 50 });
    const plan200 = planQuota({ remainingUnits: 10_000, horizonMs: DAY, creators: YOUTUBE, live: ytLive.length, targetMs: targets, subscribersPerCall: 50 });
    const fmtPlan = (p: ReturnType<typeof planQuota>) =>
      `live refresh every ${(p.purposes.liveRefresh.intervalMs / 1000).toFixed(0)} s (${p.purposes.liveRefresh.plannedUnits.toFixed(0)} u), go-live every ${(p.purposes.goLive.intervalMs / 60_000).toFixed(1)} min (${p.purposes.goLive.plannedUnits.toFixed(0)} u), chat every ${(p.purposes.chat.intervalMs / 60_000).toFixed(1)} min per live chat (sampling ${(p.chatSamplingRate * 100).toFixed(2)} %), subscribers every ${(p.purposes.subscribers.intervalMs / 60_000).toFixed(1)} min`;
    console.log(`goal      100 YouTube creators, 15 live, 10,000 units/day: ${fmtPlan(plan100)}`);
    console.log(`plan      ${YOUTUBE} YouTube creators, ${ytLive.length} live, 10,000 units/day: ${fmtPlan(plan200)}`);
    // The same day with a WebSub lease on every offline creator's feed: go-live polls only reconcile.
    const pushedPlan = planQuota({ remainingUnits: 10_000, horizonMs: DAY, creators: 100, live: 15, targetMs: targets, subscribersPerCall: 50, pushedOffline: 85, pushedGoLiveTargetMs: RECONCILE_MS });
    console.log(`goal      100 YouTube creators, 15 live, WebSub leases on the 85 offline: ${fmtPlan(pushedPlan)}; go-live reconcile every ${(pushedPlan.goLivePushedIntervalMs / 60_000).toFixed(0)} min (${pushedPlan.purposes.goLive.plannedUnits.toFixed(0)} u), chat gets ${pushedPlan.purposes.chat.plannedUnits.toFixed(0)} u instead of ${plan100.purposes.chat.plannedUnits.toFixed(0)}`);
    // Today's path stretches stream state to its third of the non-chat half of what is left:
    // interval = units per poll × pollers × day / (budget × share) (youtube-quota.pollIntervalMs).
    const todayLiveResolutionS = Math.max(LIVE_MS, Math.ceil((2 * 100 * DAY) / (10_000 * ((1 - c.INGEST_YOUTUBE_CHAT_QUOTA_SHARE) * 2) / 3))) / 1000;
    console.log(`goal      100 YouTube creators, today's path: live state every ${(todayLiveResolutionS / 60).toFixed(0)} min (2 units a live poll, stretched to its quota share), go-live likewise`);

    // ---- the goal's two runs (30 s apart in the simulator's time), then what it charged in that minute
    const driven = await goal.finish();
    // ---- the 100,000-channel goal: the whole offline rotation planned (pure), for its busiest minute
    const goalShards = Array.from({ length: SHARDS }, () => [] as string[]);
    for (let i = 0; i < GOAL; i++) goalShards[shardOf(bulkTwitchChannelId(i), SHARDS)]!.push(bulkTwitchChannelId(i));
    const callsOfRun = (r: number) =>
      goalShards.reduce((n, m) => n + Math.ceil(m.filter((id) => dueThisRun({ channelId: id, live: goal.live(id), slot: goal.slot0 + r * LIVE_MS, liveEveryMs: LIVE_MS, offlineEveryMs: OFFLINE_MS })).length / 100), 0);
    const planned = Array.from({ length: runs }, (_, r) => callsOfRun(r));
    const runsPerMin = 60_000 / LIVE_MS;
    const plannedBusiestMin = Math.max(...planned.map((_, r) => planned.slice(r, r + runsPerMin).concat(planned.slice(0, Math.max(0, r + runsPerMin - runs))).reduce((a, b) => a + b, 0)));
    const goalPerChannelMin = GOAL * callsPerPoll * (0.1 * (60_000 / LIVE_MS) + 0.9 * (60_000 / OFFLINE_MS));

    for (const r of driven.runs)
      console.log(`goal      run at +${(r.atMs / 1000).toFixed(1).padStart(4)} s (simulator time): ${r.asked} of ${GOAL} channels asked (${r.live} live), ${r.calls} /helix/streams calls, ${r.wallS.toFixed(1)} s wall (${(r.asked / r.wallS).toFixed(0)} channel states/s over HTTP)`);
    console.log(`goal      ${GOAL.toLocaleString('en')} Twitch channels, 10 % live, ${LIVE_MS / 1000} s live cadence, over HTTP: batched ${driven.windowPoints} points charged by the simulator in one 60 s window (limit 800; ${driven.rateLimited} × 429${driven.oneWindow ? '' : '; WARNING: the second run ended after the window, this is one run'}) vs per-channel ${goalPerChannelMin.toFixed(0)} points/min (${callsPerPoll} call per poll × cadence, on creators' tokens)`);
    console.log(`goal      whole ${runs}-run offline rotation (pure plan): ${planned.join(' / ')} calls per run, busiest minute ${plannedBusiestMin} points; first pass (${GOAL.toLocaleString('en')} never-seen ids, plan) busiest minute ${driven.firstPass.busiestMinute} points, every channel seen within ${driven.firstPass.allSeenS} s`);

    // ---- throughput: channels refreshed per CPU-second, per-channel handler vs batch handler
    const scheduler = new IngestScheduler({
      queues, policy: new PollPolicy(c), states: new ChannelStateStore(redis, c.REDIS_KEY_PREFIX), redis, redisKeyPrefix: c.REDIS_KEY_PREFIX,
      jobOptions: pollJobOptions(c), logger: stack.rt.logger, youtubeQuota: ports.youtubeQuota, batch: { shards: SHARDS, platforms: { twitch: 'all', youtube: 'live' } },
    });
    const deps: HandlerDeps = { ports, producer, states: new ChannelStateStore(redis, c.REDIS_KEY_PREFIX), scheduler, redis, processId: 'bench' };
    // Owners for the throughput channels: stored the way connect does, tokens unused by the app-token batch.
    const thIds = twitchIds.slice(0, THROUGHPUT);
    for (let i = 0; i < thIds.length; i += 200)
      await Promise.all(thIds.slice(i, i + 200).map((id) => platform.connections.upsert({ userId: 'bench-th', platform: 'twitch', channelId: id, login: `c${id}`, displayName: `C${id}`, scopes: [] }, { accessToken: 'unused', refreshToken: null, expiresAt: null, scopes: [] })));
    for (let i = 0; i < thIds.length; i += 200) await Promise.all(thIds.slice(i, i + 200).map((id) => scheduler.joinBatch({ platform: 'twitch', channelId: id })));
    const fakeJob = (data: PollJobData, slot: number) => ({ id: `repeat:x:${slot}`, data, opts: {}, timestamp: slot, name: data.resource }) as unknown as Job<PollJobData>;
    const cpu = async (fn: () => Promise<number>) => {
      const c0 = process.cpuUsage();
      const w0 = Date.now();
      const n = await fn();
      const d = process.cpuUsage(c0);
      return { n, cpuS: (d.user + d.system) / 1e6, wallS: (Date.now() - w0) / 1000 };
    };
    // Per-channel: the sample's own snapshot handler (real creator tokens), 3 rounds, 16 at a time.
    const single = createSnapshotHandler(deps);
    const owners = await Promise.all(twConns.map(async (x) => (await ports.connections.listActiveByChannel('twitch', x.channelId))[0]!));
    const perChannel = await cpu(async () => {
      let n = 0;
      for (let round = 0; round < 3; round++) {
        const slot = slot0 + 1000 * LIVE_MS + round * LIVE_MS;
        let next = 0;
        await Promise.all(Array.from({ length: 16 }, async () => {
          while (next < owners.length) {
            const o = owners[next++]!;
            await single(fakeJob({ platform: 'twitch', channelId: o.channelId, resource: 'snapshot', everyMs: LIVE_MS }, slot), o);
            n++;
          }
        }));
      }
      return n;
    });
    // Batched: every shard's job, 1 warm-up run (first observations: states created, streams started) + the measured runs.
    const batch = createBatchSnapshotHandler({ ...deps, liveEveryMs: LIVE_MS, offlineEveryMs: OFFLINE_MS });
    const runShards = async (slot: number) => {
      let n = 0;
      await Promise.all(Array.from({ length: SHARDS }, async (_, shard) => {
        const r = await batch(fakeJob({ platform: 'twitch', channelId: `shard-${shard}`, resource: 'snapshot', everyMs: LIVE_MS, shard }, slot));
        n += r.outcome === 'produced' ? 1 : 0;
      }));
      return n;
    };
    await runShards(slot0 + 2000 * LIVE_MS);
    const channelsBefore = await batchChannelsCount();
    const batched = await cpu(async () => {
      for (let r = 1; r <= runs; r++) await runShards(slot0 + 2000 * LIVE_MS + r * LIVE_MS);
      return (await batchChannelsCount()) - channelsBefore;
    });
    const perChannelRate = perChannel.n / perChannel.cpuS;
    const batchedRate = batched.n / batched.cpuS;
    console.log(`throughput per-channel handler   ${perChannelRate.toFixed(0).padStart(8)} channels/CPU-s   (${perChannel.n} polls in ${perChannel.wallS.toFixed(1)} s wall, ${perChannel.cpuS.toFixed(1)} CPU-s) → ${(perChannelRate * LIVE_MS / 1000).toFixed(0)} live channels at a ${LIVE_MS / 1000} s cadence per core`);
    console.log(`throughput batch handler         ${batchedRate.toFixed(0).padStart(8)} channels/CPU-s   (${batched.n} channel states in ${runs} runs × ${SHARDS} shards over ${THROUGHPUT} channels, ${batched.wallS.toFixed(1)} s wall, ${batched.cpuS.toFixed(1)} CPU-s) → ${(batchedRate * LIVE_MS / 1000).toFixed(0)} live channels at a ${LIVE_MS / 1000} s cadence per core`);

    emitBenchResult({
      bench: 'ingest-scale',
      params: { twitch: TWITCH, youtube: YOUTUBE, throughputChannels: THROUGHPUT, shards: SHARDS, goalChannels: GOAL, livePollS: LIVE_MS / 1000, offlinePollS: OFFLINE_MS / 1000 },
      figures: [
        figure('Twitch platform calls per channel-hour, batched (10 % live)', batchedTwitch, 'calls/channel-h', 'per-channel polls, same cadence', perChannelTwitch),
        figure(`Twitch points charged in one minute for ${GOAL.toLocaleString('en')} channels at 30 s live cadence, batched over HTTP (limit 800)`, driven.windowPoints, 'points/min', 'per-channel polls', goalPerChannelMin),
        figure(`Twitch points in the busiest minute of the 5-min rotation, ${GOAL.toLocaleString('en')} channels, batched (plan)`, plannedBusiestMin, 'points/min', 'per-channel polls', goalPerChannelMin),
        figure('YouTube units per creator-day for stream state, batched (15 % live)', batchedYT, 'units/creator-day', 'per-channel polls, same cadence', perChannelYT),
        figure('YouTube units per creator-day for subscriber counts, batched', subscribersBatchedYT, 'units/creator-day', 'per-channel channels.list, same cadence', subscribersYT),
        figure('YouTube live resolution, 100 creators (15 live) in 10,000 units/day (planner)', plan100.purposes.liveRefresh.intervalMs / 1000, 's', "today's per-channel path, quota-stretched", todayLiveResolutionS),
        figure('channels refreshed per CPU-second, batch handler', batchedRate, 'channels/CPU-s', 'per-channel snapshot handler', perChannelRate),
      ],
    });
  } finally {
    await goalClose?.();
    await producer.close().catch(() => undefined);
    await queues.close().catch(() => undefined);
    bull.disconnect();
    await ports.close?.();
    await platform.close();
    redis.disconnect();
    await sim.close();
    await stack.cleanup();
  }

  async function batchChannelsCount(): Promise<number> {
    const { ingestMetrics } = await import('../ingest/ingest.metrics');
    const m = await ingestMetrics.batchChannels.get();
    return m.values.filter((v) => v.labels.platform === 'twitch').reduce((s, v) => s + v.value, 0);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
