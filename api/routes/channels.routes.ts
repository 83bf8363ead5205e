import { z } from 'zod/v4';
import { defineRoute, fail, RouteDef } from '../http/route';
import { notFound } from '../http/problem';
import { channelIdParam, GRANULARITIES, granularityParam, instant, MAX_SPAN_MS, platformParam, resolveRange, streamIdParam } from '../schemas/common.schemas';
import { formatParam, negotiateExport, seriesExportQuery, sessionsExportQuery } from '../exports/channel-export';
import { MetricSeries, Predictions, Recommendations, SessionList, StreamMetrics, StreamReport } from '../schemas/responses.schemas';
import { NO_MODEL_REASON, slotOut } from '../metrics/streaming-metrics.service';
import type { PredictionPort } from '../ports';
import type { ApiContext } from './context';

const DAY = 86400_000;

function modelsOf(ctx: ApiContext): PredictionPort {
  if (!ctx.predictions) fail(404, 'model-not-trained', 'No model is trained', NO_MODEL_REASON);
  return ctx.predictions;
}

/** /v1/channels/{platform}/{channelId}/… — one connected channel's analytics. Every route checks ownership first. */
export function channelRoutes(ctx: ApiContext): RouteDef[] {
  const channel = z.object({ platform: platformParam(ctx.platforms), channelId: channelIdParam });
  const range = { from: instant('Range start, inclusive (default: `to` minus one day)'), to: instant('Range end, exclusive (default: now)') };

  return [
    defineRoute({
      method: 'get',
      path: '/v1/channels/{platform}/{channelId}',
      operationId: 'getStreamMetrics',
      summary: 'Current view of a channel: live status, viewers, followers, session, engagement, predictions',
      tags: ['channels'],
      params: channel,
      query: z.strictObject({}),
      success: { status: 200, description: 'The channel now', schema: StreamMetrics },
      errors: [403],
      async handler({ params, principal }) {
        const conn = await ctx.access.requireChannel(principal, params.platform, params.channelId);
        return ctx.metrics.currentView(conn);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/channels/{platform}/{channelId}/metrics',
      operationId: 'getChannelMetrics',
      summary: 'Time series of the 1-minute metrics, bucketed by granularity',
      description: 'Ranges are [from, to). At most 7 days at 1m, 400 days at 1h, 3660 days at 1d.',
      tags: ['channels'],
      params: channel,
      query: z.strictObject({ ...range, granularity: granularityParam, format: formatParam }),
      success: { status: 200, description: 'Buckets with data, oldest first (also text/csv or application/vnd.apache.parquet, by Accept or ?format=)', schema: MetricSeries },
      errors: [400, 403],
      readsChannel: true,
      async handler({ params, query, principal, channel, req, res }) {
        await ctx.access.requireOwner(principal, params.platform, params.channelId, channel?.activeOwners);
        const r = resolveRange(query, { defaultSpanMs: DAY, maxSpanMs: MAX_SPAN_MS[query.granularity] });
        const exportAs = negotiateExport(query.format, req.headers.accept);
        if (exportAs) {
          if (!ctx.exporter) fail(503, 'unavailable', 'Exports are not available', 'no exporter is configured on this server');
          const q = seriesExportQuery(params, r, GRANULARITIES[query.granularity]);
          return ctx.exporter.stream(req, res, q, exportAs, `${params.platform}-${params.channelId}-metrics-${query.granularity}`);
        }
        // Kept JSON bytes with an ETag (304 on If-None-Match), not an object for res.json: a cached series costs no serialization.
        return ctx.metrics.getMetricsSeriesBody(params, r, query.granularity, channel && { data: channel.dataVersion, sealed: channel.sealed ?? null });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/channels/{platform}/{channelId}/sessions',
      operationId: 'getChannelSessions',
      summary: 'Stream sessions overlapping a range, newest first',
      tags: ['channels'],
      params: channel,
      query: z.strictObject({
        from: instant('Range start (default: `to` minus 30 days)'),
        to: instant('Range end, exclusive (default: now)'),
        limit: z.coerce.number({ error: 'must be an integer' }).int('must be an integer').min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(100).describe('Most sessions to return'),
        format: formatParam,
      }),
      success: { status: 200, description: 'Sessions (also text/csv or application/vnd.apache.parquet, by Accept or ?format=)', schema: SessionList },
      errors: [400, 403],
      async handler({ params, query, principal, req, res }) {
        await ctx.access.requireChannel(principal, params.platform, params.channelId);
        const r = resolveRange(query, { defaultSpanMs: 30 * DAY, maxSpanMs: MAX_SPAN_MS.sessions });
        const exportAs = negotiateExport(query.format, req.headers.accept);
        if (exportAs) {
          if (!ctx.exporter) fail(503, 'unavailable', 'Exports are not available', 'no exporter is configured on this server');
          return ctx.exporter.stream(req, res, sessionsExportQuery(params, r, query.limit, exportAs), exportAs, `${params.platform}-${params.channelId}-sessions`);
        }
        const sessions = await ctx.metrics.getSessions(params, r, query.limit);
        return { platform: params.platform, channelId: params.channelId, from: new Date(r.fromMs).toISOString(), to: new Date(r.toMs).toISOString(), sessions };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/channels/{platform}/{channelId}/sessions/{streamId}',
      operationId: 'getChannelStream',
      summary: 'One stream\'s report: the session, viewers/chat/followers over time, the peak moment, compared with the channel\'s previous streams',
      description: 'While the stream is live its figures are running ones (duration until now). 404 when the channel has no such stream.',
      tags: ['channels'],
      params: channel.extend({ streamId: streamIdParam }),
      query: z.strictObject({
        compare: z.coerce.number({ error: 'must be an integer' }).int('must be an integer').min(1, 'must be at least 1').max(50, 'must be at most 50').default(10).describe('How many earlier streams to compare with'),
      }),
      success: { status: 200, description: 'The stream report', schema: StreamReport },
      errors: [400, 403, 404],
      async handler({ params, query, principal }) {
        await ctx.access.requireChannel(principal, params.platform, params.channelId);
        const report = await ctx.metrics.getStreamReport(params, params.streamId, query.compare);
        if (!report) throw notFound(`${params.platform} channel ${params.channelId} has no stream ${params.streamId}`, 'stream-not-found');
        return report;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/channels/{platform}/{channelId}/predictions',
      operationId: 'getChannelPredictions',
      summary: 'Expected average viewers if the channel starts streaming at a given time (viewer-potential model)',
      description: '404 while no model is trained; 422 when the channel has too little history for an honest number.',
      tags: ['models'],
      params: channel,
      query: z.strictObject({
        startAt: instant('Planned start (default: now)'),
        durationMinutes: z.coerce.number({ error: 'must be an integer' }).int('must be an integer').min(1, 'must be at least 1').max(1440, 'must be at most 1440').optional().describe('Planned duration (default: the channel\'s median recent session)'),
      }),
      success: { status: 200, description: 'Prediction', schema: Predictions },
      errors: [400, 403, 404, 422],
      async handler({ params, query, principal }) {
        await ctx.access.requireChannel(principal, params.platform, params.channelId);
        const models = modelsOf(ctx);
        const p = await models.predictViewers(params, query.startAt ?? Date.now(), { durationMinutes: query.durationMinutes });
        return { platform: params.platform, channelId: params.channelId, predictions: [{ startTime: p.startTime, durationMinutes: p.durationMinutes, expectedViewers: p.expectedViewers, interval: p.interval, baselines: p.baselines, model: p.model, holdout: p.holdout, explanation: p.explanation }] };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/channels/{platform}/{channelId}/recommendations',
      operationId: 'getChannelRecommendations',
      summary: 'Best hour-of-week slots of the coming week to start streaming (optimal-time model), best first',
      description: '404 while no model is trained; 422 when the channel has too little history.',
      tags: ['models'],
      params: channel,
      query: z.strictObject({ count: z.coerce.number({ error: 'must be an integer' }).int('must be an integer').min(1, 'must be at least 1').max(168, 'must be at most 168').default(5).describe('How many slots') }),
      success: { status: 200, description: 'Ranked slots', schema: Recommendations },
      errors: [400, 403, 404, 422],
      async handler({ params, query, principal }) {
        await ctx.access.requireChannel(principal, params.platform, params.channelId);
        const r = await modelsOf(ctx).recommendSlots(params, { top: query.count });
        return { platform: params.platform, channelId: params.channelId, generatedAt: r.generatedAt, model: r.model, slots: r.top.map(slotOut) };
      },
    }),
  ];
}
