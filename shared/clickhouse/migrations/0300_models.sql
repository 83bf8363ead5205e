-- Model training runs (issue 8, models/). One row per `spacehub train` run and model: what was
-- trained on which data with which parameters, how it scored against the baselines of the same run,
-- and where its artifact lives. Failed runs are recorded too (status = 'failed', error set), so a
-- scheduled retraining that keeps failing is visible. Metrics are a Map so a model can add figures
-- without a migration; `params` is the JSON of the run's options.

CREATE TABLE IF NOT EXISTS model_runs (
  run_id String,
  model LowCardinality(String),          -- viewers | timing
  version String,                        -- artifact version under MODELS_DIR/<model>/<version>; '' when failed
  status LowCardinality(String),         -- succeeded | failed
  trigger LowCardinality(String),        -- cli | schedule | test
  backend LowCardinality(String),        -- tensorflow | wasm | cpu
  seed Int64,
  params String,
  metrics Map(String, Float64),
  data_from Nullable(DateTime64(3, 'UTC')),
  data_to Nullable(DateTime64(3, 'UTC')),
  holdout_from Nullable(DateTime64(3, 'UTC')),
  channels UInt32,
  train_samples UInt32,
  holdout_samples UInt32,
  started_at DateTime64(3, 'UTC'),
  finished_at DateTime64(3, 'UTC'),
  duration_ms UInt64,
  artifact_path String,
  error String
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(started_at)
ORDER BY (model, started_at, run_id);
