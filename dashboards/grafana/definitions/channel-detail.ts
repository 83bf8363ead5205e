import { DashboardSpec, PanelSpec, sql } from '../dashboard-builder';

/** One channel, chosen by the platform and channel variables (values bound with Grafana's sqlstring format). */
const channel = 'platform = ${platform:sqlstring} AND channel_id = ${channel:sqlstring}';

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const HOURS = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'));

/**
 * Hour-of-week heat map as a coloured table: one row per weekday, one column per UTC hour, cells are
 * the average viewers of live minutes in that slot over the panel's last 28 days. (Grafana's heatmap
 * panel wants a time x-axis; a week of slots is not a time range.)
 */
const bestSlots: PanelSpec = {
  type: 'table',
  title: 'Best slots: average viewers by hour of week (UTC, last 28 days)',
  description: 'Average concurrent viewers of live minutes per weekday and UTC hour. Empty cells: never live in that slot.',
  w: 24,
  h: 9,
  timeFrom: '28d',
  decimals: 0,
  fieldConfig: { custom: { align: 'center', cellOptions: { type: 'color-background', mode: 'basic' } }, color: { mode: 'continuous-BlYlRd' } },
  overrides: [{ matcher: { id: 'byName', options: 'day' }, properties: [{ id: 'custom.cellOptions', value: { type: 'auto' } }, { id: 'custom.width', value: 60 }] }],
  options: { cellHeight: 'sm' },
  queries: [
    {
      sql: [
        `SELECT ${JSON.stringify(DAYS).replace(/"/g, "'")}[toDayOfWeek(window_start)] AS day,`,
        HOURS.map((h, i) => `       avgOrNullIf(avg_viewers, toHour(window_start) = ${i}) AS "${h}"`).join(',\n'),
        'FROM metrics_1m FINAL',
        `WHERE ${channel} AND live = 1 AND $__timeFilter(window_start)`,
        'GROUP BY toDayOfWeek(window_start) AS dow, day',
        'ORDER BY dow',
      ].join('\n'),
    },
  ],
};

