-- Processor outputs (issue 5). Each is keyed by what identifies one result (channel + window, session,
-- alert id) and versioned, so a replay after a crash or rebalance re-inserts the same key and
-- ReplacingMergeTree keeps exactly one row: the effect is exactly-once. Readers that need exact numbers
-- before a merge use `LIMIT 1 BY <key>` on `ORDER BY version DESC` or `FINAL` (see processors/README.md).

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
  live UInt8,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(window_start)
ORDER BY (platform, channel_id, window_start);

-- Cross-platform totals per creator and window (summed over the creator's channels).
CREATE TABLE IF NOT EXISTS creator_metrics_1m (
  user_id String,
  window_start DateTime('UTC'),
  channels UInt16,
  live_channels UInt16,
  total_avg_viewers Float64,
  total_peak_viewers UInt32,
  total_viewer_minutes Float64,
  total_chat_messages UInt64,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(window_start)
ORDER BY (user_id, window_start);

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

-- Events older than the watermark allows: counted and kept, never silently dropped.
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
