-- The share of the chat that engagement figures were computed from (issue 18, YouTube quota planner;
-- processors/README.md "Metrics"). YouTube chat is read at the interval the quota planner can afford
-- (liveChatMessages.list costs 5 units), so a window's chat figures may come from a sample: each chat
-- record carries its source's sampling rate (ChatActivity.samplingRate), and a window keeps the lowest
-- rate among its chat records — 1 = all of the chat (Twitch EventSub, YouTube at full rate, or no chat).
-- Figures are flagged with it, never scaled up.
-- metrics_1m_latest is recreated with the column (a view's columns are fixed when it is made), keeping
-- the paid-subscriber columns of 0130. Later migrations that recreate it must keep both.
ALTER TABLE metrics_1m
  ADD COLUMN IF NOT EXISTS chat_sampling_rate Float64 DEFAULT 1 AFTER messages_per_viewer_minute;

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
  argMax(chat_sampling_rate, version) AS chat_sampling_rate,
  max(version) AS latest_version
FROM metrics_1m
GROUP BY platform, channel_id, window_start;
