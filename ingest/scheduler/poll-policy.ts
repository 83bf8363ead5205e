import type { Config } from '../../shared/config/config';
import type { Resource } from '../jobs/ingest-job';

/** YouTube's documented cost of one liveChatMessages.list call, in quota units. */
export const YOUTUBE_CHAT_UNITS_PER_CALL = 5;
const DAY_MS = 86_400_000;

export type PollPolicyConfig = Pick<
  Config,
  'INGEST_LIVE_POLL_SECONDS' | 'INGEST_OFFLINE_POLL_SECONDS' | 'INGEST_FOLLOWERS_POLL_SECONDS' | 'INGEST_CHAT_MIN_POLL_MS' | 'YOUTUBE_DAILY_QUOTA_UNITS' | 'INGEST_YOUTUBE_CHAT_QUOTA_SHARE'
>;

/**
 * How often each resource is polled. Pure, so the schedule is testable without Redis:
 * - snapshot: fast while live, slow while offline (a live stream is what people watch);
 * - followers: a fixed slower cadence (totals move slowly);
 * - chat: only while live, never faster than the platform asks (YouTube `pollingIntervalMillis`) nor
 *   than the YouTube daily quota allows when shared by every live YouTube chat we poll.
 */
export class PollPolicy {
  constructor(private readonly c: PollPolicyConfig) {}

  snapshotEveryMs(live: boolean): number {
    return 1000 * (live ? this.c.INGEST_LIVE_POLL_SECONDS : this.c.INGEST_OFFLINE_POLL_SECONDS);
  }

  /** The fastest chat cadence we ever poll at (INGEST_CHAT_MIN_POLL_MS): chat's "full rate". */
  chatMinMs(): number {
    return this.c.INGEST_CHAT_MIN_POLL_MS;
  }

  followersEveryMs(): number {
    return 1000 * this.c.INGEST_FOLLOWERS_POLL_SECONDS;
  }

  /**
   * The smallest chat interval that keeps `liveYouTubeChats` pollers inside the share of the daily
   * quota given to chat: calls/day = budget / 5 units, shared by all live chats.
   */
  youtubeChatQuotaFloorMs(liveYouTubeChats: number): number {
    const budgetUnits = this.c.YOUTUBE_DAILY_QUOTA_UNITS * Math.min(1, Math.max(0, this.c.INGEST_YOUTUBE_CHAT_QUOTA_SHARE));
    if (budgetUnits <= 0) return DAY_MS;
    const callsPerDay = budgetUnits / YOUTUBE_CHAT_UNITS_PER_CALL;
    return Math.ceil((DAY_MS * Math.max(1, liveYouTubeChats)) / callsPerDay);
  }

  chatEveryMs(platform: string, platformNextPollMs: number | null, liveYouTubeChats: number): number {
    let every = Math.max(this.c.INGEST_CHAT_MIN_POLL_MS, platformNextPollMs ?? 0);
    if (platform === 'youtube') every = Math.max(every, this.youtubeChatQuotaFloorMs(liveYouTubeChats));
    return every;
  }

  /** The interval a resource starts with; `live` is the last known state of the channel. */
  initialEveryMs(resource: Resource, platform: string, live: boolean, liveYouTubeChats: number): number {
    if (resource === 'snapshot') return this.snapshotEveryMs(live);
    if (resource === 'followers') return this.followersEveryMs();
    return this.chatEveryMs(platform, null, liveYouTubeChats);
  }

  /**
   * Re-scheduling churns Redis and resets the slot alignment, so the chat interval is only changed
   * when the new value differs by more than 20 % from the current one.
   */
  static worthRescheduling(currentMs: number, nextMs: number): boolean {
    return Math.abs(nextMs - currentMs) > 0.2 * currentMs;
  }
}
