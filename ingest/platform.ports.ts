import type { Config } from '../shared/config/config';
import type { Logger } from '../shared/logging/logger';
import { createRedis } from '../shared/redis/redis';
import { createPlatformServices } from '../platforms/platform-services';
import { adapterFor, PLATFORMS, type PlatformDeps } from '../platforms/registry';
import { YouTubeQuota } from '../platforms/http/youtube-quota';
import type { IngestPorts } from './ingest.ports';

/**
 * Ingest's view of platforms/: the connection store, the token provider (single-flight refresh,
 * reauth marking) and the adapters, built by platforms' own composition. `overrides` points the
 * adapters elsewhere (tests: an in-process simulator).
 */
export function platformPorts(c: Config, logger?: Logger, overrides: Partial<PlatformDeps> = {}): IngestPorts {
  const redis = createRedis(c.REDIS_URL);
  const svc = createPlatformServices(c, redis, logger, overrides);
  return {
    platforms: PLATFORMS,
    connections: svc.connections,
    tokens: svc.tokens,
    adapterFor: (p) => adapterFor(p, svc.platforms),
    // The same Redis counter the YouTube adapter charges: chat stretches to fit what is left today.
    youtubeQuota: new YouTubeQuota(redis, { prefix: c.REDIS_KEY_PREFIX, clientId: c.YOUTUBE_CLIENT_ID, dailyBudget: c.YOUTUBE_DAILY_QUOTA_UNITS }),
    async close() {
      try {
        await svc.close();
      } finally {
        redis.disconnect();
      }
    },
  };
}
