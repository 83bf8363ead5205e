import type { Config } from '../../shared/config/config';
import type { ChannelAccessService } from '../channels/channel-access.service';
import type { Authenticator } from '../http/auth.middleware';
import type { ReadinessService } from '../health/readiness.service';
import type { StreamingMetricsService } from '../metrics/streaming-metrics.service';
import type { OAuthStatePort, PredictionPort, StreamingPort } from '../ports';
import type { ChannelExporter } from '../exports/channel-export';
import type { WebhookService } from '../../notifications/webhook.service';
import type { ApiTokenStore } from '../../shared/auth/api-tokens';
import type { RateLimiter } from '../../shared/redis/rate-limiter';
import type { YouTubeQuotaPort } from './quota.port';

/** What the token routes (/v1/tokens, the caller's own tokens) need of shared/auth's ApiTokenStore. */
export type TokenManagement = Pick<ApiTokenStore, 'listTokens' | 'createToken' | 'revokeToken'>;

/** What the controllers are given (services only; they never see a client of an outside system). */
export interface ApiContext {
  platforms: readonly string[];
  publicBaseUrl: string;
  access: ChannelAccessService;
  metrics: StreamingMetricsService;
  /** Null until the platforms part is wired: the routes then answer 503. */
  streaming: StreamingPort | null;
  oauthStates: OAuthStatePort;
  authenticator: Authenticator;
  /** The caller's own tokens (/v1/tokens); absent → 503. */
  tokens?: TokenManagement;
  /** Null until a model is trained / the models part is wired: the routes then answer 404. */
  predictions: PredictionPort | null;
  readiness: ReadinessService;
  config: Pick<Config, 'API_RATE_LIMIT_PER_MINUTE'>;
  /** CSV/Parquet exports streamed from ClickHouse; absent → those formats answer 503. */
  exporter?: ChannelExporter;
  /** Outbound webhooks (notifications/); null when TOKEN_ENCRYPTION_KEYS is not set → 503. */
  webhooks?: WebhookService | null;
  /** Per-user budget of POST /v1/webhooks/{id}/test (NOTIFY_TEST_PER_MINUTE); absent = unlimited. */
  webhookTestLimiter?: Pick<RateLimiter, 'hit'>;
  /** The YouTube quota day (GET /v1/platforms/youtube/quota); absent → 503. */
  youtubeQuota?: YouTubeQuotaPort;
}
