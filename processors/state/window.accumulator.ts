import { Position, ProcessorEvent, WINDOW_MS } from './processor-event';

/**
 * One closed 1-minute window of one channel: the metrics, as defined here and in processors/README.md.
 *
 * - samples: live snapshots with a viewer count (distinct event ids) in the window.
 * - avgViewers / peakViewers / minViewers: mean / max / min of those samples' viewer counts (0 without samples).
 * - viewerMinutes: avgViewers × the window's length in minutes (1), so hours watched = Σ viewerMinutes / 60.
 * - followers: the latest follower count observed in the window, else the last one carried from the
 *   channel's recent windows (null if none is known); followerDelta: change against that carried count.
 * - paidSubscribers / subscriptionPoints (Twitch, issue 18.3): the same for the paid subscribers and
 *   points read with the follower counts (null, not 0, when never read: no scope, YouTube);
 *   paidSubscriberDelta: change against the carried total (0 when either is unknown).
 * - chatMessages: Σ messages of chat records whose last instant lies in the window; uniqueChatters: distinct
 *   pseudonymous chatter ids among them.
 * - chatSamplingRate: the lowest sampling rate among those chat records (1 = all of the chat was read;
 *   YouTube chat under the quota planner may be a sample). The chat figures and the engagement below are
 *   computed from what was read and flagged with this rate — never scaled up by it.
 * - engagementRate: uniqueChatters ÷ avgViewers (the share of the audience that chatted; 0 without viewers).
 * - messagesPerViewerMinute: chatMessages ÷ viewerMinutes (chat intensity; 0 without viewers).
 */
export interface ClosedWindow {
  platform: string;
  channelId: string;
  userId: string;
  windowStart: number;
  samples: number;
  avgViewers: number;
  peakViewers: number;
  minViewers: number;
  viewerMinutes: number;
  followers: number | null;
  followerDelta: number;
  chatMessages: number;
  uniqueChatters: number;
  engagementRate: number;
  messagesPerViewerMinute: number;
  live: boolean;
  streamId: string | null;
  /** Issue 18.3. Optional for windows built before it (a backfill, fixtures): absent means null / 0 / null. */
  paidSubscribers?: number | null;
  paidSubscriberDelta?: number;
  subscriptionPoints?: number | null;
  /** Issue 18 (quota planner). Optional for windows built before it: absent means 1 (not sampled). */
  chatSamplingRate?: number;
}

/** The paid-subscriber figures carried into a window from the channel's recent closed windows. */
export interface CarriedPaid {
  subscribers: number;
  points: number | null;
}

/** The open state of one window: sums that finalise into a ClosedWindow; duplicates by event id count once. */
export class WindowAccumulator {
  private readonly eventIds = new Set<string>();
  /** Per topic, the lowest offset that contributed: the commit may not pass it while the window is open. */
  readonly minOffsets = new Map<string, number>();
  private samples = 0;
  private viewerSum = 0;
  private peak = 0;
  private min = Number.POSITIVE_INFINITY;
  private live = false;
  private streamId: string | null = null;
  private streamIdAt = Number.NEGATIVE_INFINITY;
  private followers: number | null = null;
  private followersAt = Number.NEGATIVE_INFINITY;
  private paid: { subscribers: number; points: number | null; at: number } | null = null;
  private chatMessages = 0;
  private readonly chatters = new Set<string>();
  private chatSamplingRate = 1;
  /** False while only lifecycle events touched the window: such a window tracks offsets but emits no row. */
  hasMetrics = false;

  constructor(readonly platform: string, readonly channelId: string, public userId: string, readonly windowStart: number) {}

  /** Adds an event; false when its event id was already counted in this window (a duplicate). */
  add(e: ProcessorEvent, pos: Position): boolean {
    if (this.eventIds.has(e.eventId)) return false;
    this.eventIds.add(e.eventId);
    const prev = this.minOffsets.get(pos.topic);
    if (prev === undefined || pos.offset < prev) this.minOffsets.set(pos.topic, pos.offset);
    if (e.userId) this.userId = e.userId;
    switch (e.kind) {
      case 'snapshot':
        this.hasMetrics = true;
        if (e.live) {
          this.live = true;
          // Ties on event time keep the first seen, so the result does not depend on arrival order
          // beyond what Kafka's per-partition order fixes.
          if (e.streamId !== null && e.t > this.streamIdAt) {
            this.streamId = e.streamId;
            this.streamIdAt = e.t;
          }
          if (e.viewers !== null) {
            this.samples++;
            this.viewerSum += e.viewers;
            if (e.viewers > this.peak) this.peak = e.viewers;
            if (e.viewers < this.min) this.min = e.viewers;
          }
        }
        break;
      case 'followers':
        this.hasMetrics = true;
        if (e.t >= this.followersAt) {
          this.followers = e.followers;
          this.followersAt = e.t;
        }
        if (e.paidSubscribers !== null && (this.paid === null || e.t >= this.paid.at)) this.paid = { subscribers: e.paidSubscribers, points: e.subscriptionPoints, at: e.t };
        break;
      case 'chat':
        this.hasMetrics = true;
        this.chatMessages += e.messages;
        for (const id of e.chatterIds) this.chatters.add(id);
        this.chatSamplingRate = Math.min(this.chatSamplingRate, e.samplingRate ?? 1);
        break;
      case 'lifecycle':
        break;
    }
    return true;
  }

  /** `carriedFollowers`: the channel's last known count before this window; `sessionStreamId`: the open session, if any. */
  finalize(carriedFollowers: number | null, sessionStreamId: string | null, carriedPaid: CarriedPaid | null = null): ClosedWindow {
    const avgViewers = this.samples > 0 ? this.viewerSum / this.samples : 0;
    const viewerMinutes = avgViewers * (WINDOW_MS / 60_000);
    const followers = this.followers ?? carriedFollowers;
    const uniqueChatters = this.chatters.size;
    return {
      platform: this.platform,
      channelId: this.channelId,
      userId: this.userId,
      windowStart: this.windowStart,
      samples: this.samples,
      avgViewers,
      peakViewers: this.peak,
      minViewers: this.samples > 0 ? this.min : 0,
      viewerMinutes,
      followers,
      followerDelta: this.followers !== null && carriedFollowers !== null ? this.followers - carriedFollowers : 0,
      chatMessages: this.chatMessages,
      uniqueChatters,
      engagementRate: avgViewers > 0 ? uniqueChatters / avgViewers : 0,
      messagesPerViewerMinute: viewerMinutes > 0 ? this.chatMessages / viewerMinutes : 0,
      live: this.live,
      streamId: this.streamId ?? sessionStreamId,
      paidSubscribers: this.paid?.subscribers ?? carriedPaid?.subscribers ?? null,
      paidSubscriberDelta: this.paid !== null && carriedPaid !== null ? this.paid.subscribers - carriedPaid.subscribers : 0,
      subscriptionPoints: this.paid ? this.paid.points : carriedPaid?.points ?? null,
      chatSamplingRate: this.chatSamplingRate,
    };
  }
}
