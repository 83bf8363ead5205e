import type { Redis } from 'ioredis';
import type { JobsOptions, Queue } from 'bullmq';
import { channelKeyOf } from '../../shared/kafka/topics';
import type { Logger } from '../../shared/logging/logger';
import { RESOURCES, channelSlug, parseSchedulerId, schedulerId, type ChannelRef, type PollJobData, type Resource } from '../jobs/ingest-job';
import type { IngestQueues } from '../jobs/ingest.queues';
import type { ChannelStateStore } from '../lifecycle/channel-state.store';
import { PollPolicy, YOUTUBE_CHAT_UNITS_PER_CALL } from './poll-policy';
import { batchSchedulerId, parseBatchSchedulerId, shardOf } from './batch-plan';
import { YouTubeQuotaPlanner } from './youtube-quota-plan';
import type { QuotaPlan } from './quota-planner';
import { ingestMetrics } from '../ingest.metrics';
import type { IngestPorts } from '../ingest.ports';

/** The channels behind a list of connections, each once (several users may have connected one channel). */
export function channelsOf(conns: ChannelRef[]): ChannelRef[] {
  const byKey = new Map<string, ChannelRef>();
  for (const c of conns) if (!byKey.has(channelKeyOf(c))) byKey.set(channelKeyOf(c), { platform: c.platform, channelId: c.channelId });
  return [...byKey.values()];
}

/**
 * YouTube quota per poll and the part of what is left today each resource may spend (chat's part is
 * INGEST_YOUTUBE_CHAT_QUOTA_SHARE; the rest is split between stream state and subscribers).
 * Stream state costs 1 unit offline, 2 live (liveBroadcasts.list + videos.list).
 */
const YOUTUBE_UNITS: Record<Resource, (live: boolean) => number> = { snapshot: (live) => (live ? 2 : 1), followers: () => 1, chat: () => YOUTUBE_CHAT_UNITS_PER_CALL };

/**
 * How a platform's stream state is batched (issue 18.1): `all` — the shard jobs ask about live and
 * offline channels (Twitch /helix/streams, 100 ids a call, app token), no per-channel snapshot job;
 * `live` — the shard jobs refresh the live streams only (YouTube videos.list, 50 a unit) and each
 * channel's own snapshot job keeps detecting go-live at the offline cadence (it skips while live).
 */
export type BatchMode = 'all' | 'live';

/**
 * Channels whose go-live the platform pushes (YouTube WebSub leases, ingest/push/websub.store.ts):
 * their go-live poll only reconciles, every `reconcileMs` (stretched by the planner like the rest).
 */
export interface PushedGoLive {
  reconcileMs: number;
  active(channelId: string): Promise<boolean>;
  activeChannels(): Promise<string[]>;
}
export interface BatchSettings {
  shards: number;
  platforms: Record<string, BatchMode>;
  /** Platforms whose follower/subscriber counts the shard jobs read too (YouTube channels.list, 50 a unit). */
  followers?: readonly string[];
}

/**
 * Owns the job schedulers: one per (channel, resource), with deterministic ids, created and removed
 * by connection events, by workers on live/offline transitions, and by reconciliation against the
 * channels of the active connections (at start-up and every INGEST_RECONCILE_SECONDS), so nothing is left orphaned
 * when an event was missed while no ingest process ran. Every operation is idempotent, so any number
 * of ingest processes may run it concurrently.
 */
export class IngestScheduler {
  constructor(
    private readonly deps: {
      queues: IngestQueues;
      policy: PollPolicy;
      states: ChannelStateStore;
      redis: Redis;
      redisKeyPrefix: string;
      jobOptions: JobsOptions;
      logger: Logger;
      /** Remaining-quota stretch for YouTube (IngestPorts.youtubeQuota). */
      youtubeQuota?: IngestPorts['youtubeQuota'];
      youtubeChatQuotaShare?: number;
      /** Batched stream state (INGEST_BATCH_POLLING); absent: every channel has its own snapshot job. */
      batch?: BatchSettings;
      /** YouTube channels with pushed go-live (WebSub); absent: WebSub is off. */
      youtubePushedGoLive?: PushedGoLive;
    },
  ) {
    // The quota planner drives YouTube's intervals once its live streams are refreshed in batches
    // (its unit costs assume videos.list 50 a unit); without batching the older stretch applies.
    if (this.batchMode('youtube') === 'live' && YouTubeQuotaPlanner.usable(deps.youtubeQuota))
      this.youtubePlanner = new YouTubeQuotaPlanner({
        redis: deps.redis,
        prefix: deps.redisKeyPrefix,
        quota: deps.youtubeQuota,
        counts: async () => ({ creators: await deps.redis.scard(this.youtubeConnectionsKey), live: await this.liveYouTubeChats(), pushedOffline: await this.pushedOfflineYouTube() }),
        pushedGoLiveTargetMs: deps.youtubePushedGoLive?.reconcileMs,
        targetMs: { liveRefresh: deps.policy.snapshotEveryMs(true), goLive: deps.policy.snapshotEveryMs(false), chat: deps.policy.chatMinMs(), subscribers: deps.policy.followersEveryMs() },
        subscribersPerCall: this.batchFollowers('youtube') ? 50 : 1,
      });
  }

