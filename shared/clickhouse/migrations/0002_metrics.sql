-- Processor outputs (issue 5; processors/README.md explains every choice). Each table is keyed by what
-- identifies one result (channel + window, session, alert id, Kafka position) and versioned, so a replay
-- after a crash or rebalance re-inserts the same key and ReplacingMergeTree keeps one row: the effect is
-- exactly-once. Until a background merge has run, a table may hold a key twice; readers therefore use
-- the *_latest views below (GROUP BY key + argMax(…, version)), or `ORDER BY version DESC LIMIT 1 BY key`
-- — never a bare sum over the table — and need no FINAL.

-- One row per channel and closed 1-minute event-time window. Metric definitions: processors/README.md.
CREATE TABLE IF NOT EXISTS metrics_1m (
  platform LowCardinality(String),
  channel_id String,
  user_id String,
  window_start DateTime('UTC'),
  samples UInt32,
  avg_viewers Float64,
  peak_viewers UInt32,
  min_viewers UInt32,
  viewer_minutes Float64,
  followers Nullable(UInt64),
  follower_delta Int64,
  chat_messages UInt64,
  unique_chatters UInt64,
  engagement_rate Float64,
  messages_per_viewer_minute Float64 DEFAULT 0,
  live UInt8,
  stream_id Nullable(String),
  version UInt64,
  INDEX user_idx user_id TYPE bloom_filter GRANULARITY 4
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(window_start)
ORDER BY (platform, channel_id, window_start);

-- metrics_1m with one row per key whatever the merge state. Filters on platform/channel_id/user_id/
-- window_start are pushed below the GROUP BY, so a channel-and-range query reads only its granules.
CREATE VIEW IF NOT EXISTS metrics_1m_latest AS
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
  max(version) AS latest_version
FROM metrics_1m
GROUP BY platform, channel_id, window_start;

-- Cross-platform totals per creator and window: computed at query time from the deduplicated windows
-- (a creator's Twitch and YouTube channels live in different Kafka partitions, possibly in different
-- processor instances, so no single processor sees both). total_peak_viewers sums per-channel peaks
-- (an upper bound of the true simultaneous peak); total_unique_chatters sums per-platform counts
-- (chatter ids are platform-scoped, so nobody is counted twice on one platform).
CREATE VIEW IF NOT EXISTS creator_metrics_1m AS
SELECT
  user_id,
  window_start,
  toUInt16(count()) AS channels,
  toUInt16(countIf(live = 1)) AS live_channels,
  sum(avg_viewers) AS total_avg_viewers,
  toUInt32(sum(peak_viewers)) AS total_peak_viewers,
  sum(viewer_minutes) AS total_viewer_minutes,
  sum(chat_messages) AS total_chat_messages,
  sum(unique_chatters) AS total_unique_chatters,
  sum(follower_delta) AS total_follower_delta,
  if(sum(avg_viewers) > 0, sum(unique_chatters) / sum(avg_viewers), 0) AS engagement_rate,
  max(latest_version) AS version
FROM metrics_1m_latest
GROUP BY user_id, window_start;

-- Hourly and daily rollups, at query time over the deduplicated windows. Not materialized views: an MV
-- fires on every inserted block, so a replayed window would be added twice to a SummingMergeTree; with
-- at most 1,440 windows per channel and day the query-time rollup reads little (processors/README.md).
-- avg_viewers is the mean over windows with samples; hours_watched = Σ viewer_minutes / 60.
CREATE VIEW IF NOT EXISTS metrics_1h AS
SELECT
  platform, channel_id,
  any(m_user_id) AS user_id,
  toStartOfHour(m_window_start) AS bucket_start,
  count() AS windows,
  countIf(m_live = 1) AS live_windows,
  if(countIf(m_samples > 0) > 0, sumIf(m_avg_viewers, m_samples > 0) / countIf(m_samples > 0), 0) AS avg_viewers,
  max(m_peak_viewers) AS peak_viewers,
  minIf(m_min_viewers, m_samples > 0) AS min_viewers,
  sum(m_viewer_minutes) AS viewer_minutes,
  sum(m_viewer_minutes) / 60 AS hours_watched,
  argMaxIf(m_followers, m_window_start, isNotNull(m_followers)) AS followers,
  sum(m_follower_delta) AS follower_delta,
  sum(m_chat_messages) AS chat_messages,
  max(m_unique_chatters) AS max_unique_chatters_1m
FROM (
  -- renamed, so the aggregates' aliases below never shadow the columns they aggregate
  SELECT platform, channel_id, user_id AS m_user_id, window_start AS m_window_start, live AS m_live, samples AS m_samples,
         avg_viewers AS m_avg_viewers, peak_viewers AS m_peak_viewers, min_viewers AS m_min_viewers, viewer_minutes AS m_viewer_minutes,
         followers AS m_followers, follower_delta AS m_follower_delta, chat_messages AS m_chat_messages, unique_chatters AS m_unique_chatters
  FROM metrics_1m_latest
)
GROUP BY platform, channel_id, bucket_start;

CREATE VIEW IF NOT EXISTS metrics_1d AS
SELECT
  platform, channel_id,
  any(m_user_id) AS user_id,
  toStartOfDay(m_window_start) AS bucket_start,
  count() AS windows,
  countIf(m_live = 1) AS live_windows,
  if(countIf(m_samples > 0) > 0, sumIf(m_avg_viewers, m_samples > 0) / countIf(m_samples > 0), 0) AS avg_viewers,
  max(m_peak_viewers) AS peak_viewers,
  minIf(m_min_viewers, m_samples > 0) AS min_viewers,
  sum(m_viewer_minutes) AS viewer_minutes,
  sum(m_viewer_minutes) / 60 AS hours_watched,
  argMaxIf(m_followers, m_window_start, isNotNull(m_followers)) AS followers,
  sum(m_follower_delta) AS follower_delta,
  sum(m_chat_messages) AS chat_messages,
  max(m_unique_chatters) AS max_unique_chatters_1m
FROM (
  -- renamed, so the aggregates' aliases below never shadow the columns they aggregate
  SELECT platform, channel_id, user_id AS m_user_id, window_start AS m_window_start, live AS m_live, samples AS m_samples,
         avg_viewers AS m_avg_viewers, peak_viewers AS m_peak_viewers, min_viewers AS m_min_viewers, viewer_minutes AS m_viewer_minutes,
         followers AS m_followers, follower_delta AS m_follower_delta, chat_messages AS m_chat_messages, unique_chatters AS m_unique_chatters
  FROM metrics_1m_latest
)
GROUP BY platform, channel_id, bucket_start;

-- Stream sessions: a `live` row when a stream starts, replaced by the `ended` row with the summary
-- (computed from metrics_1m once the session's last window closed). The newest version wins.
CREATE TABLE IF NOT EXISTS stream_sessions (
  platform LowCardinality(String),
  channel_id String,
  user_id String,
  stream_id String,
  started_at DateTime64(3, 'UTC'),
  ended_at Nullable(DateTime64(3, 'UTC')),
  duration_seconds UInt32,
  peak_viewers UInt32,
  avg_viewers Float64,
  hours_watched Float64,
  followers_gained Int64,
  chat_messages UInt64,
  title Nullable(String),
  category LowCardinality(Nullable(String)),
  status LowCardinality(String),        -- live | ended
  version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(started_at)
ORDER BY (platform, channel_id, stream_id);

CREATE VIEW IF NOT EXISTS stream_sessions_latest AS
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
  max(version) AS latest_version
FROM stream_sessions
GROUP BY platform, channel_id, stream_id;

-- Alerts, also produced to the alerts topic. alert_id is deterministic (type, channel, stream/window/
-- threshold) and occurred_at is event time, so a replay re-inserts the same key.
CREATE TABLE IF NOT EXISTS alerts (
  alert_id String,
  type LowCardinality(String),
  user_id String,
  platform LowCardinality(String),
  channel_id String,
  occurred_at DateTime64(3, 'UTC'),
  severity LowCardinality(String),
  message String,
  details String,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (user_id, occurred_at, alert_id);

-- Events older than the watermark allows: counted and kept, never silently dropped. Keyed by their
-- Kafka position, so a replay does not add them twice.
CREATE TABLE IF NOT EXISTS late_events (
  topic LowCardinality(String),
  kafka_partition UInt16,
  kafka_offset UInt64,
  platform LowCardinality(String),
  channel_id String,
  event_id String,
  event_time DateTime64(3, 'UTC'),
  watermark DateTime64(3, 'UTC'),
  received_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(event_time)
ORDER BY (topic, kafka_partition, kafka_offset)
TTL toDateTime(received_at) + INTERVAL {{RAW_TTL_DAYS}} DAY;
