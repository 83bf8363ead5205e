-- Raw facts as they arrive from Kafka. Replays insert the same event_id again; ReplacingMergeTree
-- collapses them on merge, and readers that need exact counts use uniqExact(event_id) or LIMIT 1 BY.

CREATE TABLE IF NOT EXISTS heartbeats (
  event_id String,
  source LowCardinality(String),
  emitted_at DateTime64(3, 'UTC'),
  sequence UInt64,
  received_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(emitted_at)
ORDER BY (source, emitted_at, event_id)
TTL toDateTime(emitted_at) + INTERVAL 7 DAY;

CREATE TABLE IF NOT EXISTS snapshots_raw (
  event_id String,
  platform LowCardinality(String),
  channel_id String,
  user_id String,
  observed_at DateTime64(3, 'UTC'),
  live UInt8,
  viewers Nullable(UInt32),
  stream_id Nullable(String),
  started_at Nullable(DateTime64(3, 'UTC')),
  title Nullable(String),
  category LowCardinality(Nullable(String)),
  language LowCardinality(Nullable(String)),
  source LowCardinality(String),
  kafka_partition UInt16,
  kafka_offset UInt64
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(observed_at)
ORDER BY (platform, channel_id, observed_at, event_id)
TTL toDateTime(observed_at) + INTERVAL {{RAW_TTL_DAYS}} DAY;
