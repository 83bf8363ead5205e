/**
 * The platforms we support, and how to build each adapter from its dependencies. Adding a platform:
 * write `platforms/<name>/<name>.adapter.ts` implementing PlatformAdapter, add one line to FACTORIES.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../shared/config/config';
import type { Logger } from '../shared/logging/logger';
import { AppError } from '../shared/errors/app-error';
import { endpointsFromConfig, PlatformEndpoints } from './endpoints';
import { YouTubeQuota } from './http/youtube-quota';
import { SharedRateLimitBuckets } from './http/shared-rate-limit.bucket';
import { rateLimitWaits } from './http/platform.metrics';
import type { PlatformAdapter } from './platform.adapter';
import { TwitchService } from './twitch/twitch.adapter';
import { YouTubeService } from './youtube/youtube.adapter';

export interface PlatformDeps {
  endpoints: PlatformEndpoints;
  twitch: { clientId: string; clientSecret: string | undefined };
  youtube: { clientId: string; clientSecret: string | undefined; dailyQuotaUnits: number };
  timeoutMs: number;
  redis: Redis;
  /** REDIS_KEY_PREFIX: quota counters and locks live under it. */
  prefix: string;
  logger?: Logger;
  now?: () => number;
}

const FACTORIES = {
  twitch: (d: PlatformDeps): PlatformAdapter =>
    new TwitchService({
      clientId: d.twitch.clientId,
      clientSecret: d.twitch.clientSecret,
      authBaseUrl: d.endpoints.twitchAuth,
      apiBaseUrl: d.endpoints.twitchApi,
      eventSubUrl: d.endpoints.twitchEventSub,
      eventSubApiUrl: d.endpoints.twitchEventSubApi,
      timeoutMs: d.timeoutMs,
      // One bucket per (client id, channel) for all processes: workers sharing a token never overspend it.
      rateLimiter: new SharedRateLimitBuckets(d.redis, { prefix: d.prefix, onWait: () => rateLimitWaits.inc({ platform: 'twitch' }) }),
      logger: d.logger?.child({ module: 'twitch' }),
      now: d.now,
    }),
  youtube: (d: PlatformDeps): PlatformAdapter =>
    new YouTubeService({
      clientId: d.youtube.clientId,
      clientSecret: d.youtube.clientSecret,
      authBaseUrl: d.endpoints.googleAuth,
      tokenBaseUrl: d.endpoints.googleToken,
      apiBaseUrl: d.endpoints.youtubeApi,
      webSubHubUrl: d.endpoints.youtubeWebSubHub,
      timeoutMs: d.timeoutMs,
      quota: new YouTubeQuota(d.redis, { prefix: d.prefix, clientId: d.youtube.clientId, dailyBudget: d.youtube.dailyQuotaUnits, now: d.now }),
      logger: d.logger?.child({ module: 'youtube' }),
      now: d.now,
    }),
} satisfies Record<string, (d: PlatformDeps) => PlatformAdapter>;

export type PlatformName = keyof typeof FACTORIES;
export const PLATFORMS = Object.keys(FACTORIES) as PlatformName[];

export class UnknownPlatformError extends AppError<'UNKNOWN_PLATFORM'> {
  constructor(platform: string) {
    super('UNKNOWN_PLATFORM', `unknown platform "${platform}" (known: ${PLATFORMS.join(', ')})`, { retriable: false, context: { platform } });
  }
}

export const isPlatform = (p: string): p is PlatformName => Object.prototype.hasOwnProperty.call(FACTORIES, p);

// One adapter per platform per deps object: rate-limit buckets and EventSub sessions are shared state.
const cache = new WeakMap<PlatformDeps, Map<string, PlatformAdapter>>();

export function adapterFor(platform: string, deps: PlatformDeps): PlatformAdapter {
  if (!isPlatform(platform)) throw new UnknownPlatformError(platform);
  let m = cache.get(deps);
  if (!m) cache.set(deps, (m = new Map()));
  let a = m.get(platform);
  if (!a) m.set(platform, (a = FACTORIES[platform](deps)));
  return a;
}

export async function closeAdapters(deps: PlatformDeps): Promise<void> {
  const m = cache.get(deps);
  if (!m) return;
  cache.delete(deps);
  await Promise.allSettled([...m.values()].map((a) => a.close?.()));
}

/** Client secrets are required against the real platforms; the simulator accepts a placeholder. */
export function platformDepsFromConfig(c: Config, redis: Redis, logger?: Logger): PlatformDeps {
  const sim = c.PLATFORMS_MODE === 'simulator';
  return {
    endpoints: endpointsFromConfig(c),
    twitch: { clientId: c.TWITCH_CLIENT_ID, clientSecret: c.TWITCH_CLIENT_SECRET ?? (sim ? 'simulator-secret' : undefined) },
    youtube: { clientId: c.YOUTUBE_CLIENT_ID, clientSecret: c.YOUTUBE_CLIENT_SECRET ?? (sim ? 'simulator-secret' : undefined), dailyQuotaUnits: c.YOUTUBE_DAILY_QUOTA_UNITS },
    timeoutMs: c.PLATFORM_HTTP_TIMEOUT_MS,
    redis,
    prefix: c.REDIS_KEY_PREFIX,
    logger,
  };
}
