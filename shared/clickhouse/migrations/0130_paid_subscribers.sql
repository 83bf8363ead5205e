-- Twitch paid subscribers and subscription points beside followers (issue 18.3; processors/README.md
-- "Metrics"). Read in the followers poll when the grant has channel:read:subscriptions; NULL (not 0)
-- where they were not read (no scope, YouTube), so a reader can tell "unknown" from "none".
-- metrics_1m: the total at the window's end (latest observed, else carried), its change in the window,
-- and the points. stream_sessions: subscribers gained over the session's windows (NULL when no window
-- knew the total). metrics_1h_rollup: the additive parts (shared/clickhouse/rollups.ts).
-- The *_latest views are recreated with the new columns (a view's columns are fixed when it is made).
-- Engineer note: later migrations that recreate metrics_1m_latest or stream_sessions_latest must keep
-- these columns.
ALTER TABLE metrics_1m
  ADD COLUMN IF NOT EXISTS paid_subscribers Nullable(UInt64) AFTER follower_delta,
  ADD COLUMN IF NOT EXISTS paid_subscriber_delta Int64 DEFAULT 0 AFTER paid_subscribers,
  ADD COLUMN IF NOT EXISTS subscription_points Nullable(UInt64) AFTER paid_subscriber_delta;

CREATE OR REPLACE VIEW metrics_1m_latest AS
SELECT
  platform, channel_id, window_start,
  argMax(user_id, version) AS user_id,
  argMax(samples, version) AS samples,
  argMax(avg_viewers, version) AS avg_viewers,
  argMax(peak_viewers, version) AS peak_viewers,
  argMax(min_viewers, version) AS min_viewers,
  argMax(viewer_minutes, version) AS viewer_minutes,
  argMax(followers, version) AS followers,
  argMax(follower_delta, version) AS follower_delta,
  argMax(chat_messages, version) AS chat_messages,
  argMax(unique_chatters, version) AS unique_chatters,
  argMax(engagement_rate, version) AS engagement_rate,
  argMax(messages_per_viewer_minute, version) AS messages_per_viewer_minute,
  argMax(live, version) AS live,
  argMax(stream_id, version) AS stream_id,
  argMax(paid_subscribers, version) AS paid_subscribers,
  argMax(paid_subscriber_delta, version) AS paid_subscriber_delta,
  argMax(subscription_points, version) AS subscription_points,
  max(version) AS latest_version
FROM metrics_1m
GROUP BY platform, channel_id, window_start;

ALTER TABLE stream_sessions
  ADD COLUMN IF NOT EXISTS paid_subscribers_gained Nullable(Int64) AFTER followers_gained;

CREATE OR REPLACE VIEW stream_sessions_latest AS
SELECT
  platform, channel_id, stream_id,
  argMax(user_id, version) AS user_id,
  argMax(started_at, version) AS started_at,
  argMax(ended_at, version) AS ended_at,
  argMax(duration_seconds, version) AS duration_seconds,
  argMax(peak_viewers, version) AS peak_viewers,
  argMax(avg_viewers, version) AS avg_viewers,
  argMax(hours_watched, version) AS hours_watched,
  argMax(followers_gained, version) AS followers_gained,
  argMax(chat_messages, version) AS chat_messages,
  argMax(title, version) AS title,
  argMax(category, version) AS category,
  argMax(status, version) AS status,
  argMax(paid_subscribers_gained, version) AS paid_subscribers_gained,
  max(version) AS latest_version
FROM stream_sessions
GROUP BY platform, channel_id, stream_id;

ALTER TABLE metrics_1h_rollup
  ADD COLUMN IF NOT EXISTS last_paid_subscribers Nullable(UInt64) AFTER follower_delta,
  ADD COLUMN IF NOT EXISTS last_paid_subscribers_at DateTime('UTC') DEFAULT 0 AFTER last_paid_subscribers,
  ADD COLUMN IF NOT EXISTS last_subscription_points Nullable(UInt64) AFTER last_paid_subscribers_at,
  ADD COLUMN IF NOT EXISTS paid_subscriber_windows UInt32 DEFAULT 0 AFTER last_subscription_points,
  ADD COLUMN IF NOT EXISTS paid_subscriber_delta Int64 DEFAULT 0 AFTER paid_subscriber_windows;
