-- Category competition (issue 22.3; ingest/README.md "Category competition", models/README.md): how many
-- channels are live in a Twitch category and how many viewers they have, sampled every
-- INGEST_COMPETITION_SAMPLE_MINUTES from GET /helix/streams?game_id=… (ingest/competition/), or written
-- for the history by `spacehub backfill --competition` (source = 'backfill').
-- One row per (platform, category, sample time): sampled_at is the sampler's planned slot, so a retried or
-- replayed sample replaces its row (ReplacingMergeTree on version = when it was observed, ms).
-- complete = 0 when the sample's page cap stopped before the directory's last page (Helix lists the
-- biggest streams first: the missing channels are the smallest, live_channels is then a lower bound).
CREATE TABLE IF NOT EXISTS category_competition (
  platform LowCardinality(String),
  category_id String,
  category String,
  sampled_at DateTime('UTC'),
  live_channels UInt32,
  viewers UInt64,
  complete UInt8,
  source LowCardinality(String),
  version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(sampled_at)
ORDER BY (platform, category_id, sampled_at);
