/**
 * YouTubeService: the PlatformAdapter for YouTube (Google OAuth 2.0 with PKCE, Data API v3).
 * Every Data API call is charged against the shared daily quota (Redis) *before* it is sent, so the
 * budget holds across processes; chat polling follows `nextPageToken` and `pollingIntervalMillis`.
 */
import type { ZodType, ZodTypeDef } from 'zod';
import type { Logger } from '../../shared/logging/logger';
import type { ChannelIdentity, ChatBatch, FeedPush, FollowerState, OAuthTokens, PlatformAdapter, StreamState } from '../platform.adapter';
import { PlatformError } from '../http/platform-error';
import { ErrorMapper, PlatformHttpClient } from '../http/platform-http.client';
import { quotaUsed } from '../http/platform.metrics';
import type { YouTubeQuota } from '../http/youtube-quota';
import { chatterIdOf } from '../chatter-id';
import { expiryOf } from '../oauth/token-expiry';
import {
  GoogleTokenResponse,
  googleOAuthError,
  googleTokenResponse,
  YOUTUBE_SCOPES,
  youtubeApiError,
  youtubeChannelListResponse,
  youtubeLiveBroadcastListResponse,
  youtubeLiveChatMessageListResponse,
  YouTubeMethod,
  youtubeVideoListResponse,
  YouTubeVideo,
  YOUTUBE_MAX_IDS_PER_CALL,
} from './youtube.external';
import { z } from 'zod';
import { channelOfTopic, feedTopicOf, parseFeedNotification, requestSubscription, signatureMatches, YOUTUBE_WEBSUB_HUB } from './youtube.websub';

export interface YouTubeSettings {
  clientId: string;
  clientSecret: string | undefined;
  authBaseUrl: string; // accounts.google.com
  tokenBaseUrl: string; // oauth2.googleapis.com
  apiBaseUrl: string; // www.googleapis.com
  /** WebSub hub (pubsubhubbub.appspot.com/subscribe); default Google's. */
  webSubHubUrl?: string;
  timeoutMs: number;
  quota: YouTubeQuota;
  logger?: Logger;
  now?: () => number;
  /**
   * Pages of chat read per poll when the platform says more is waiting (pollingIntervalMillis = 0).
   * Default 1: every chat poll then costs exactly 5 units, which is what the quota stretch plans with.
   */
  maxChatPages?: number;
}

/** Names of a few video categories (videoCategories.list would cost a unit per lookup). */
const CATEGORY_NAMES: Record<string, string> = { '10': 'Music', '20': 'Gaming', '22': 'People & Blogs', '24': 'Entertainment', '27': 'Education', '28': 'Science & Technology' };

const mapGoogleError: ErrorMapper = (status, body, endpoint) => {
  const oauth = googleOAuthError.safeParse(body);
  if (oauth.success && endpoint.startsWith('oauth2.')) {
    const e = oauth.data.error;
    if (e === 'invalid_grant') return { code: 'INVALID_GRANT', reason: e, message: oauth.data.error_description ?? e };
    return { code: status >= 500 ? 'SERVER_ERROR' : 'BAD_REQUEST', reason: e, message: `${e}${oauth.data.error_description ? `: ${oauth.data.error_description}` : ''}` };
  }
  const api = youtubeApiError.safeParse(body);
  if (!api.success) return undefined;
  const reason = api.data.error.errors[0]?.reason ?? api.data.error.status;
  if (reason === 'quotaExceeded' || reason === 'dailyLimitExceeded') return { code: 'QUOTA_EXCEEDED', reason, message: api.data.error.message };
  if (reason === 'rateLimitExceeded') return { code: 'RATE_LIMITED', reason, message: api.data.error.message };
  if (reason === 'liveChatEnded' || reason === 'liveChatDisabled') return { code: 'LIVE_CHAT_ENDED', reason, message: api.data.error.message };
  return { code: status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'FORBIDDEN' : status === 404 ? 'NOT_FOUND' : status >= 500 ? 'SERVER_ERROR' : 'BAD_REQUEST', reason, message: api.data.error.message };
};

/** Our chat cursor: the live chat, the page token to resume from, and when we last polled. */
const chatCursor = z.object({ c: z.string(), p: z.string().nullable(), t: z.number() });

export class YouTubeService implements PlatformAdapter {
  readonly platform = 'youtube' as const;
  readonly supportsPkce = true;
  // https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke: the grant goes, with all its tokens.
  readonly revocationEndsGrant = true;
  readonly scopes = YOUTUBE_SCOPES;
  private readonly http: PlatformHttpClient;
  private readonly now: () => number;
  /** The channel feed's WebSub push (no quota): what it announces is checked with videos.list by ingest. */
  readonly feed: FeedPush;

