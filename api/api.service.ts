import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { ApiTokenStore } from '../shared/auth/api-tokens';
import { ClickHouseRepository } from '../shared/clickhouse/clickhouse.repository';
import { createKafka } from '../shared/kafka/kafka.client';
import { Closer } from '../shared/lifecycle/lifecycle';
import { acquireMetricsServer } from '../shared/metrics/metrics.server';
import { repoPath } from '../shared/paths';
import { createRedis } from '../shared/redis/redis';
import { readOnlyClickhouseSettingsOf, type Runtime } from '../shared/runtime';
import type { ServiceModule } from '../shared/lifecycle/process.contract';
import { createApp } from './app';
import { OAuthStateStore } from '../platforms/oauth/oauth-state.store';
import { ChannelAccessService } from './channels/channel-access.service';
import { clickhouseCheck, kafkaCheck, ReadinessService, redisCheck, schemaRegistryCheck } from './health/readiness.service';
import { RateLimiter } from '../shared/redis/rate-limiter';
import { requestGuard } from './http/request-guard';
import { MetricsRepository } from './metrics/metrics.repository';
import { StreamingMetricsService } from './metrics/streaming-metrics.service';
import { SeriesCache } from './metrics/series.cache';
import { SealedHours } from './metrics/sealed-hours';
import { DataVersions } from '../shared/redis/data-version';
import type { ConnectionDirectory, PredictionPort, StreamingPort } from './ports';
import { platformParts } from './wiring/platforms.wiring';
import { PLATFORMS } from '../platforms/registry';
import { modelParts } from './wiring/models.wiring';
import { ChannelExporter } from './exports/channel-export';
import { notificationParts } from './wiring/notifications.wiring';
import { youtubeQuotaPort } from './wiring/quota.wiring';

export interface StartApiOptions {
  host?: string;
  /** 0 = any free port (tests). */
  port?: number;
  /** Override the parts from platforms/ and models/ (tests, benchmarks). */
  connections?: ConnectionDirectory;
  streaming?: StreamingPort | null;
  predictions?: PredictionPort | null;
  staticDir?: string;
  /** Where Prometheus metrics are served: METRICS_PORT by default (0 = any free port), null = not at all. */
  metricsPort?: number | null;
}

export interface RunningApi {
  url: string;
  server: http.Server;
  redis: Redis;
  /** Prometheus metrics (on METRICS_PORT, never on the API port); undefined when not served. */
  metricsUrl?: string;
  /** Counters of the series cache and the sealed hours (benchmarks, diagnostics). */
  seriesStats: { cache: SeriesCache['stats']; sealed: SealedHours['stats'] };
  close(): Promise<void>;
}

