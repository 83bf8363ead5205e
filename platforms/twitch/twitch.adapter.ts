/**
 * TwitchService: the PlatformAdapter for Twitch (id.twitch.tv OAuth authorization-code flow, Helix).
 * Raw payloads are validated against twitch.external.ts and mapped to our domain types here only.
 * Every Helix call spends a point of the (client id, user) bucket, paced by Ratelimit-* headers.
 */
import type { ZodType, ZodTypeDef } from 'zod';
import type { Logger } from '../../shared/logging/logger';
import type { AuthorizationRequest, ChannelIdentity, ChatBatch, FollowerState, OAuthTokens, PaidSubscriptions, PlatformAdapter, PushHandlers, PushSource, StreamState } from '../platform.adapter';
import { PlatformError } from '../http/platform-error';
import { ErrorMapper, PlatformHttpClient, type ParamValue } from '../http/platform-http.client';
import { RateLimitBuckets, RateLimiter } from '../http/rate-limit.bucket';
import { rateLimitWaits } from '../http/platform.metrics';
import { expiryOf } from '../oauth/token-expiry';
import { TwitchChatSource } from './twitch-chat.eventsub';
import { TwitchEventSubClient } from './eventsub/eventsub-ws.client';
import type { EventSubSpec } from './eventsub/eventsub.external';
import {
  TWITCH_SCOPES,
  twitchErrorBody,
  twitchEventSubCreateResponse,
  twitchChannelsResponse,
  twitchFollowersResponse,
  twitchStreamsResponse,
  twitchTokenResponse,
  TwitchTokenResponse,
  twitchAppTokenResponse,
  twitchSubscriptionsResponse,
  TWITCH_MAX_IDS_PER_CALL,
  TWITCH_POINTS_PER_MINUTE,
  TwitchStream,
  twitchUsersResponse,
  twitchValidateResponse,
  TwitchFollower,
} from './twitch.external';

export interface TwitchSettings {
  clientId: string;
  clientSecret: string | undefined;
  /** id.twitch.tv, or an OAuth root with a path (the Twitch CLI's `…/auth`): see `twitchRoot`. */
  authBaseUrl: string;
  /** api.twitch.tv, or a Helix root with a path (the Twitch CLI's `…/mock`): see `twitchRoot`. */
  apiBaseUrl: string;
  /** wss://eventsub.wss.twitch.tv/ws, or the simulator's /ws. */
  eventSubUrl: string;
  /**
   * Where `/eventsub/subscriptions` lives, taken as is; default the Helix root. The Twitch CLI's
   * EventSub server serves it at its own root (`http://127.0.0.1:PORT`).
   */
  eventSubApiUrl?: string;
  timeoutMs: number;
  logger?: Logger;
  /** Points per bucket before the first answer tells us the real figure (Twitch: 800/min). */
  defaultRateLimit?: number;
  /** Shared bucket across processes (Redis); default: an in-process bucket. */
  rateLimiter?: RateLimiter;
  now?: () => number;
}

/** Twitch answers a refused refresh or code with 400 { status, message }; that is OAuth's invalid_grant. */
const mapTwitchError: ErrorMapper = (status, body, endpoint) => {
  const b = twitchErrorBody.safeParse(body);
  const message = b.success ? b.data.message : undefined;
  if (endpoint.startsWith('oauth2.token') && (status === 400 || status === 401)) return { code: 'INVALID_GRANT', reason: 'invalid_grant', message: message ?? `answered ${status}` };
  return message ? { code: status === 401 ? 'UNAUTHORIZED' : status === 429 ? 'RATE_LIMITED' : status >= 500 ? 'SERVER_ERROR' : status === 404 ? 'NOT_FOUND' : status === 403 ? 'FORBIDDEN' : 'BAD_REQUEST', message: `answered ${status}: ${message}` } : undefined;
};

/**
 * A base URL without a path is a host, and Twitch's own path is appended (`/helix`, `/oauth2`); a base
 * URL with a path is the root itself. So `https://api.twitch.tv` and the simulator's host work as
 * before, and the Twitch CLI's mock API (`http://127.0.0.1:PORT/mock`, tokens under `…/auth`) works
 * unchanged.
 */
export function twitchRoot(baseUrl: string, conventionalPath: '/helix' | '/oauth2'): string {
  const u = new URL(baseUrl);
  const path = u.pathname.replace(/\/+$/, '');
  return path ? `${u.origin}${path}` : `${u.origin}${conventionalPath}`;
}

