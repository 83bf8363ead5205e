import { z } from 'zod/v4';
import { defineRoute, RouteDef } from '../http/route';
import { instant, MAX_SPAN_MS, resolveRange } from '../schemas/common.schemas';
import { AlertList, CreatorSummary } from '../schemas/responses.schemas';
import type { ApiContext } from './context';

/** /v1/creators/me/… — the caller's channels taken together, across platforms. */
export function creatorRoutes(ctx: ApiContext): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/creators/me/summary',
      operationId: 'getCreatorSummary',
      summary: 'Cross-platform totals over your connected channels, and each channel\'s share',
      tags: ['creators'],
      query: z.strictObject({ from: instant('Range start (default: `to` minus 30 days)'), to: instant('Range end, exclusive (default: now)') }),
      success: { status: 200, description: 'Summary', schema: CreatorSummary },
      errors: [400],
      async handler({ query, principal }) {
        const r = resolveRange(query, { defaultSpanMs: 30 * 86400_000, maxSpanMs: MAX_SPAN_MS.summary });
        return ctx.metrics.getCreatorSummary(principal.userId, r);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/creators/me/alerts',
      operationId: 'listMyAlerts',
      summary: 'Your alerts (stream start/end, spikes, milestones, engagement drops, re-authorisation), newest first',
      tags: ['creators'],
      query: z.strictObject({
        from: instant('Range start (default: `to` minus 7 days)'),
        to: instant('Range end, exclusive (default: now)'),
        limit: z.coerce.number({ error: 'must be an integer' }).int('must be an integer').min(1, 'must be at least 1').max(500, 'must be at most 500').default(50).describe('Most alerts to return'),
      }),
      success: { status: 200, description: 'Alerts', schema: AlertList },
      errors: [400],
      async handler({ query, principal }) {
        const r = resolveRange(query, { defaultSpanMs: 7 * 86400_000, maxSpanMs: MAX_SPAN_MS.summary });
        return ctx.metrics.getAlerts(principal.userId, r, query.limit);
      },
    }),
  ];
}
