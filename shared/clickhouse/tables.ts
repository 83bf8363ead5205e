/**
 * The processors' ClickHouse tables as rows (shared/clickhouse/migrations/0002_metrics.sql): the one
 * definition that every writer (processors, the backfill) and reader (API, models) uses, and the one
 * way to write an instant into a DateTime / DateTime64(3) column.
 */

/** An epoch-ms instant as ClickHouse DateTime64(3) text in UTC ("2026-12-01 18:00:00.000"). */
export const chDateTime64 = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** An epoch-ms instant as ClickHouse DateTime text in UTC, to the second ("2026-12-01 18:00:00"). */
export const chDateTime = (ms: number): string => chDateTime64(ms).slice(0, 19);

/** The epoch ms of DateTime / DateTime64 text in UTC (either of the above), e.g. read back from rows written with them. */
export const parseChDateTime = (text: string): number => Date.parse(`${text.replace(' ', 'T')}Z`);

/** A row of metrics_1m, as written (one closed 1-minute window of one channel). */
export interface MetricsWindowRecord {
  platform: string;
  channel_id: string;
  user_id: string;
  window_start: string;
  samples: number;
  avg_viewers: number;
  peak_viewers: number;
  min_viewers: number;
  viewer_minutes: number;
  followers: number | null;
  follower_delta: number;
  chat_messages: number;
  unique_chatters: number;
  engagement_rate: number;
  messages_per_viewer_minute: number;
  live: number;
  stream_id: string | null;
  version: number;
  /** Twitch paid subscribers (issue 18.3, migration 0130); omitted = NULL / 0 / NULL (not read). */
  paid_subscribers?: number | null;
  paid_subscriber_delta?: number;
  subscription_points?: number | null;
  /** Lowest chat sampling rate of the window's chat records (issue 18, migration 0140); omitted = 1 (all chat read). */
  chat_sampling_rate?: number;
}

/** A row of stream_sessions, as stored (`live` while it runs, `ended` with the final summary). */
export interface StreamSessionRecord {
  platform: string;
  channel_id: string;
  user_id: string;
  stream_id: string;
  started_at: string;
  ended_at: string | null;
  duration_seconds: number;
  peak_viewers: number;
  avg_viewers: number;
  hours_watched: number;
  followers_gained: number;
  /** Σ paid_subscriber_delta over the session's windows; NULL when none of them knew the total (issue 18.3). */
  paid_subscribers_gained?: number | null;
  chat_messages: number;
  title: string | null;
  category: string | null;
  status: string;
  version: number;
}

/**
 * The `*_latest` views: one row per key of a ReplacingMergeTree table whatever its merge state, every
 * other column at its newest `version` (argMax), and `latest_version`. Generated from the table's own
 * columns (shared/clickhouse/latest-views.ts) and re-created by the migration runner whenever a
 * migration changed those columns, so a migration that adds a column writes only its ALTER TABLE.
 */
export interface LatestView {
  view: string;
  table: string;
  /** The table's sorting key (its ReplacingMergeTree key): the view's GROUP BY. */
  key: readonly string[];
}

export const LATEST_VIEWS: readonly LatestView[] = [
  { view: 'metrics_1m_latest', table: 'metrics_1m', key: ['platform', 'channel_id', 'window_start'] },
  { view: 'stream_sessions_latest', table: 'stream_sessions', key: ['platform', 'channel_id', 'stream_id'] },
];
