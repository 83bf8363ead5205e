/**
 * What the API needs from the parts it sits on, as narrow structural interfaces (STYLE: interfaces at
 * the seams). The platforms part's ConnectionRepository and StreamingService, and the models part's
 * registry, satisfy them; api.service.ts is where the real ones are plugged in, so the compiler checks
 * the fit there and nowhere else depends on those parts' internals.
 */
import type { RedisRead } from '../shared/redis/redis-read';

/** The fields of platforms/connections' `Connection` the API reads or returns. Never tokens. */
export interface ConnectionRecord {
  connectionId: string;
  userId: string;
  platform: string;
  channelId: string;
  login: string;
  displayName: string;
  status: 'active' | 'reauth_required' | 'revoked';
  scopes: string[];
  createdAt?: unknown;
  updatedAt?: unknown;
}

export interface ConnectionDirectory {
  get(connectionId: string): Promise<ConnectionRecord | null | undefined>;
  listByUser(userId: string): Promise<ConnectionRecord[]>;
  /**
   * The users with an active connection to the channel, as a Redis read the request guard batches with
   * the token lookup (platforms' ConnectionRepository has it); only a hit is an answer (see there).
   */
  activeOwnersRead?(platform: string, channelId: string): RedisRead<string[]>;
}

/** Who started an OAuth authorisation and from what client (platforms/oauth/oauth-state.store.ts keeps it with the state). */
export interface StartedAuthorization {
  userId: string;
  client: 'browser' | 'headless';
  /** SHA-256 (base64url) of the browser binding cookie's nonce; browser flows only. */
  nonceHash?: string;
}

/** The API's side of the one OAuth state record: the client binding, added after /authorize created the state. */
export interface OAuthStatePort {
  /** OAUTH_STATE_TTL_SECONDS: how long a started authorisation (and its binding cookie) lives. */
  readonly ttlSeconds: number;
  bind(state: string, started: StartedAuthorization): Promise<void>;
  peek(state: string): Promise<StartedAuthorization | null>;
  discard(state: string): Promise<void>;
}

export interface StreamingPort {
  getAuthorizationUrl(platform: string, opts: { userId: string; redirectUri: string }): Promise<{ url: string; state: string }>;
  connectPlatform(platform: string, authCode: string, opts: { userId: string; redirectUri: string; state: string }): Promise<ConnectionRecord>;
  disconnectPlatform(userId: string, connectionId: string): Promise<unknown>;
  listConnections(userId: string): Promise<ConnectionRecord[]>;
}

/** The fields of models/model.registry.ts' ViewerPrediction the API returns. */
export interface ViewerPredictionOut {
  startTime: string;
  durationMinutes: number;
  expectedViewers: number;
  interval?: { low: number; high: number; coverage: number };
  baselines: { channelMean: number; sameHourLastWeek: number | null; channelHourOfWeek?: number };
  /** 'viewers', or 'baseline:<name>' when the trained model lost to that baseline on its holdout. */
  model: { name: string; version: string };
  holdout?: { sessions: number; modelMae: number; baseline: string; baselineMae: number; improvementPercent: number } | null;
  explanation?: string;
}

/** Why a recommended slot is recommended, in numbers the creator can check (models/explanations.ts). */
export interface SlotReasonOut {
  text: string;
  streams: number;
  basis: 'slot' | 'hour' | 'none';
  meanViewers: number | null;
  channelMeanViewers: number;
  vsChannelMeanPercent: number | null;
}

export interface SlotScoreOut {
  /** 0 = Monday 00:00 UTC … 167 = Sunday 23:00 UTC. */
  hourOfWeek: number;
  startsAt: string;
  expectedViewers: number;
  medianViewers: number;
  /** The chance that this is the week's best hour (models/slot-ranking.ts); absent when a baseline is served. */
  bestChance?: number;
  low: number;
  high: number;
  reason?: SlotReasonOut;
}

export interface SlotRecommendationOut {
  generatedAt: string;
  top: SlotScoreOut[];
  model: { name: string; version: string };
}

/**
 * The models part (models/model.registry.ts' ModelRegistry satisfies it as it is). It throws typed
 * errors the error middleware maps: MODEL_NOT_READY → 404 "no model is trained", INSUFFICIENT_DATA → 422,
 * MODEL_INPUT_INVALID → 400.
 */
export interface PredictionPort {
  predictViewers(channel: { platform: string; channelId: string }, startTime: number, opts?: { durationMinutes?: number }): Promise<ViewerPredictionOut>;
  recommendSlots(channel: { platform: string; channelId: string }, opts?: { top?: number }): Promise<SlotRecommendationOut>;
}
