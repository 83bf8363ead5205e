import { z } from 'zod/v4';
import { defineRoute, RouteDef } from '../http/route';
import { instant, MAX_SPAN_MS, resolveRange } from '../schemas/common.schemas';
import { CreatorSummary } from '../schemas/responses.schemas';
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
  ];
}