/** One live channel of a category directory (`categoryStreams`). */
export interface CategoryStream {
  channelId: string;
  categoryId: string;
  category: string;
  viewers: number;
}
export interface CategoryStreams {
  streams: CategoryStream[];
  /** Helix calls (points) spent. */
  calls: number;
  /** false when `maxCalls` stopped the paging before the last page. */
  complete: boolean;
  observedAt: number;
}

export class TwitchService implements PlatformAdapter {
  readonly platform = 'twitch' as const;
  readonly supportsPkce = false;
  // Revoking one access token invalidates that authorisation's tokens only.
  readonly revocationEndsGrant = false;
  readonly scopes = TWITCH_SCOPES;
  readonly rateLimiter: RateLimiter;
  private readonly http: PlatformHttpClient;
  private readonly chatSource: TwitchChatSource;
  private readonly now: () => number;
  /** The app access token (client credentials) of this process, re-issued when it expires or is refused. */
  private appToken: { token: Promise<string>; expiresAt: number } | null = null;

  /** Where Helix paths (`/users`, `/streams`, …) and OAuth paths (`/token`, `/validate`, …) go. */
  readonly helixRoot: string;
  readonly oauthRoot: string;

  constructor(private readonly s: TwitchSettings) {
    this.now = s.now ?? Date.now;
    this.helixRoot = twitchRoot(s.apiBaseUrl, '/helix');
    this.oauthRoot = twitchRoot(s.authBaseUrl, '/oauth2');
    this.rateLimiter = s.rateLimiter ?? new RateLimitBuckets({ defaultLimit: s.defaultRateLimit ?? 800, onWait: () => rateLimitWaits.inc({ platform: 'twitch' }) });
    this.http = new PlatformHttpClient({ platform: 'twitch', timeoutMs: s.timeoutMs, logger: s.logger, rateLimiter: this.rateLimiter, mapError: mapTwitchError });
    this.chatSource = new TwitchChatSource({
      eventSubUrl: s.eventSubUrl,
      subscribe: (token, sessionId, channelId) => this.subscribeChat(token, sessionId, channelId),
      logger: s.logger,
      now: this.now,
    });
  }

  authorizationUrl(p: { state: string; redirectUri: string }): string {
    const u = new URL(`${this.oauthRoot}/authorize`);
    u.search = new URLSearchParams({ response_type: 'code', client_id: this.s.clientId, redirect_uri: p.redirectUri, scope: this.scopes.join(' '), state: p.state,
      // Always show the consent screen: an already-granted app is otherwise re-approved silently, so a
      // link sent to a creator would connect their channel without them seeing anything.
      force_verify: 'true' }).toString();
    return u.toString();
  }

  /** The adapter interface's authorization request with a fresh state (StreamingService stores it). */
  authorization(state: string, redirectUri: string): AuthorizationRequest {
    return { url: this.authorizationUrl({ state, redirectUri }), state };
  }

  async exchangeCode(p: { code: string; redirectUri: string }): Promise<OAuthTokens> {
    const t = await this.token('oauth2.token.code', { grant_type: 'authorization_code', code: p.code, redirect_uri: p.redirectUri });
    return this.tokensOf(t);
  }

  async refresh(refreshToken: string): Promise<OAuthTokens> {
    return this.tokensOf(await this.token('oauth2.token.refresh', { grant_type: 'refresh_token', refresh_token: refreshToken }));
  }

  /** GET /oauth2/validate — Twitch requires it at start-up and hourly for every user token. */
  async validate(accessToken: string): Promise<boolean> {
    try {
      await this.http.request({ endpoint: 'oauth2.validate', baseUrl: this.oauthRoot, path: '/validate', headers: { Authorization: `OAuth ${accessToken}` }, schema: twitchValidateResponse });
      return true;
    } catch (err) {
      if (err instanceof PlatformError && err.code === 'UNAUTHORIZED') return false;
      throw err;
    }
  }

  async revoke(token: string): Promise<void> {
    try {
      await this.http.request({ endpoint: 'oauth2.revoke', method: 'POST', baseUrl: this.oauthRoot, path: '/revoke', form: { client_id: this.s.clientId, token }, schema: null });
    } catch (err) {
      // 400 "Invalid token": already revoked or expired — the outcome the caller wanted.
      if (err instanceof PlatformError && err.code === 'BAD_REQUEST') return;
      throw err;
    }
  }