export const channelDetail: DashboardSpec = {
  uid: 'spacehub-channel-detail',
  title: 'Space HUB — Channel detail',
  description: 'Viewers, chat, engagement, sessions and best streaming slots of one channel.',
  time: { from: 'now-7d', to: 'now' },
  refresh: '1m',
  variables: [
    { name: 'platform', label: 'Platform', sql: 'SELECT DISTINCT platform FROM metrics_1m ORDER BY platform' },
    { name: 'channel', label: 'Channel', sql: 'SELECT DISTINCT channel_id FROM metrics_1m WHERE platform = ${platform:sqlstring} ORDER BY channel_id' },
  ],
  panels: [
    {
      type: 'stat',
      title: 'Peak viewers',
      w: 4,
      h: 5,
      queries: [{ sql: sql`SELECT max(peak_viewers) AS peak FROM metrics_1m FINAL WHERE ${channel} AND $__timeFilter(window_start)` }],
    },
    {
      type: 'stat',
      title: 'Average viewers (live)',
      w: 4,
      h: 5,
      decimals: 0,
      queries: [{ sql: sql`SELECT avgIf(avg_viewers, live = 1) AS average FROM metrics_1m FINAL WHERE ${channel} AND $__timeFilter(window_start)` }],
    },
    {
      type: 'stat',
      title: 'Hours watched',
      w: 4,
      h: 5,
      decimals: 1,
      queries: [{ sql: sql`SELECT sum(viewer_minutes) / 60 AS hours FROM metrics_1m FINAL WHERE ${channel} AND $__timeFilter(window_start)` }],
    },
    {
      type: 'stat',
      title: 'Hours streamed',
      w: 4,
      h: 5,
      decimals: 1,
      queries: [{ sql: sql`SELECT countIf(live = 1) / 60 AS hours FROM metrics_1m FINAL WHERE ${channel} AND $__timeFilter(window_start)` }],
    },
    {
      type: 'stat',
      title: 'Followers',
      w: 4,
      h: 5,
      queries: [
        {
          format: 'timeseries',
          sql: sql`
            SELECT window_start AS time, followers
            FROM metrics_1m FINAL
            WHERE ${channel} AND followers IS NOT NULL AND $__timeFilter(window_start)
            ORDER BY time`,
        },
      ],
    },
    {
      type: 'stat',
      title: 'Chat messages',
      w: 4,
      h: 5,
      queries: [{ sql: sql`SELECT sum(chat_messages) AS messages FROM metrics_1m FINAL WHERE ${channel} AND $__timeFilter(window_start)` }],
    },
    {
      type: 'timeseries',
      title: 'Concurrent viewers (average, peak, minimum)',
      description: 'Per interval, over live minutes: mean of the 1-minute averages, highest peak, lowest minimum.',
      w: 24,
      h: 9,
      interval: '1m',
      decimals: 0,
      queries: [
        {
          format: 'timeseries',
          sql: sql`
            SELECT $__timeInterval(window_start) AS time,
                   avg(avg_viewers) AS average, max(peak_viewers) AS peak, min(min_viewers) AS minimum
            FROM metrics_1m FINAL
            WHERE ${channel} AND live = 1 AND $__timeFilter(window_start)
            GROUP BY time
            ORDER BY time`,
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Actual vs expected viewers',
      description: 'Actual average viewers against the "same time last week" baseline the models are evaluated against (models/README.md).',
      w: 12,
      h: 8,
      interval: '1m',
      decimals: 0,
      queries: [
        {
          format: 'timeseries',
          sql: sql`
            SELECT $__timeInterval(window_start) AS time, avg(avg_viewers) AS actual
            FROM metrics_1m FINAL
            WHERE ${channel} AND live = 1 AND $__timeFilter(window_start)
            GROUP BY time
            ORDER BY time`,
        },
        {
          format: 'timeseries',
          sql: sql`
            SELECT $__timeInterval(window_start + INTERVAL 7 DAY) AS time, avg(avg_viewers) AS "same time last week"
            FROM metrics_1m FINAL
            WHERE ${channel} AND live = 1 AND $__timeFilter(window_start + INTERVAL 7 DAY)
            GROUP BY time
            ORDER BY time`,
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Chat activity',
      description: 'Messages per interval; unique chatters of the busiest minute in the interval (chatters cannot be summed across minutes).',
      w: 12,
      h: 8,
      interval: '1m',
      queries: [
        {
          format: 'timeseries',
          sql: sql`
            SELECT $__timeInterval(window_start) AS time, sum(chat_messages) AS messages, max(unique_chatters) AS "unique chatters (busiest minute)"
            FROM metrics_1m FINAL
            WHERE ${channel} AND live = 1 AND $__timeFilter(window_start)
            GROUP BY time
            ORDER BY time`,
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Engagement rate',
      description: 'Viewer-weighted engagement rate of live minutes (definition: processors/README.md), with the chat sampling rate: below 1, YouTube chat was sampled by the quota planner and the engagement is computed from the sample (flagged, not scaled up).',
      w: 12,
      h: 8,
      interval: '1m',
      decimals: 3,
      queries: [
        {
          format: 'timeseries',
          sql: sql`
            SELECT $__timeInterval(window_start) AS time, sum(engagement_rate * avg_viewers) / sum(avg_viewers) AS engagement,
              min(chat_sampling_rate) AS chat_sampling_rate
            FROM metrics_1m FINAL
            WHERE ${channel} AND live = 1 AND avg_viewers > 0 AND $__timeFilter(window_start)
            GROUP BY time
            ORDER BY time`,
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Followers',
      w: 12,
      h: 8,
      interval: '1m',
      queries: [
        {
          format: 'timeseries',
          sql: sql`
            SELECT $__timeInterval(window_start) AS time, max(followers) AS follower_count
            FROM metrics_1m FINAL
            WHERE ${channel} AND followers IS NOT NULL AND $__timeFilter(window_start)
            GROUP BY time
            ORDER BY time`,
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Paid subscribers and points (Twitch)',
      description: 'Read with the follower counts when the connection has channel:read:subscriptions; empty for YouTube and for connections made before it was asked for (GET /v1/connections: needsReconnectFor).',
      w: 24,
      h: 8,
      interval: '1m',
      queries: [
        {
          format: 'timeseries',
          sql: sql`
            SELECT $__timeInterval(window_start) AS time, max(paid_subscribers) AS subscriber_count, max(subscription_points) AS points
            FROM metrics_1m FINAL
            WHERE ${channel} AND paid_subscribers IS NOT NULL AND $__timeFilter(window_start)
            GROUP BY time
            ORDER BY time`,
        },
      ],
    },
    {
      type: 'table',
      title: 'Sessions',
      description: 'Streams overlapping the time range, newest first.',
      w: 24,
      h: 9,
      queries: [
        {
          sql: sql`
            SELECT started_at, ended_at, status, title, category, duration_seconds AS duration,
                   peak_viewers, round(avg_viewers, 1) AS avg_viewers, round(hours_watched, 1) AS hours_watched,
                   followers_gained, paid_subscribers_gained, chat_messages
            FROM stream_sessions FINAL
            WHERE ${channel} AND (ended_at IS NULL OR ended_at >= $__fromTime_ms) AND started_at <= $__toTime_ms
            ORDER BY started_at DESC
            LIMIT 100`,
        },
      ],
      overrides: [{ matcher: { id: 'byName', options: 'duration' }, properties: [{ id: 'unit', value: 's' }] }],
    },
    bestSlots,
  ],
};