  constructor(private readonly s: YouTubeSettings) {
    this.now = s.now ?? Date.now;
    // No in-client retries: each attempt must pass through the quota charge (callers retry via their queue).
    this.http = new PlatformHttpClient({ platform: 'youtube', timeoutMs: s.timeoutMs, logger: s.logger, mapError: mapGoogleError, attempts: 1 });
    const hub = s.webSubHubUrl ?? YOUTUBE_WEBSUB_HUB;
    this.feed = {
      topicOf: feedTopicOf,
      channelOfTopic,
      request: (r) => requestSubscription(this.http, hub, r),
      parse: parseFeedNotification,
      signatureMatches,
    };
  }

  get quota(): YouTubeQuota {
    return this.s.quota;
  }

  authorizationUrl(p: { state: string; redirectUri: string; codeChallenge?: string }): string {
    const u = new URL('/o/oauth2/v2/auth', this.s.authBaseUrl);
    const q = new URLSearchParams({
      client_id: this.s.clientId,
      redirect_uri: p.redirectUri,
      response_type: 'code',
      scope: this.scopes.join(' '),
      state: p.state,
      // offline + consent: a refresh token on every connection, also after a reconnect.
      access_type: 'offline',
      prompt: 'consent',
      include_granted_scopes: 'true',
    });
    if (p.codeChallenge) {
      q.set('code_challenge', p.codeChallenge);
      q.set('code_challenge_method', 'S256');
    }
    u.search = q.toString();
    return u.toString();
  }

  async exchangeCode(p: { code: string; redirectUri: string; codeVerifier?: string }): Promise<OAuthTokens> {
    const t = await this.token('oauth2.token.code', { grant_type: 'authorization_code', code: p.code, redirect_uri: p.redirectUri, code_verifier: p.codeVerifier });
    return this.tokensOf(t, null);
  }

  async refresh(refreshToken: string): Promise<OAuthTokens> {
    // Google answers a refresh without a refresh_token: the one we hold stays valid.
    return this.tokensOf(await this.token('oauth2.token.refresh', { grant_type: 'refresh_token', refresh_token: refreshToken }), refreshToken);
  }

  async validate(accessToken: string): Promise<boolean> {
    try {
      await this.http.request({ endpoint: 'oauth2.tokeninfo', baseUrl: this.s.tokenBaseUrl, path: '/tokeninfo', params: { access_token: accessToken }, schema: z.object({ aud: z.string(), expires_in: z.string() }) });
      return true;
    } catch (err) {
      if (err instanceof PlatformError && (err.code === 'BAD_REQUEST' || err.code === 'UNAUTHORIZED')) return false;
      throw err;
    }
  }

  async revoke(token: string): Promise<void> {
    try {
      await this.http.request({ endpoint: 'oauth2.revoke', method: 'POST', baseUrl: this.s.tokenBaseUrl, path: '/revoke', form: { token }, schema: null });
    } catch (err) {
      if (err instanceof PlatformError && err.code === 'BAD_REQUEST') return; // already revoked or expired
      throw err;
    }
  }

  async identity(accessToken: string): Promise<ChannelIdentity> {
    const r = await this.api('channels.list', '/youtube/v3/channels', accessToken, { part: 'snippet', mine: 'true' }, youtubeChannelListResponse);
    const c = r.items[0];
    if (!c) throw new PlatformError('NOT_FOUND', 'this Google account has no YouTube channel', { platform: 'youtube', endpoint: 'channels.list', status: 200 });
    return { channelId: c.id, login: c.snippet?.customUrl?.replace(/^@/, '') ?? c.id, displayName: c.snippet?.title ?? c.id };
  }

  /** liveBroadcasts.list (active, 1 unit), then videos.list for concurrentViewers (1 unit) when live. */
  async streamState(accessToken: string, channelId: string): Promise<StreamState> {
    const observedAt = this.now();
    const b = await this.api('liveBroadcasts.list', '/youtube/v3/liveBroadcasts', accessToken, { part: 'snippet,status', broadcastStatus: 'active', broadcastType: 'all', maxResults: 5 }, youtubeLiveBroadcastListResponse);
    const live = b.items.find((x) => x.snippet.channelId === channelId && !x.snippet.actualEndTime);
    const offline: StreamState = { channelId, observedAt, live: false, viewers: null, streamId: null, startedAt: null, title: null, category: null, language: null };
    if (!live) return offline;
    const v = await this.api('videos.list', '/youtube/v3/videos', accessToken, { part: 'snippet,liveStreamingDetails', id: live.id }, youtubeVideoListResponse);
    const video = v.items[0];
    if (!video) return offline;
    return this.videoState(video, channelId, observedAt, live.snippet.actualStartTime ?? null, live.snippet.title);
  }

