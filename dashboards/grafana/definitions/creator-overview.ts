import { DashboardSpec, sql } from '../dashboard-builder';

/**
 * One creator across platforms. Processor tables are ReplacingMergeTree keyed by window/session/alert:
 * every query reads them with FINAL, so a replayed window is counted once. Cross-platform totals are
 * summed per window from the deduplicated channel windows at query time (as the processors' own
 * creator view does), which stays correct whether creator_metrics_1m is a table or a view.
 */
const user = 'user_id = ${user:sqlstring}';

/** Per-window totals over the creator's channels. */
const creatorWindows = sql`
  SELECT window_start, sum(avg_viewers) AS total_avg_viewers, sum(peak_viewers) AS total_peak_viewers,
         sum(viewer_minutes) AS total_viewer_minutes
  FROM metrics_1m FINAL
  WHERE ${user} AND $__timeFilter(window_start)
  GROUP BY window_start`;
const indent = (text: string, n: number) => text.split('\n').join(`\n${' '.repeat(n)}`);

export const creatorOverview: DashboardSpec = {
  uid: 'spacehub-creator-overview',
  title: 'Space HUB — Creator overview',
  description: 'Live status, cross-platform viewers, followers, hours watched, engagement, sessions and alerts of one creator.',
  time: { from: 'now-24h', to: 'now' },
  refresh: '1m',
  variables: [{ name: 'user', label: 'Creator', sql: 'SELECT DISTINCT user_id FROM metrics_1m ORDER BY user_id' }],
  panels: [
    {
      type: 'table',
      title: 'Live status per channel',
      description: 'State of each connected channel in its newest closed 1-minute window.',
      w: 10,
      h: 7,
      queries: [
        {
          sql: sql`
            SELECT platform, channel_id AS channel,
                   if(argMax(live, window_start) = 1, 'LIVE', 'offline') AS status,
                   round(argMax(avg_viewers, window_start)) AS viewers,
                   max(window_start) AS last_window
            FROM metrics_1m FINAL
            WHERE ${user} AND $__timeFilter(window_start)
            GROUP BY platform, channel_id
            ORDER BY platform, channel`,
        },
      ],
      overrides: [
        {
          matcher: { id: 'byName', options: 'status' },
          properties: [
            { id: 'custom.cellOptions', value: { type: 'color-text' } },
            { id: 'mappings', value: [{ type: 'value', options: { LIVE: { color: 'red', index: 0 }, offline: { color: 'text', index: 1 } } }] },
          ],
        },
      ],
    },
    {
      type: 'stat',
      title: 'Cross-platform viewers now',
      description: 'Average concurrent viewers over all channels in the newest window.',
      w: 4,
      h: 7,
      interval: '1m',
      decimals: 0,
      queries: [
        {
          format: 'timeseries',
          sql: sql`
            SELECT window_start AS time, total_avg_viewers AS viewers
            FROM (
              ${indent(creatorWindows, 14)}
            )
            ORDER BY time`,
        },
      ],
    },
    {
      type: 'stat',
      title: 'Peak viewers',
      description: 'Highest cross-platform concurrent viewers in the time range.',
      w: 3,
      h: 7,
      decimals: 0,
      queries: [{ sql: sql`SELECT max(total_peak_viewers) AS peak FROM (${creatorWindows})` }],
    },
    {
      type: 'stat',
      title: 'Hours watched',
      description: 'Viewer-minutes over all channels in the time range, in hours.',
      w: 4,
      h: 7,
      decimals: 1,
      queries: [{ sql: sql`SELECT sum(viewer_minutes) / 60 AS hours FROM metrics_1m FINAL WHERE ${user} AND $__timeFilter(window_start)` }],
    },
    {
      type: 'stat',
      title: 'Followers gained',
      description: 'Follower/subscriber delta over all channels in the time range.',
      w: 3,
      h: 7,
      queries: [{ sql: sql`SELECT sum(follower_delta) AS gained FROM metrics_1m FINAL WHERE ${user} AND $__timeFilter(window_start)` }],
    },
    {
      type: 'timeseries',
      title: 'Concurrent viewers by platform',
      description: 'Per platform: average concurrent viewers summed over that platform\'s channels; "all platforms" is the creator total.',
      w: 16,
      h: 9,
      interval: '1m',
      decimals: 0,
      queries: [
        {
          format: 'timeseries',
          sql: sql`
            SELECT time, platform, avg(viewers) AS viewers
            FROM (
              SELECT $__timeInterval(window_start) AS time, platform, window_start, sum(avg_viewers) AS viewers
              FROM metrics_1m FINAL
              WHERE ${user} AND $__timeFilter(window_start)
              GROUP BY time, platform, window_start
            )
            GROUP BY time, platform
            ORDER BY time`,
        },
        {
          format: 'timeseries',
          sql: sql`
            SELECT $__timeInterval(window_start) AS time, avg(total_avg_viewers) AS "all platforms"
            FROM (
              ${indent(creatorWindows, 14)}
            )
            GROUP BY time
            ORDER BY time`,
        },
      ],
    },
    {
      type: 'table',
      title: 'Followers per channel',
      description: 'Newest follower/subscriber count and the change within the time range.',
      w: 8,
      h: 9,
      queries: [
        {
          sql: sql`
            SELECT platform, channel_id AS channel,
                   argMaxIf(followers, window_start, followers IS NOT NULL) AS followers,
                   sum(follower_delta) AS gained
            FROM metrics_1m FINAL
            WHERE ${user} AND $__timeFilter(window_start)
            GROUP BY platform, channel_id
            ORDER BY followers DESC`,
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Follower growth',
      description: 'New followers/subscribers per interval and platform.',
      w: 12,
      h: 8,
      interval: '1m',
      options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true } },
      fieldConfig: { custom: { drawStyle: 'bars', fillOpacity: 60 } },
      queries: [
        {
          format: 'timeseries',
          sql: sql`
            SELECT $__timeInterval(window_start) AS time, platform, sum(follower_delta) AS followers
            FROM metrics_1m FINAL
            WHERE ${user} AND $__timeFilter(window_start)
            GROUP BY time, platform
            ORDER BY time`,
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Engagement rate',
      description: 'Engagement rate while live, weighted by viewers, per platform (definition: processors/README.md).',
      w: 12,
      h: 8,
      interval: '1m',
      decimals: 3,
      queries: [
        {
          format: 'timeseries',
          sql: sql`
            SELECT $__timeInterval(window_start) AS time, platform,
                   sum(engagement_rate * avg_viewers) / sum(avg_viewers) AS engagement
            FROM metrics_1m FINAL
            WHERE ${user} AND live = 1 AND avg_viewers > 0 AND $__timeFilter(window_start)
            GROUP BY time, platform
            ORDER BY time`,
        },
      ],
    },
    {
      type: 'table',
      title: 'Recent sessions',
      description: 'Streams overlapping the time range, newest first.',
      w: 24,
      h: 9,
      queries: [
        {
          sql: sql`
            SELECT started_at, ended_at, platform, channel_id AS channel, status, title, category,
                   duration_seconds AS duration, peak_viewers, round(avg_viewers, 1) AS avg_viewers,
                   round(hours_watched, 1) AS hours_watched, followers_gained, paid_subscribers_gained, chat_messages
            FROM stream_sessions FINAL
            WHERE ${user} AND (ended_at IS NULL OR ended_at >= $__fromTime_ms) AND started_at <= $__toTime_ms
            ORDER BY started_at DESC
            LIMIT 50`,
        },
      ],
      overrides: [{ matcher: { id: 'byName', options: 'duration' }, properties: [{ id: 'unit', value: 's' }] }],
    },
    {
      type: 'table',
      title: 'Alerts',
      description: 'Stream start/end, viewer spikes, follower milestones, engagement drops and re-authorisation requests.',
      w: 24,
      h: 8,
      queries: [
        {
          sql: sql`
            SELECT occurred_at AS time, severity, type, platform, channel_id AS channel, message
            FROM alerts FINAL
            WHERE ${user} AND $__timeFilter_ms(occurred_at)
            ORDER BY occurred_at DESC
            LIMIT 100`,
        },
      ],
    },
  ],
};