  /** Offline YouTube channels whose go-live is pushed (an active WebSub lease). */
  private async pushedOfflineYouTube(): Promise<number> {
    const pushed = this.deps.youtubePushedGoLive;
    if (!pushed) return 0;
    const leased = await pushed.activeChannels();
    if (leased.length === 0) return 0;
    const live = await this.deps.redis.smismember(this.liveYouTubeChatsKey, ...leased);
    return live.filter((x) => x === 0).length;
  }

  /** The YouTube quota planner (issue 18.3), when YouTube is batched and the quota ledger is available. */
  readonly youtubePlanner?: YouTubeQuotaPlanner;

  private async youtubePlan(): Promise<QuotaPlan | null> {
    return this.youtubePlanner ? this.youtubePlanner.current() : null;
  }

  /** The interval of a platform's batch jobs: the live cadence, or what the YouTube planner gives live refresh. */
  async batchEveryMs(platform: string): Promise<number> {
    const every = this.deps.policy.snapshotEveryMs(true);
    const plan = platform === 'youtube' ? await this.youtubePlan() : null;
    return plan ? Math.max(every, plan.purposes.liveRefresh.intervalMs) : every;
  }

  /** How this platform's stream state is batched, or null when each channel polls its own. */
  batchMode(platform: string): BatchMode | null {
    return this.deps.batch?.platforms[platform] ?? null;
  }

  /** Whether the shard jobs read this platform's follower counts (no per-channel followers job then). */
  batchFollowers(platform: string): boolean {
    return !!this.batchMode(platform) && !!this.deps.batch?.followers?.includes(platform);
  }

  /** How often each channel's follower count is read by its shard's job: the policy's, or the planner's. */
  async followersBatchEveryMs(platform: string): Promise<number> {
    const every = this.deps.policy.followersEveryMs();
    const plan = platform === 'youtube' ? await this.youtubePlan() : null;
    return plan ? Math.max(every, plan.purposes.subscribers.intervalMs) : every;
  }

  get batchShards(): number {
    return this.deps.batch?.shards ?? 0;
  }

  private batchMembersKey(platform: string, shard: number) {
    return `${this.deps.redisKeyPrefix}:ingest:batch:${platform}:${shard}`;
  }

  /** The channel ids of one shard (the batch job asks the platform about them). */
  async batchMembers(platform: string, shard: number): Promise<string[]> {
    return this.deps.redis.smembers(this.batchMembersKey(platform, shard));
  }

  /** Puts a channel in its shard (ensureChannel does it with the rest of the channel's schedule). */
  async joinBatch(conn: ChannelRef): Promise<void> {
    if (this.batchMode(conn.platform)) await this.deps.redis.sadd(this.batchMembersKey(conn.platform, shardOf(conn.channelId, this.batchShards)), conn.channelId);
  }

  /** Takes a channel out of its shard (a batch run found no active owner for it). */
  async leaveBatch(conn: ChannelRef): Promise<void> {
    if (this.batchMode(conn.platform)) await this.deps.redis.srem(this.batchMembersKey(conn.platform, shardOf(conn.channelId, this.batchShards)), conn.channelId);
  }

  /** One scheduler per (batched platform, shard), at the live cadence; idempotent. Returns how many it created. */
  async ensureBatchSchedulers(): Promise<number> {
    let created = 0;
    for (const platform of this.deps.queues.platforms) {
      if (!this.batchMode(platform)) continue;
      const every = await this.batchEveryMs(platform);
      const queue = this.deps.queues.poll(platform);
      for (let shard = 0; shard < this.batchShards; shard++) {
        const id = batchSchedulerId(platform, shard);
        const have = await queue.getJobScheduler(id);
        if (have?.every !== undefined && !PollPolicy.worthRescheduling(Number(have.every), every)) continue;
        const data: PollJobData = { platform, channelId: `shard-${shard}`, resource: 'snapshot', everyMs: every, shard };
        await this.upsertScheduler(queue, id, have, 'snapshot-batch', data);
        if (!have) created++;
      }
    }
    return created;
  }