  /**
   * The live state of many broadcasts by video id, 50 per `videos.list` call for 1 unit each: how the
   * concurrent viewers of every live stream are refreshed without a per-channel call. Video data is
   * public, so any connection's token serves the whole batch. A video the answer omits is absent from
   * the map (deleted or private: the caller treats its stream as over); an ended one is `live: false`,
   * and so is a scheduled one not started yet (with its `scheduledStartAt`).
   */
  async liveVideos(accessToken: string, videoIds: readonly string[]): Promise<Map<string, StreamState>> {
    const ids = [...new Set(videoIds)];
    const out = new Map<string, StreamState>();
    for (let i = 0; i < ids.length; i += YOUTUBE_MAX_IDS_PER_CALL) {
      const chunk = ids.slice(i, i + YOUTUBE_MAX_IDS_PER_CALL);
      const v = await this.api('videos.list', '/youtube/v3/videos', accessToken, { part: 'snippet,liveStreamingDetails', id: chunk.join(',') }, youtubeVideoListResponse);
      const observedAt = this.now();
      for (const video of v.items) if (video.snippet) out.set(video.id, this.videoState(video, video.snippet.channelId, observedAt, null, null));
    }
    return out;
  }

  private videoState(video: YouTubeVideo, channelId: string, observedAt: number, fallbackStart: string | null, fallbackTitle: string | null): StreamState {
    const details = video.liveStreamingDetails;
    if (details?.actualEndTime) return { channelId, observedAt, live: false, viewers: null, streamId: null, startedAt: null, title: null, category: null, language: null };
    // Scheduled, not started: YouTube says `upcoming` and gives only the planned start (a WebSub feed
    // announces such videos; they are checked again when due).
    if (video.snippet?.liveBroadcastContent === 'upcoming' || (!details?.actualStartTime && !fallbackStart && details?.scheduledStartTime)) {
      const due = Date.parse(details?.scheduledStartTime ?? '');
      return { channelId, observedAt, live: false, viewers: null, streamId: null, startedAt: null, title: video.snippet?.title ?? null, category: null, language: null, scheduledStartAt: Number.isFinite(due) ? due : null };
    }
    const started = Date.parse(details?.actualStartTime ?? fallbackStart ?? '');
    const viewers = details?.concurrentViewers === undefined ? null : Number(details.concurrentViewers);
    return {
      channelId,
      observedAt,
      live: true,
      viewers: viewers !== null && Number.isFinite(viewers) ? viewers : null,
      streamId: video.id,
      startedAt: Number.isFinite(started) ? started : null,
      title: video.snippet?.title ?? fallbackTitle,
      category: video.snippet ? (CATEGORY_NAMES[video.snippet.categoryId] ?? null) : null,
      language: video.snippet?.defaultAudioLanguage ?? null,
    };
  }

  /**
   * Subscriber counts of many channels, 50 ids per `channels.list` call for 1 unit (statistics are
   * public: any connection's token). A channel that hides its count, or that the answer omits, is
   * absent from the map.
   */
  async subscriberCounts(accessToken: string, channelIds: readonly string[]): Promise<Map<string, FollowerState>> {
    const ids = [...new Set(channelIds)];
    const out = new Map<string, FollowerState>();
    for (let i = 0; i < ids.length; i += YOUTUBE_MAX_IDS_PER_CALL) {
      const chunk = ids.slice(i, i + YOUTUBE_MAX_IDS_PER_CALL);
      const r = await this.api('channels.list', '/youtube/v3/channels', accessToken, { part: 'statistics', id: chunk.join(',') }, youtubeChannelListResponse);
      const observedAt = this.now();
      for (const c of r.items) {
        const stats = c.statistics;
        if (!stats || stats.hiddenSubscriberCount || stats.subscriberCount === undefined) continue;
        out.set(c.id, { channelId: c.id, observedAt, followers: Number(stats.subscriberCount) });
      }
    }
    return out;
  }

