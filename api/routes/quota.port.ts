/**
 * The seam between the quota route and what fills it (api/wiring/quota.wiring.ts): its own file so the
 * route context can name it without importing the route (no import cycle).
 */
export const QUOTA_PURPOSES = ['goLive', 'liveRefresh', 'chat', 'subscribers'] as const;
export type QuotaPurpose = (typeof QUOTA_PURPOSES)[number];

/** What the quota route needs: today's ledger and the ingest planner's last plan (api/wiring/quota.wiring.ts). */
export interface YouTubeQuotaReport {
  budgetUnits: number;
  usedUnits: number;
  resetsAt: number;
  spentByPurpose: Record<QuotaPurpose | 'other', number>;
  plan: null | {
    plannedAt: number;
    creators: number;
    live: number;
    chatSamplingRate: number;
    purposes: Record<QuotaPurpose, { demandUnits: number; plannedUnits: number; intervalMs: number }>;
  };
}
export type YouTubeQuotaPort = () => Promise<YouTubeQuotaReport>;
