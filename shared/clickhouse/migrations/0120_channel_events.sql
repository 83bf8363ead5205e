-- Pushed audience events (issue 18.2): follows, raids, subscriptions and cheers from the ChannelEvent
-- topic, landed unchanged by the processors' raw sink. event_id is the EventSub message id, and
-- occurred_at the platform's instant, so a redelivery or replay is the same sorting key and
-- ReplacingMergeTree collapses it; readers use FINAL (or LIMIT 1 BY event_id).
CREATE TABLE IF NOT EXISTS channel_events (
  event_id String,
  type LowCardinality(String),
  platform LowCardinality(String),
  channel_id String,
  user_id String,
  occurred_at DateTime64(3, 'UTC'),
  received_at DateTime64(3, 'UTC'),
  actor_id Nullable(String),
  actor_login Nullable(String),
  actor_name Nullable(String),
  viewers Nullable(UInt32),
  tier LowCardinality(Nullable(String)),
  gifted Nullable(UInt8),
  months Nullable(UInt16),
  count Nullable(UInt32),
  bits Nullable(UInt64)
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (platform, channel_id, occurred_at, event_id)
TTL toDateTime(occurred_at) + INTERVAL {{RAW_TTL_DAYS}} DAY;

-- Per channel and minute (the pipeline's window): follows, new subscriptions (a gift of N counts N),
-- resubscriptions, raids with their viewers, bits. A plain view over the de-duplicated rows, so a
-- replay never counts twice.
CREATE VIEW IF NOT EXISTS channel_events_1m AS
SELECT
  platform,
  channel_id,
  toStartOfMinute(occurred_at) AS window_start,
  countIf(type = 'follow') AS follows,
  countIf(type = 'subscribe') + sumIf(ifNull(count, 0), type = 'gift') AS subs,
  countIf(type = 'resubscribe') AS resubs,
  countIf(type = 'raid') AS raids,
  sumIf(ifNull(viewers, 0), type = 'raid') AS raid_viewers,
  sumIf(ifNull(bits, 0), type = 'cheer') AS bits
FROM channel_events FINAL
GROUP BY platform, channel_id, window_start;
