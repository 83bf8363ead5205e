-- Hourly rollup of metrics_1m (issue 19): what the API's 1h and 1d series read for complete hours
-- (api/README.md, processors/README.md "Rollups"). Not a materialized view: an MV fires on every inserted
-- block, so a replayed window would be counted twice. Instead a writer (the processors' flush once an
-- hour of a channel is complete, the backfill for the hours it wrote) recomputes whole hours from the
-- de-duplicated metrics_1m rows and re-inserts them, keyed by (platform, channel_id, bucket_start):
-- ReplacingMergeTree keeps the newest. version = max(source window version) * 2048 + windows, so the
-- rollup of a newer (or larger) set of windows always wins, whatever order two writers finish in, and a
-- recomputation from the same windows rewrites the same values. Readers de-duplicate (LIMIT 1 BY).
--
-- The columns are the additive parts of the API's bucket aggregates, so hours combine into days
-- exactly: sums and counts, max/min, the last known follower count with its minute.
-- shared/clickhouse/rollups.ts owns the definitions. Runs on chDB and on clickhouse-server (24.8+).
CREATE TABLE IF NOT EXISTS metrics_1h_rollup (
  platform LowCardinality(String),
  channel_id String,
  bucket_start DateTime('UTC'),
  windows UInt32,
  live_windows UInt32,
  samples UInt64,
  sampled_windows UInt32,
  sum_avg_viewers Float64,
  peak_viewers UInt32,
  min_viewers Nullable(UInt32),
  viewer_minutes Float64,
  last_followers Nullable(UInt64),
  last_followers_at DateTime('UTC'),
  follower_delta Int64,
  chat_messages UInt64,
  max_unique_chatters UInt64,
  sum_engagement_rate Float64,
  source_version UInt64,
  version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYear(bucket_start)
ORDER BY (platform, channel_id, bucket_start)
-- 1024-row granules: a 30-day read of one channel (720 rows) touches one small granule, not 8192 rows.
SETTINGS index_granularity = 1024;