  /** Channel ids of live YouTube chats being polled: the chat quota is shared among them. */
  private get liveYouTubeChatsKey() {
    return `${this.deps.redisKeyPrefix}:ingest:live-chats:youtube`;
  }
  /** Channel ids of YouTube channels being polled: the rest of the quota is shared among them. */
  private get youtubeConnectionsKey() {
    return `${this.deps.redisKeyPrefix}:ingest:connections:youtube`;
  }

  chatCursorKey(channel: ChannelRef) {
    return `${this.deps.redisKeyPrefix}:ingest:chat-cursor:${channelSlug(channel)}`;
  }

  async liveYouTubeChats(): Promise<number> {
    return this.deps.redis.scard(this.liveYouTubeChatsKey);
  }

  snapshotEveryMs(live: boolean): number {
    return this.deps.policy.snapshotEveryMs(live);
  }

  /**
   * The interval a resource should run at now: the policy's, and for YouTube stretched so that every
   * poller of that kind fits its share of the quota left until the Pacific midnight reset.
   */
  async everyFor(conn: ChannelRef, resource: Resource, live: boolean, platformNextPollMs: number | null = null): Promise<number> {
    const youtube = conn.platform === 'youtube';
    // Batched live refresh: the channel's own snapshot job only detects go-live (offline cadence, 1 unit).
    if (resource === 'snapshot' && this.batchMode(conn.platform) === 'live') live = false;
    const chats = youtube && resource === 'chat' ? Math.max(1, await this.liveYouTubeChats()) : 0;
    let every =
      resource === 'snapshot' ? this.deps.policy.snapshotEveryMs(live)
      : resource === 'followers' ? this.deps.policy.followersEveryMs()
      : this.deps.policy.chatEveryMs(conn.platform, platformNextPollMs, chats);
    // Go-live pushed (a WebSub lease): the poll only reconciles what the feed may have missed.
    const pushed = youtube && resource === 'snapshot' && !live && this.deps.youtubePushedGoLive && (await this.deps.youtubePushedGoLive.active(conn.channelId)) ? this.deps.youtubePushedGoLive : null;
    if (pushed) every = Math.max(every, pushed.reconcileMs);
    const plan = youtube ? await this.youtubePlan() : null;
    if (plan) {
      // Planned (issue 18.3): each purpose at the interval the planner gives every creator alike.
      if (resource === 'snapshot') return Math.max(every, pushed ? plan.goLivePushedIntervalMs : plan.purposes.goLive.intervalMs);
      if (resource === 'followers') return Math.max(every, plan.purposes.subscribers.intervalMs);
      return Math.max(this.deps.policy.chatMinMs(), platformNextPollMs ?? 0, plan.purposes.chat.intervalMs);
    }
    if (youtube && this.deps.youtubeQuota) {
      const chatShare = Math.min(1, Math.max(0, this.deps.youtubeChatQuotaShare ?? 0.5));
      const share = resource === 'chat' ? chatShare : ((1 - chatShare) * (resource === 'snapshot' ? 2 : 1)) / 3;
      const pollers = resource === 'chat' ? chats : Math.max(1, await this.deps.redis.scard(this.youtubeConnectionsKey));
      every = await this.deps.youtubeQuota.pollIntervalMs({ baseMs: every, unitsPerPoll: YOUTUBE_UNITS[resource](live), pollers, share });
    }
    return every;
  }

  /** The scheduler if it really exists (BullMQ can return a key-only phantom for ids of legacy shape). */
  private async scheduler(conn: ChannelRef, r: Resource) {
    const s = await this.deps.queues.poll(conn.platform).getJobScheduler(schedulerId(conn, r));
    return s && s.every !== undefined ? s : undefined;
  }

  /**
   * Creates a scheduler (its first run at once) or re-times one to `data.everyMs`. BullMQ runs a
   * scheduler whose `every` changed at once unless given a start; a re-timing keeps its phase instead —
   * the next run comes one new interval after the last (never before now) — so a re-time costs no extra
   * platform call (a YouTube unit each time the quota plan or a WebSub lease moved an interval).
   * `have`: the scheduler as it is now (getJobScheduler), undefined when there is none.
   */
  private async upsertScheduler(queue: Queue<PollJobData>, id: string, have: SchedulerNow | undefined, name: string, data: PollJobData): Promise<void> {
    await queue.upsertJobScheduler(id, { every: data.everyMs, ...retimedStart(have, data.everyMs) }, { name, data, opts: this.deps.jobOptions });
  }