/** The API's composition root: builds every repository and service from the runtime, listens, and closes all of it. */
export async function startApi(rt: Runtime, o: StartApiOptions = {}): Promise<RunningApi> {
  const { config } = rt;
  const logger = rt.logger.child({ module: 'api' });
  const closer = new Closer();
  const redis = createRedis(config.REDIS_URL);
  closer.add('redis', () => void redis.disconnect());
  // Read-only and capped, whatever the configured user may do (ClickHouseSettings.readOnly).
  const ch = new ClickHouseRepository(readOnlyClickhouseSettingsOf(config));
  closer.add('clickhouse', () => ch.close());

  const parts = o.connections ? null : platformParts(rt, redis);
  if (parts) closer.add('platforms', () => parts.close());
  const connections = o.connections ?? parts!.connections;
  const streaming = o.streaming !== undefined ? o.streaming : (parts?.streaming ?? null);
  if (!streaming) logger.warn('platform integration unavailable: /v1/auth and /v1/connections answer 503');
  let predictions = o.predictions ?? null;
  if (o.predictions === undefined) {
    const models = await modelParts(rt);
    closer.add('models', () => models.close());
    predictions = models.predictions;
  }

  const kafkaProbe = kafkaCheck(createKafka(rt.kafkaSettings, logger, { retries: 0 }));
  closer.add('kafka probe', () => kafkaProbe.close());
  const tokens = new ApiTokenStore(redis, config.REDIS_KEY_PREFIX);
  const notifications = notificationParts(config, redis, logger);
  closer.add('notifications', () => notifications.close());
  // Each channel's sealed rollup hours kept while its sealed version holds (api/README.md "Sealed hours").
  // and the minutes after them read from the writers' reports, not ClickHouse (api/README.md "Open tail").
  const sealedHours = new SealedHours({ maxRows: config.API_SERIES_SEALED_MAX_ROWS, maxAgeMs: config.API_SERIES_CACHE_MAX_AGE_SECONDS * 1000 });
  const dataVersions = new DataVersions(redis, config.REDIS_KEY_PREFIX);
  const metricsRepository = new MetricsRepository(ch, { sealed: sealedHours, openTail: (c) => dataVersions.readOpenTail(c) });
  // Series results cached under the channel's data version, which every writer bumps (api/README.md "Series cache").
  const seriesCache = new SeriesCache(metricsRepository, dataVersions, {
    maxRows: config.API_SERIES_CACHE_MAX_ROWS,
    maxAgeMs: config.API_SERIES_CACHE_MAX_AGE_SECONDS * 1000,
  });
  const { app } = createApp(
    {
      platforms: PLATFORMS,
      publicBaseUrl: config.PUBLIC_BASE_URL,
      access: new ChannelAccessService(connections),
      metrics: new StreamingMetricsService({ metrics: metricsRepository, series: seriesCache, connections, predictions }),
      streaming,
      oauthStates: new OAuthStateStore(redis, config.REDIS_KEY_PREFIX, config.OAUTH_STATE_TTL_SECONDS),
      authenticator: tokens,
      tokens,
      predictions,
      readiness: new ReadinessService({
        kafka: kafkaProbe,
        clickhouse: clickhouseCheck(ch.client),
        redis: redisCheck(redis),
        schemaRegistry: schemaRegistryCheck(config.SCHEMA_REGISTRY_URL),
      }, { timeoutMs: config.API_READINESS_TIMEOUT_MS, logger }),
      config,
      exporter: new ChannelExporter(ch.client),
      webhooks: notifications.webhooks,
      webhookTestLimiter: new RateLimiter(redis, config.REDIS_KEY_PREFIX, config.NOTIFY_TEST_PER_MINUTE),
      youtubeQuota: youtubeQuotaPort(config, redis),
    },
    {
      logger: rt.logger,
      // One Redis round trip per request for token, rate limit and, on channel routes, owners + data and sealed versions.
      guard: requestGuard({
        redis,
        tokens,
        limiter: new RateLimiter(redis, config.REDIS_KEY_PREFIX, config.API_RATE_LIMIT_PER_MINUTE),
        channel: { activeOwners: connections.activeOwnersRead?.bind(connections), dataVersion: (c) => dataVersions.versionRead(c), sealed: (c) => dataVersions.sealedRead(c) },
      }),
      maxBodyBytes: config.API_MAX_BODY_BYTES,
      staticDir: o.staticDir ?? repoPath('dashboards', 'web'),
      version: packageVersion(),
    },
  );

  const server = http.createServer(app);
  server.keepAliveTimeout = 65_000; // longer than common load balancers' idle timeout
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? config.API_PORT, o.host ?? config.API_HOST, () => resolve());
    });
  } catch (err) {
    // e.g. EADDRINUSE: release what was opened, so the process can exit with the error
    await closer.close();
    throw err;
  }
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.address}:${addr.port}`;
  // Prometheus is served on its own port (shared with the other services of this process), never on the public API port.
  const metricsPort = o.metricsPort === undefined ? config.METRICS_PORT : o.metricsPort;
  let metrics: Awaited<ReturnType<typeof acquireMetricsServer>> | undefined;
  try {
    metrics = metricsPort === null ? undefined : await acquireMetricsServer(metricsPort);
  } catch (err) {
    server.close();
    await closer.close();
    throw err;
  }
  if (metrics) closer.add('metrics server', () => metrics.close());
  logger.info({ url, metrics: metrics?.url }, 'API listening');
  return {
    url,
    server,
    redis,
    metricsUrl: metrics?.url,
    seriesStats: { cache: seriesCache.stats, sealed: sealedHours.stats },
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await closer.close((name, err) => logger.warn({ part: name, err }, 'close failed'));
    },
  };
}

const packageVersion = () => (JSON.parse(fs.readFileSync(repoPath('package.json'), 'utf8')) as { version: string }).version;

/** `spacehub api`: the REST API alone (also part of `spacehub all`). */
export const apiService: ServiceModule = {
  name: 'api',
  describe: 'REST API (/v1, /openapi.json, /healthz, /readyz) and the web dashboard at /; Prometheus on METRICS_PORT',
  inAll: true,
  async start(rt) {
    const api = await startApi(rt);
    return { urls: { api: api.url, openapi: `${api.url}/openapi.json` }, close: () => api.close() };
  },
};
