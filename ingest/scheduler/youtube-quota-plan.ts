/**
 * The quota planner at work (issue 18.3): feeds `planQuota` with the live figures — units left today
 * (the adapters' shared ledger), time to the Pacific-midnight reset, creators polled and live now —
 * at most every few seconds, and publishes the plan: to Redis (`<prefix>:ingest:youtube:quota-plan`,
 * read by the API's GET /v1/platforms/youtube/quota and the dashboard) and as Prometheus gauges, next
 * to the spend by purpose the ledger counts per API method.
 */
import type { Redis } from 'ioredis';
import type { IngestPorts } from '../ingest.ports';
import { ingestMetrics } from '../ingest.metrics';
import { planQuota, PURPOSES, type Purpose, type QuotaPlan } from './quota-planner';

export const quotaPlanKey = (prefix: string) => `${prefix}:ingest:youtube:quota-plan`;

/** Which purpose each Data API method's units serve (channels.list also identifies a new connection). */
export const METHOD_PURPOSE: Record<string, Purpose> = {
  'liveBroadcasts.list': 'goLive',
  'videos.list': 'liveRefresh',
  'liveChatMessages.list': 'chat',
  'channels.list': 'subscribers',
};

export function spentByPurpose(byMethod: Record<string, number>): Record<Purpose | 'other', number> {
  const out = { goLive: 0, liveRefresh: 0, chat: 0, subscribers: 0, other: 0 } as Record<Purpose | 'other', number>;
  for (const [m, units] of Object.entries(byMethod)) out[METHOD_PURPOSE[m] ?? 'other'] += units;
  return out;
}

export interface PublishedQuotaPlan extends QuotaPlan {
  plannedAt: number;
  budgetUnits: number;
  spentByPurpose: Record<Purpose | 'other', number>;
}

type Quota = NonNullable<IngestPorts['youtubeQuota']>;

export class YouTubeQuotaPlanner {
  private cached: { at: number; plan: Promise<QuotaPlan> } | null = null;
  private readonly now: () => number;

  constructor(
    private readonly d: {
      redis: Redis;
      prefix: string;
      quota: Quota & Required<Pick<Quota, 'remaining' | 'msUntilReset'>>;
      /** `pushedOffline`: offline creators whose go-live is pushed (an active WebSub lease). */
      counts: () => Promise<{ creators: number; live: number; pushedOffline?: number }>;
      /** The go-live poll of a creator with pushed go-live (a slow reconcile: the feed is not guaranteed). */
      pushedGoLiveTargetMs?: number;
      targetMs: Record<Purpose, number>;
      weights?: Partial<Record<Purpose, number>>;
      /** Creators per subscriber-count call (50 when the shard jobs batch channels.list). */
      subscribersPerCall?: number;
      refreshMs?: number;
      now?: () => number;
    },
  ) {
    this.now = d.now ?? Date.now;
  }

  static usable(q: IngestPorts['youtubeQuota']): q is Quota & Required<Pick<Quota, 'remaining' | 'msUntilReset'>> {
    return !!q && typeof q.remaining === 'function' && typeof q.msUntilReset === 'function';
  }

  /** The current plan, recomputed when older than `refreshMs` (default 5 s); concurrent callers share one. */
  current(): Promise<QuotaPlan> {
    const t = this.now();
    if (this.cached && t - this.cached.at < (this.d.refreshMs ?? 5000)) return this.cached.plan;
    const plan = this.compute(t);
    this.cached = { at: t, plan };
    plan.catch(() => {
      if (this.cached?.plan === plan) this.cached = null;
    });
    return plan;
  }

  private async compute(t: number): Promise<QuotaPlan> {
    const [{ creators, live, pushedOffline }, remainingUnits, byMethod] = await Promise.all([this.d.counts(), this.d.quota.remaining(), this.d.quota.spentByMethod?.() ?? Promise.resolve({})]);
    const plan = planQuota({
      remainingUnits, horizonMs: this.d.quota.msUntilReset(), creators, live, targetMs: this.d.targetMs, weights: this.d.weights, subscribersPerCall: this.d.subscribersPerCall,
      pushedOffline, pushedGoLiveTargetMs: this.d.pushedGoLiveTargetMs,
    });
    const spent = spentByPurpose(byMethod);
    const published: PublishedQuotaPlan = { ...plan, plannedAt: t, budgetUnits: this.d.quota.dailyBudget ?? 0, spentByPurpose: spent };
    await this.d.redis.set(quotaPlanKey(this.d.prefix), JSON.stringify(published), 'PX', 86_400_000);
    for (const p of PURPOSES) {
      ingestMetrics.youtubeQuotaPlanned.set({ purpose: p }, plan.purposes[p].plannedUnits);
      ingestMetrics.youtubeQuotaIntervalSeconds.set({ purpose: p }, plan.purposes[p].intervalMs / 1000);
      ingestMetrics.youtubeQuotaSpent.set({ purpose: p }, spent[p]);
    }
    ingestMetrics.youtubeQuotaSpent.set({ purpose: 'other' }, spent.other);
    ingestMetrics.youtubeChatSamplingRate.set(plan.chatSamplingRate);
    return plan;
  }
}

/** The last published plan (API, dashboard), or null when no ingest process planned yet. */
export async function readQuotaPlan(redis: Redis, prefix: string): Promise<PublishedQuotaPlan | null> {
  const raw = await redis.get(quotaPlanKey(prefix));
  return raw ? (JSON.parse(raw) as PublishedQuotaPlan) : null;
}