  async identity(accessToken: string): Promise<ChannelIdentity> {
    const r = await this.helix('helix.users', '/users', accessToken, `token:${accessToken.slice(-6)}`, {}, twitchUsersResponse);
    const u = r.data[0];
    if (!u) throw new PlatformError('MALFORMED_RESPONSE', 'no user for this token', { platform: 'twitch', endpoint: 'helix.users', status: 200, retriable: false });
    return { channelId: u.id, login: u.login, displayName: u.display_name };
  }

  async streamState(accessToken: string, channelId: string): Promise<StreamState> {
    const r = await this.helix('helix.streams', '/streams', accessToken, channelId, { user_id: channelId, first: 1 }, twitchStreamsResponse);
    return this.stateOf(channelId, r.data.find((x) => x.user_id === channelId), this.now());
  }

  /** The app token's bucket is the one `streamStates` spends: ingest plans its batch runs inside it. */
  readonly streamStatesBudget = { idsPerCall: TWITCH_MAX_IDS_PER_CALL, pointsPerMinute: TWITCH_POINTS_PER_MINUTE };

  /**
   * The stream state of many channels, 100 per `GET /helix/streams` call (Helix lists only the live
   * ones; the rest are offline), with the app access token: no creator's token or bucket is spent.
   * Duplicate ids are asked once. A 401 re-issues the app token once (it cannot be refreshed).
   */
  async streamStates(channelIds: readonly string[]): Promise<Map<string, StreamState>> {
    const ids = [...new Set(channelIds)];
    const out = new Map<string, StreamState>();
    for (let i = 0; i < ids.length; i += TWITCH_MAX_IDS_PER_CALL) {
      const chunk = ids.slice(i, i + TWITCH_MAX_IDS_PER_CALL);
      const r = await this.withAppToken((token) =>
        this.http.request({
          endpoint: 'helix.streams.batch',
          baseUrl: this.helixRoot,
          path: '/streams',
          params: { user_id: chunk, first: TWITCH_MAX_IDS_PER_CALL },
          headers: { Authorization: `Bearer ${token}`, 'Client-Id': this.s.clientId },
          schema: twitchStreamsResponse,
          bucket: `${this.s.clientId}:app`,
        }),
      );
      const observedAt = this.now();
      const live = new Map(r.data.map((x) => [x.user_id, x] as const));
      for (const id of chunk) out.set(id, this.stateOf(id, live.get(id), observedAt));
    }
    return out;
  }

  /**
   * The category (game) of each channel, 100 per `GET /helix/channels` call with the app access token,
   * keyed by channel id (a channel Twitch does not return is absent; an empty game_id means none set).
   */
  async channelCategories(channelIds: readonly string[]): Promise<Map<string, { categoryId: string; category: string }>> {
    const ids = [...new Set(channelIds)];
    const out = new Map<string, { categoryId: string; category: string }>();
    for (let i = 0; i < ids.length; i += TWITCH_MAX_IDS_PER_CALL) {
      const chunk = ids.slice(i, i + TWITCH_MAX_IDS_PER_CALL);
      const r = await this.withAppToken((token) => this.helix('helix.channels.batch', '/channels', token, 'app', { broadcaster_id: chunk }, twitchChannelsResponse));
      for (const c of r.data) if (c.game_id) out.set(c.broadcaster_id, { categoryId: c.game_id, category: c.game_name });
    }
    return out;
  }

  /**
   * The live channels of up to 100 categories (issue 22.3): `GET /helix/streams?game_id=…&first=100`,
   * following `pagination.cursor`, with the app access token (one point a page from its bucket). A
   * category directory can be long, so at most `maxCalls` pages are read (`complete: false` then: Helix
   * lists the biggest streams first, so what is missing are the smallest). A channel met twice (the list
   * moves while it is paged) is counted once.
   */
  async categoryStreams(categoryIds: readonly string[], o: { maxCalls?: number } = {}): Promise<CategoryStreams> {
    const games = [...new Set(categoryIds)];
    if (games.length > TWITCH_MAX_IDS_PER_CALL) throw new PlatformError('BAD_REQUEST', `at most ${TWITCH_MAX_IDS_PER_CALL} game_id a call, got ${games.length}`, { platform: 'twitch', endpoint: 'helix.streams.categories', retriable: false });
    const maxCalls = o.maxCalls ?? Number.POSITIVE_INFINITY;
    const seen = new Map<string, CategoryStream>();
    let cursor: string | undefined;
    let calls = 0;
    do {
      if (calls >= maxCalls) return { streams: [...seen.values()], calls, complete: false, observedAt: this.now() };
      const after = cursor;
      const r = await this.withAppToken((token) => this.helix('helix.streams.categories', '/streams', token, 'app', { game_id: games, first: TWITCH_MAX_IDS_PER_CALL, after }, twitchStreamsResponse));
      calls++;
      for (const x of r.data) if (x.type === 'live' && games.includes(x.game_id)) seen.set(x.user_id, { channelId: x.user_id, categoryId: x.game_id, category: x.game_name, viewers: x.viewer_count });
      cursor = r.data.length > 0 ? r.pagination.cursor : undefined;
    } while (cursor);
    return { streams: [...seen.values()], calls, complete: true, observedAt: this.now() };
  }