  /** A channel's scheduler of one resource, created or re-timed (upsertScheduler). */
  private async upsert(conn: ChannelRef, resource: Resource, everyMs: number): Promise<void> {
    const queue = this.deps.queues.poll(conn.platform);
    const id = schedulerId(conn, resource);
    const data: PollJobData = { platform: conn.platform, channelId: conn.channelId, resource, everyMs };
    await this.upsertScheduler(queue, id, await queue.getJobScheduler(id), resource, data);
    if (resource === 'chat') ingestMetrics.chatIntervalMs.set({ platform: conn.platform }, everyMs);
  }

  /** Makes sure a channel has its schedulers at about the right interval. Returns how many it created. */
  async ensureChannel(conn: ChannelRef): Promise<number> {
    const { state } = await this.deps.states.read(conn.platform, conn.channelId);
    const live = state?.live ?? false;
    if (conn.platform === 'youtube') await this.deps.redis.sadd(this.youtubeConnectionsKey, conn.channelId);
    if (conn.platform === 'youtube' && live) await this.deps.redis.sadd(this.liveYouTubeChatsKey, conn.channelId);
    const batch = this.batchMode(conn.platform);
    await this.joinBatch(conn);
    let created = 0;
    for (const r of RESOURCES) {
      const have = await this.scheduler(conn, r);
      if (r === 'followers' && this.batchFollowers(conn.platform)) {
        // The shard's batch job reads the count, 50 channels a unit.
        if (have) await this.deps.queues.poll(conn.platform).removeJobScheduler(schedulerId(conn, r));
        continue;
      }
      if (r === 'snapshot' && batch === 'all') {
        // The shard's batch job polls it; a per-channel snapshot job of before batching goes.
        if (have) await this.deps.queues.poll(conn.platform).removeJobScheduler(schedulerId(conn, r));
        continue;
      }
      // An offline channel's chat scheduler runs once more, reads what was said before the end and stops itself.
      if (r === 'chat' && !live) continue;
      // A running chat scheduler adapts itself to the platform's pace; leave it.
      if (have && r === 'chat') continue;
      const every = await this.everyFor(conn, r, live);
      if (have?.every !== undefined && !PollPolicy.worthRescheduling(have.every, every)) continue;
      await this.upsert(conn, r, every);
      if (!have) created++;
    }
    return created;
  }

  private async removeScheduler(conn: ChannelRef, r: Resource): Promise<void> {
    if (!this.deps.queues.platforms.includes(conn.platform)) return;
    await this.deps.queues.poll(conn.platform).removeJobScheduler(schedulerId(conn, r));
    if (r === 'chat') {
      if (conn.platform === 'youtube') await this.deps.redis.srem(this.liveYouTubeChatsKey, conn.channelId);
      await this.deps.redis.del(this.chatCursorKey(conn));
    }
  }

  /** Stops all polling of a channel: its last active owner left (disconnected, revoked, reauth_required). */
  async removeChannel(conn: ChannelRef): Promise<void> {
    for (const r of RESOURCES) await this.removeScheduler(conn, r);
    if (conn.platform === 'youtube') await this.deps.redis.srem(this.youtubeConnectionsKey, conn.channelId);
    await this.leaveBatch(conn);
  }

  /** Called by the snapshot worker on a live/offline transition: the snapshot cadence changes, chat starts or stops. */
  async onLiveChanged(conn: ChannelRef, live: boolean): Promise<void> {
    if (this.batchMode(conn.platform) !== 'all') {
      const snapEvery = await this.everyFor(conn, 'snapshot', live);
      const snap = await this.scheduler(conn, 'snapshot');
      if (!snap || snap.every === undefined || PollPolicy.worthRescheduling(snap.every, snapEvery)) await this.upsert(conn, 'snapshot', snapEvery);
    }
    if (live) {
      if (conn.platform === 'youtube') await this.deps.redis.sadd(this.liveYouTubeChatsKey, conn.channelId);
      const chat = await this.scheduler(conn, 'chat');
      if (!chat) await this.upsert(conn, 'chat', await this.everyFor(conn, 'chat', true));
    }
    // Offline: chat is not stopped here — its next run reads the messages sent before the end, then calls stopChat.
  }

