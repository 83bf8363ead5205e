import { DashboardSpec, sql } from '../dashboard-builder';

/**
 * The pipeline as seen from ClickHouse: what landed per topic, how late, how fast. Consumer lag, DLQ
 * size and ingest failures are process metrics, not rows — they come from each service's Prometheus
 * endpoint (see dashboards/README.md) and are deliberately not faked from ClickHouse here.
 */
export const pipelineHealth: DashboardSpec = {
  uid: 'spacehub-pipeline-health',
  title: 'Space HUB — Pipeline health',
  description: 'Events landed per topic, end-to-end latency, late events, freshness of processor output and model runs.',
  time: { from: 'now-6h', to: 'now' },
  refresh: '30s',
  panels: [
    {
      type: 'timeseries',
      title: 'Events landed per second, by topic',
      description: 'Distinct events per second that reached ClickHouse (replays counted once), by the event time of each record.',
      w: 16,
      h: 9,
      interval: '1m',
      unit: 'reqps',
      queries: [
        {
          format: 'timeseries',
          // The rate's divisor comes last so that no "(" follows the zero-argument $__interval_s macro
          // (plugin ≤ 4.18 would swallow up to the next parenthesised group — see macros.ts).
          sql: sql`
            WITH landed AS (
              SELECT $__timeInterval(observed_at) AS time, 'snapshots' AS topic, uniqExact(event_id) AS n
              FROM snapshots_raw WHERE $__timeFilter_ms(observed_at) GROUP BY time
              UNION ALL
              SELECT $__timeInterval(emitted_at) AS time, 'heartbeats' AS topic, uniqExact(event_id) AS n
              FROM heartbeats WHERE $__timeFilter_ms(emitted_at) GROUP BY time
              UNION ALL
              SELECT $__timeInterval(window_start) AS time, 'windows' AS topic, count() AS n
              FROM metrics_1m FINAL WHERE $__timeFilter(window_start) GROUP BY time
              UNION ALL
              SELECT $__timeInterval(occurred_at) AS time, 'alerts' AS topic, count() AS n
              FROM alerts FINAL WHERE $__timeFilter_ms(occurred_at) GROUP BY time
            )
            SELECT time, topic, n / $__interval_s AS events_per_second
            FROM landed
            ORDER BY time`,
        },
      ],
    },
    {
      type: 'table',
      title: 'Heartbeats per source',
      description: 'Every service emits a heartbeat through Kafka into ClickHouse; a stale source is a stalled path.',
      w: 8,
      h: 9,
      queries: [
        {
          sql: sql`
            SELECT source, max(emitted_at) AS last_heartbeat, max(sequence) AS sequence,
                   uniqExact(event_id) AS heartbeats
            FROM heartbeats
            WHERE $__timeFilter_ms(emitted_at)
            GROUP BY source
            ORDER BY source`,
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'End-to-end latency (heartbeat emitted → row in ClickHouse)',
      description: 'Kafka, consumer and sink batching together: the time from a heartbeat being produced to its row being written.',
      w: 12,
      h: 8,
      interval: '1m',
      unit: 'ms',
      queries: [
        {
          format: 'timeseries',
          sql: sql`
            SELECT $__timeInterval(emitted_at) AS time,
                   quantile(0.5)(dateDiff('millisecond', emitted_at, received_at)) AS p50,
                   quantile(0.99)(dateDiff('millisecond', emitted_at, received_at)) AS p99
            FROM heartbeats
            WHERE $__timeFilter_ms(emitted_at)
            GROUP BY time
            ORDER BY time`,
        },
      ],
    },
    {
      type: 'timeseries',
      title: 'Late events, by topic',
      description: 'Events that arrived after the watermark plus allowed lateness: counted and kept in late_events, not merged into windows.',
      w: 12,
      h: 8,
      interval: '1m',
      fieldConfig: { custom: { drawStyle: 'bars', fillOpacity: 60 } },
      queries: [
        {
          format: 'timeseries',
          sql: sql`
            SELECT $__timeInterval(received_at) AS time, topic, count() AS late
            FROM late_events FINAL
            WHERE $__timeFilter_ms(received_at)
            GROUP BY time, topic
            ORDER BY time`,
        },
      ],
    },
    {
      type: 'table',
      title: 'Late events, by channel',
      description: 'How late the late events were (event time behind the watermark).',
      w: 12,
      h: 8,
      queries: [
        {
          sql: sql`
            SELECT topic, platform, channel_id AS channel, count() AS late,
                   max(dateDiff('second', event_time, watermark)) AS max_behind_watermark_s
            FROM late_events FINAL
            WHERE $__timeFilter_ms(received_at)
            GROUP BY topic, platform, channel_id
            ORDER BY late DESC
            LIMIT 50`,
        },
      ],
    },
    {
      type: 'stat',
      title: 'Newest closed window',
      description: 'Age of the newest 1-minute window the processors wrote: grows when processing stalls (watermark or consumer lag).',
      w: 6,
      h: 8,
      unit: 's',
      queries: [{ sql: sql`SELECT dateDiff('second', max(window_start), now()) AS age FROM metrics_1m WHERE $__timeFilter(window_start)` }],
    },
    {
      type: 'stat',
      title: 'Snapshots landed',
      description: 'Distinct channel snapshots in ClickHouse over the time range.',
      w: 6,
      h: 8,
      queries: [{ sql: sql`SELECT uniqExact(event_id) AS snapshots FROM snapshots_raw WHERE $__timeFilter_ms(observed_at)` }],
    },
    {
      type: 'table',
      title: 'Model training runs',
      description: 'Each `spacehub train` run: status, backend, samples and its evaluation metrics against the baselines.',
      w: 24,
      h: 8,
      queries: [
        {
          sql: sql`
            SELECT started_at, model, version, status, trigger, backend, channels, train_samples, holdout_samples,
                   duration_ms, toString(metrics) AS metrics, error
            FROM model_runs FINAL
            WHERE $__timeFilter_ms(started_at)
            ORDER BY started_at DESC
            LIMIT 50`,
        },
      ],
      overrides: [{ matcher: { id: 'byName', options: 'duration_ms' }, properties: [{ id: 'unit', value: 'ms' }] }],
    },
    {
      type: 'text',
      title: 'Consumer lag, DLQ size, ingest failures',
      w: 24,
      h: 4,
      content:
        'Consumer lag, dead-letter queue size, ingest failures and processor batch timings are Prometheus metrics, ' +
        'exported by every service at `http://<host>:METRICS_PORT/metrics` (names in dashboards/README.md). ' +
        'Add a Prometheus data source scraping them to chart them next to this dashboard.',
    },
  ],
};
