import type { Redis } from 'ioredis';
import type { Config } from '../../shared/config/config';
import { YouTubeQuota } from '../../platforms/http/youtube-quota';
import { readQuotaPlan, spentByPurpose } from '../../ingest/scheduler/youtube-quota-plan';
import type { YouTubeQuotaPort } from '../routes/quota.port';

/**
 * The YouTube quota day for the API: the adapters' shared ledger (units by API method, in Redis) and
 * the last plan an ingest process published — the one seam where the compiler checks they fit.
 */
export function youtubeQuotaPort(c: Config, redis: Redis): YouTubeQuotaPort {
  const quota = new YouTubeQuota(redis, { prefix: c.REDIS_KEY_PREFIX, clientId: c.YOUTUBE_CLIENT_ID, dailyBudget: c.YOUTUBE_DAILY_QUOTA_UNITS });
  return async () => {
    const [used, byMethod, plan] = await Promise.all([quota.used(), quota.spentByMethod(), readQuotaPlan(redis, c.REDIS_KEY_PREFIX)]);
    return { budgetUnits: quota.dailyBudget, usedUnits: used, resetsAt: Date.now() + quota.msUntilReset(), spentByPurpose: spentByPurpose(byMethod), plan };
  };
}
