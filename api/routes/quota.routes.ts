import { z } from 'zod/v4';
import { defineRoute, fail, RouteDef } from '../http/route';
import type { ApiContext } from './context';
import type { QuotaPurpose } from './quota.port';


const Purpose = z.object({
  spentUnits: z.number().describe('Units charged today for this purpose'),
  plannedUnits: z.number().nullable().describe('Units the planner gives it until the reset; null before the first plan'),
  demandUnits: z.number().nullable().describe('Units it would spend until the reset at its target interval'),
  intervalSeconds: z.number().nullable().describe('Planned interval: per creator (goLive, chat, subscribers), per batch of 50 live streams (liveRefresh)'),
});

export const YouTubeQuotaOut = z.object({
  budgetUnits: z.number().int().describe('YOUTUBE_DAILY_QUOTA_UNITS'),
  usedUnits: z.number().int(),
  remainingUnits: z.number().int(),
  resetsAt: z.string().describe('ISO-8601; midnight America/Los_Angeles'),
  plannedAt: z.string().nullable(),
  creators: z.number().int().nullable(),
  live: z.number().int().nullable(),
  chatSamplingRate: z.number().nullable().describe('Planned / full-rate chat polls; below 1 chat figures are sampled (flagged, not scaled)'),
  chatSampled: z.boolean(),
  purposes: z.object({ goLive: Purpose, liveRefresh: Purpose, chat: Purpose, subscribers: Purpose }),
  otherSpentUnits: z.number().describe('Units of other calls (identity on connect, chat look-ups)'),
});

/**
 * GET /v1/platforms/youtube/quota — the deployment's YouTube quota day: budget, spend by purpose and the
 * planner's plan (issue 18.3). Aggregate figures of the Google Cloud project, no creator's data, so
 * any authenticated caller may read them.
 */
export function quotaRoutes(ctx: ApiContext): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/platforms/youtube/quota',
      operationId: 'youtubeQuota',
      summary: 'YouTube quota today: budget, spend by purpose, the planner\'s plan and chat sampling rate',
      tags: ['platforms'],
      query: z.strictObject({}),
      success: { status: 200, description: 'The quota day', schema: YouTubeQuotaOut },
      errors: [503],
      async handler() {
        if (!ctx.youtubeQuota) fail(503, 'unavailable', 'YouTube quota figures are not available', 'this API process runs without the platforms part');
        const r = await ctx.youtubeQuota();
        const purpose = (p: QuotaPurpose) => {
          const x = r.plan?.purposes[p];
          return { spentUnits: r.spentByPurpose[p] ?? 0, plannedUnits: x?.plannedUnits ?? null, demandUnits: x?.demandUnits ?? null, intervalSeconds: x ? x.intervalMs / 1000 : null };
        };
        return {
          budgetUnits: r.budgetUnits,
          usedUnits: r.usedUnits,
          remainingUnits: Math.max(0, r.budgetUnits - r.usedUnits),
          resetsAt: new Date(r.resetsAt).toISOString(),
          plannedAt: r.plan ? new Date(r.plan.plannedAt).toISOString() : null,
          creators: r.plan?.creators ?? null,
          live: r.plan?.live ?? null,
          chatSamplingRate: r.plan?.chatSamplingRate ?? null,
          chatSampled: (r.plan?.chatSamplingRate ?? 1) < 1,
          purposes: { goLive: purpose('goLive'), liveRefresh: purpose('liveRefresh'), chat: purpose('chat'), subscribers: purpose('subscribers') },
          otherSpentUnits: r.spentByPurpose.other ?? 0,
        };
      },
    }),
  ];
}
