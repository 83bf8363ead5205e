import type { CompetitionSeries } from './competition.feature';

/**
 * What the models know about a channel: its ended sessions and its hourly live viewers, read from
 * ClickHouse (stream_sessions, metrics_1m) by history.repository.ts. Times are epoch milliseconds, UTC.
 */
export interface SessionRecord {
  streamId: string;
  startedAt: number;
  endedAt: number;
  avgViewers: number;
  peakViewers: number;
  category: string | null;
}

/** One UTC hour of metrics_1m rows while live: the mean of the minutes' avg_viewers. */
export interface HourRecord {
  hourStart: number;
  viewers: number;
  liveMinutes: number;
  followers: number | null;
}

export interface ChannelHistory {
  platform: string;
  channelId: string;
  /** Sorted by startedAt. */
  sessions: SessionRecord[];
  /** Sorted by hourStart. */
  hours: HourRecord[];
  /**
   * Category competition samples of the channel's platform by category name, each oldest first
   * (category_competition, issue 22.3; competition.feature.ts). Absent or empty: no competition feature.
   */
  competition?: ReadonlyMap<string, CompetitionSeries>;
}

export interface ChannelRef {
  platform: string;
  channelId: string;
}

/** "twitch:123": the one spelling (shared/kafka/topics.ts), for a channel given as an object. */
export { channelKeyOf as channelKey } from '../shared/kafka/topics';

/** "twitch:123" → { platform, channelId }; a bare id matches the channel on any platform. */
export function parseChannelArg(arg: string): { platform?: string; channelId: string } {
  const m = /^(twitch|youtube):(.+)$/.exec(arg.trim());
  return m ? { platform: m[1]!, channelId: m[2]! } : { channelId: arg.trim() };
}