  /** channels.list statistics.subscriberCount (1 unit). */
  async followers(accessToken: string, channelId: string): Promise<FollowerState> {
    const r = await this.api('channels.list', '/youtube/v3/channels', accessToken, { part: 'statistics', id: channelId }, youtubeChannelListResponse);
    const stats = r.items.find((c) => c.id === channelId)?.statistics;
    if (!stats || stats.hiddenSubscriberCount || stats.subscriberCount === undefined)
      throw new PlatformError('FORBIDDEN', 'the subscriber count of this channel is hidden or missing', { platform: 'youtube', endpoint: 'channels.list', status: 200, reason: 'hiddenSubscriberCount' });
    return { channelId, observedAt: this.now(), followers: Number(stats.subscriberCount) };
  }

  /**
   * Chat since the last poll: liveChatMessages.list (5 units a page) from the cursor's page token.
   * Without a cursor, finds the active broadcast's liveChatId first (1 unit). Returns a null cursor
   * when the channel is offline or the chat has ended, so the caller stops polling chat.
   */
  async chat(accessToken: string, channelId: string, cursor: string | null): Promise<ChatBatch> {
    const now = this.now();
    let c: z.infer<typeof chatCursor> | null = null;
    if (cursor) {
      try {
        c = chatCursor.parse(JSON.parse(cursor));
      } catch {
        c = null; // an unreadable cursor just restarts from the live chat's recent messages
      }
    }
    const empty = (next: string | null): ChatBatch => ({ channelId, intervalStart: c?.t ?? now, intervalEnd: now, messages: 0, chatterIds: [], cursor: next, nextPollMs: null });
    if (!c) {
      const b = await this.api('liveBroadcasts.list', '/youtube/v3/liveBroadcasts', accessToken, { part: 'snippet', broadcastStatus: 'active', broadcastType: 'all', maxResults: 5 }, youtubeLiveBroadcastListResponse);
      const liveChatId = b.items.find((x) => x.snippet.channelId === channelId && x.snippet.liveChatId)?.snippet.liveChatId;
      if (!liveChatId) return empty(null);
      c = { c: liveChatId, p: null, t: now };
    }
    let messages = 0;
    const chatters = new Set<string>();
    let pageToken = c.p;
    let nextPollMs: number | null = null;
    let ended = false;
    for (let page = 0; page < (this.s.maxChatPages ?? 1); page++) {
      let r;
      try {
        r = await this.api('liveChatMessages.list', '/youtube/v3/liveChat/messages', accessToken, { liveChatId: c.c, part: 'snippet,authorDetails', maxResults: 2000, pageToken: pageToken ?? undefined }, youtubeLiveChatMessageListResponse);
      } catch (err) {
        if (err instanceof PlatformError && (err.code === 'LIVE_CHAT_ENDED' || err.code === 'NOT_FOUND')) {
          ended = true;
          break;
        }
        throw err;
      }
      for (const m of r.items) {
        if (m.snippet.type !== 'textMessageEvent' && m.snippet.type !== 'superChatEvent') continue;
        messages++;
        chatters.add(chatterIdOf('youtube', m.snippet.authorChannelId));
      }
      pageToken = r.nextPageToken;
      nextPollMs = r.pollingIntervalMillis;
      if (r.offlineAt) ended = true;
      if (ended || r.pollingIntervalMillis > 0) break;
    }
    return {
      channelId,
      intervalStart: c.t,
      intervalEnd: now,
      messages,
      chatterIds: [...chatters],
      cursor: ended ? null : JSON.stringify({ c: c.c, p: pageToken, t: now }),
      nextPollMs: ended ? null : nextPollMs,
    };
  }

  async close(): Promise<void> {
    this.http.close(); // the quota lives in Redis, owned by the caller
  }

  private async api<T>(method: YouTubeMethod, path: string, accessToken: string, params: Record<string, string | number | undefined>, schema: ZodType<T, ZodTypeDef, unknown>): Promise<T> {
    // Charged before sending: invalid and failed requests cost units too.
    const total = await this.s.quota.charge(method);
    quotaUsed.set(total);
    return this.http.request({ endpoint: method, baseUrl: this.s.apiBaseUrl, path, params, headers: { Authorization: `Bearer ${accessToken}` }, schema });
  }

  private token(endpoint: string, form: Record<string, string | undefined>): Promise<GoogleTokenResponse> {
    return this.http.request({
      endpoint,
      method: 'POST',
      baseUrl: this.s.tokenBaseUrl,
      path: '/token',
      form: { client_id: this.s.clientId, client_secret: this.s.clientSecret, ...form },
      schema: googleTokenResponse,
    });
  }

  private tokensOf(t: GoogleTokenResponse, previousRefresh: string | null): OAuthTokens {
    return { accessToken: t.access_token, refreshToken: t.refresh_token ?? previousRefresh, expiresAt: expiryOf(this.now(), t.expires_in), scopes: t.scope.split(' ').filter(Boolean) };
  }
}
