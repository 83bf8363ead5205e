-- Pushed audience events per stream session (issue 18.2): follows, new subscriptions (a gift of N counts
-- N), resubscriptions, raids with their viewers and bits between a session's start and its end (or now,
-- while live). A plain view over de-duplicated rows: an equality join on the channel, the session's
-- interval as a filter (runs on chDB and on clickhouse-server 24.8+). Read it for one channel.
CREATE VIEW IF NOT EXISTS session_channel_events AS
SELECT
  s.platform AS platform,
  s.channel_id AS channel_id,
  s.stream_id AS stream_id,
  countIf(e.type = 'follow') AS follows,
  countIf(e.type = 'subscribe') + sumIf(ifNull(e.count, 0), e.type = 'gift') AS subs,
  countIf(e.type = 'resubscribe') AS resubs,
  countIf(e.type = 'raid') AS raids,
  sumIf(ifNull(e.viewers, 0), e.type = 'raid') AS raid_viewers,
  sumIf(ifNull(e.bits, 0), e.type = 'cheer') AS bits
FROM stream_sessions_latest AS s
INNER JOIN (SELECT * FROM channel_events FINAL) AS e ON e.platform = s.platform AND e.channel_id = s.channel_id
WHERE e.occurred_at >= s.started_at AND (s.ended_at IS NULL OR e.occurred_at < s.ended_at)
GROUP BY s.platform, s.channel_id, s.stream_id;