  /** Runs `fn` with the app access token; on a 401 issues a new one and runs it once more. */
  private async withAppToken<T>(fn: (token: string) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.appAccessToken());
    } catch (err) {
      if (!(err instanceof PlatformError && err.code === 'UNAUTHORIZED')) throw err;
      this.appToken = null;
      return fn(await this.appAccessToken());
    }
  }

  /** Client-credentials grant, one in flight per process, re-issued 5 minutes before it expires. */
  private appAccessToken(): Promise<string> {
    if (this.appToken && this.appToken.expiresAt > this.now() + 300_000) return this.appToken.token;
    if (!this.s.clientSecret) throw new PlatformError('BAD_REQUEST', 'TWITCH_CLIENT_SECRET is not configured', { platform: 'twitch', endpoint: 'oauth2.token.app', retriable: false });
    const entry = { expiresAt: Number.POSITIVE_INFINITY, token: Promise.resolve('') };
    entry.token = this.http
      .request({ endpoint: 'oauth2.token.app', method: 'POST', baseUrl: this.oauthRoot, path: '/token', form: { client_id: this.s.clientId, client_secret: this.s.clientSecret, grant_type: 'client_credentials' }, schema: twitchAppTokenResponse })
      .then((t) => {
        entry.expiresAt = this.now() + t.expires_in * 1000;
        return t.access_token;
      });
    entry.token.catch(() => {
      if (this.appToken === entry) this.appToken = null;
    });
    this.appToken = entry;
    return entry.token;
  }

  private stateOf(channelId: string, s: TwitchStream | undefined, observedAt: number): StreamState {
    if (!s) return { channelId, observedAt, live: false, viewers: null, streamId: null, startedAt: null, title: null, category: null, language: null };
    const startedAt = Date.parse(s.started_at);
    return {
      channelId,
      observedAt,
      live: s.type === 'live',
      viewers: s.viewer_count,
      streamId: s.id,
      startedAt: Number.isFinite(startedAt) ? startedAt : null,
      title: s.title,
      category: s.game_name || null,
      language: s.language || null,
    };
  }

  /** `total` comes with the first page; `first=1` keeps the answer small. */
  async followers(accessToken: string, channelId: string): Promise<FollowerState> {
    const r = await this.helix('helix.channels.followers', '/channels/followers', accessToken, channelId, { broadcaster_id: channelId, first: 1 }, twitchFollowersResponse);
    return { channelId, observedAt: this.now(), followers: r.total };
  }

  /**
   * Paid subscribers: `total` and `points` of `GET /helix/subscriptions` (`first=1` keeps the answer
   * small), with the broadcaster's token. Null when the token lacks `channel:read:subscriptions` (a
   * connection made before we asked for it): that figure needs the creator to reconnect.
   */
  async subscriptions(accessToken: string, channelId: string): Promise<PaidSubscriptions | null> {
    try {
      const r = await this.helix('helix.subscriptions', '/subscriptions', accessToken, channelId, { broadcaster_id: channelId, first: 1 }, twitchSubscriptionsResponse);
      return { channelId, observedAt: this.now(), subscribers: r.total, points: r.points };
    } catch (err) {
      if (err instanceof PlatformError && err.code === 'UNAUTHORIZED' && /missing scope/i.test(err.message)) return null;
      throw err;
    }
  }

  /** The most recent followers, following `pagination.cursor` 100 at a time until `limit`. */
  async recentFollowers(accessToken: string, channelId: string, limit: number): Promise<TwitchFollower[]> {
    const out: TwitchFollower[] = [];
    let after: string | undefined;
    do {
      const first = Math.min(100, limit - out.length);
      const r = await this.helix('helix.channels.followers', '/channels/followers', accessToken, channelId, { broadcaster_id: channelId, first, after }, twitchFollowersResponse);
      out.push(...r.data);
      after = r.pagination.cursor;
      if (r.data.length === 0) break;
    } while (after && out.length < limit);
    return out;
  }

  /**
   * Chat activity since the previous call, from an EventSub WebSocket subscription to
   * `channel.chat.message` (Helix has no endpoint to read chat, so polling is not an option).
   * The first call opens the subscription and returns an empty batch.
   */
  chat(accessToken: string, channelId: string, cursor: string | null): Promise<ChatBatch> {
    return this.chatSource.drain(accessToken, channelId, cursor);
  }

  /** Closes the channel's EventSub session and returns everything it received until Twitch stopped sending. */
  endChat(channelId: string): Promise<ChatBatch | null> {
    return this.chatSource.end(channelId);
  }

  /** EventSub over WebSocket for go-live/end, channel updates, follows, raids, subs and cheers (issue 18.2). */
  createPushSource(handlers: PushHandlers): PushSource {
    return new TwitchEventSubClient({ wsUrl: this.s.eventSubUrl, subscribe: (token, sessionId, spec, channelId) => this.subscribeEventSub(token, sessionId, spec, channelId), handlers, logger: this.s.logger, now: this.now });
  }

  async close(): Promise<void> {
    this.rateLimiter.close();
    await this.chatSource.close();
    this.http.close();
  }

  private async subscribeEventSub(accessToken: string, sessionId: string, spec: EventSubSpec, channelId: string): Promise<void> {
    try {
      await this.http.request({
        endpoint: 'helix.eventsub.subscriptions',
        method: 'POST',
        baseUrl: this.s.eventSubApiUrl ?? this.helixRoot,
        path: '/eventsub/subscriptions',
        headers: { Authorization: `Bearer ${accessToken}`, 'Client-Id': this.s.clientId },
        json: { type: spec.type, version: spec.version, condition: spec.condition(channelId), transport: { method: 'websocket', session_id: sessionId } },
        schema: twitchEventSubCreateResponse,
        bucket: `${this.s.clientId}:${channelId}`,
      });
    } catch (err) {
      // 409: this subscription already exists on the session — what we asked for.
      if (err instanceof PlatformError && err.status === 409) return;
      throw err;
    }
  }

  private async subscribeChat(accessToken: string, sessionId: string, channelId: string): Promise<void> {
    await this.http.request({
      endpoint: 'helix.eventsub.subscriptions',
      method: 'POST',
      baseUrl: this.helixRoot,
      path: '/eventsub/subscriptions',
      headers: { Authorization: `Bearer ${accessToken}`, 'Client-Id': this.s.clientId },
      json: { type: 'channel.chat.message', version: '1', condition: { broadcaster_user_id: channelId, user_id: channelId }, transport: { method: 'websocket', session_id: sessionId } },
      schema: twitchEventSubCreateResponse,
      bucket: `${this.s.clientId}:${channelId}`,
    });
  }

  private helix<T>(endpoint: string, path: string, accessToken: string, bucketOf: string, params: Record<string, ParamValue>, schema: ZodType<T, ZodTypeDef, unknown>): Promise<T> {
    return this.http.request({
      endpoint,
      baseUrl: this.helixRoot,
      path,
      params,
      headers: { Authorization: `Bearer ${accessToken}`, 'Client-Id': this.s.clientId },
      schema,
      bucket: `${this.s.clientId}:${bucketOf}`,
    });
  }

  private token(endpoint: string, form: Record<string, string>): Promise<TwitchTokenResponse> {
    if (!this.s.clientSecret) throw new PlatformError('BAD_REQUEST', 'TWITCH_CLIENT_SECRET is not configured', { platform: 'twitch', endpoint, retriable: false });
    return this.http.request({ endpoint, method: 'POST', baseUrl: this.oauthRoot, path: '/token', form: { client_id: this.s.clientId, client_secret: this.s.clientSecret, ...form }, schema: twitchTokenResponse });
  }

  private tokensOf(t: TwitchTokenResponse): OAuthTokens {
    return { accessToken: t.access_token, refreshToken: t.refresh_token, expiresAt: expiryOf(this.now(), t.expires_in), scopes: t.scope };
  }
}
