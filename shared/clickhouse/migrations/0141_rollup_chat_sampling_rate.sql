-- The hourly rollup keeps the lowest chat sampling rate of its hour's windows (migration 0140;
-- shared/clickhouse/rollups.ts), so the API's 1h/1d engagement figures are flagged as sampled as the
-- 1-minute ones are. Hours sealed before this column read 1 (their windows were not sampled either:
-- the column did not exist).
ALTER TABLE metrics_1h_rollup
  ADD COLUMN IF NOT EXISTS min_chat_sampling_rate Float64 DEFAULT 1 AFTER paid_subscriber_delta;