  /** Stops a channel's chat polling (its last run after the stream ended). */
  async stopChat(conn: ChannelRef): Promise<void> {
    await this.removeScheduler(conn, 'chat');
  }

  /**
   * Called after every successful run: follow the platform's pace (chat) and the quota (YouTube),
   * re-scheduling only on a real change so slot alignment and Redis are not churned.
   */
  async adapt(conn: ChannelRef, resource: Resource, currentEveryMs: number, live: boolean, platformNextPollMs: number | null = null): Promise<number> {
    if (conn.platform !== 'youtube' && resource !== 'chat') return currentEveryMs;
    const every = await this.everyFor(conn, resource, live, platformNextPollMs);
    if (PollPolicy.worthRescheduling(currentEveryMs, every)) await this.upsert(conn, resource, every);
    return every;
  }

  /**
   * Converges the schedulers on the channels of the active connections (each channel once, however
   * many users connected it): creates what is missing, removes what belongs to no channel with an
   * active owner (an orphan from a missed event, a deleted connection, a crash mid-change, or a
   * per-connection scheduler of the layout before issue 16).
   */
  async reconcile(active: ChannelRef[]): Promise<{ added: number; removed: number }> {
    let added = 0;
    let removed = 0;
    const channels = channelsOf(active).filter((c) => this.deps.queues.platforms.includes(c.platform));
    const bySlug = new Map(channels.map((c) => [channelSlug(c), c]));
    for (const platform of this.deps.queues.platforms) {
      const queue = this.deps.queues.poll(platform);
      for (const s of await queue.getJobSchedulers(0, -1, true)) {
        const batch = parseBatchSchedulerId(s.key);
        if (batch && batch.platform === platform && this.batchMode(platform) && batch.shard < this.batchShards) continue;
        const parsed = batch ? null : parseSchedulerId(s.key);
        const conn = parsed && bySlug.get(parsed.slug);
        if (parsed && conn && conn.platform === platform) continue;
        await queue.removeJobScheduler(s.key);
        removed++;
      }
    }
    // Quota sharing counts only channels that are still polled.
    const youtube = new Set(channels.filter((c) => c.platform === 'youtube').map((c) => c.channelId));
    for (const key of [this.youtubeConnectionsKey, this.liveYouTubeChatsKey]) {
      const stale = (await this.deps.redis.smembers(key)).filter((id) => !youtube.has(id));
      if (stale.length) await this.deps.redis.srem(key, ...stale);
    }
    for (const platform of this.deps.queues.platforms) {
      if (!this.batchMode(platform)) continue;
      const ids = new Set(channels.filter((c) => c.platform === platform).map((c) => c.channelId));
      for (let shard = 0; shard < this.batchShards; shard++) {
        const stale = (await this.batchMembers(platform, shard)).filter((id) => !ids.has(id) || shardOf(id, this.batchShards) !== shard);
        if (stale.length) await this.deps.redis.srem(this.batchMembersKey(platform, shard), ...stale);
      }
    }
    added += await this.ensureBatchSchedulers();
    for (const conn of channels) added += await this.ensureChannel(conn);
    for (const platform of this.deps.queues.platforms) ingestMetrics.schedulers.set({ platform }, await this.deps.queues.poll(platform).getJobSchedulersCount());
    if (added || removed) this.deps.logger.info({ module: 'ingest-scheduler', added, removed, active: active.length }, 'reconciled job schedulers');
    return { added, removed };
  }
}

/** What retimedStart reads of a scheduler as it is (BullMQ's getJobScheduler; `every` may come back as text). */
type SchedulerNow = { every?: number | string | null; next?: number | null };

/**
 * The start that keeps a re-timed scheduler's phase: its upcoming run (`next`, still in the future) is
 * one old interval after the last, so the last was `next − every`; the new interval counts from there,
 * not before now. An upcoming run already due stays due: it runs now.
 * None for a scheduler that does not exist yet, or whose interval is unchanged (BullMQ keeps its slot).
 */
export function retimedStart(have: SchedulerNow | undefined, everyMs: number, now = Date.now()): { startDate?: number } {
  const oldEvery = Number(have?.every);
  if (!have || !Number.isFinite(oldEvery) || oldEvery <= 0 || oldEvery === everyMs || typeof have.next !== 'number') return {};
  // A due run (a new scheduler's first one, or one a worker took and whose next iteration BullMQ has not
  // added yet — a dead worker's among them): it runs now, as it would have.
  if (have.next <= now) return { startDate: now };
  return { startDate: Math.max(now, have.next - oldEvery + everyMs) };
}
