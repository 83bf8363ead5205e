/**
 * Simulated Google OAuth (accounts.google.com, oauth2.googleapis.com) with PKCE, and the YouTube Data
 * API v3 methods we use, each charging its documented quota cost (shapes in youtube.external.ts).
 */
import crypto from 'node:crypto';
import express, { Response, Router } from 'express';
import type { GoogleTokenResponse, YouTubeApiError, YouTubeChannel, YouTubeLiveBroadcast, YouTubeLiveChatMessage, YouTubeMethod, YouTubeVideo } from '../youtube/youtube.external';
import { YOUTUBE_MAX_IDS_PER_CALL, YOUTUBE_QUOTA_COST } from '../youtube/youtube.external';
import type { Grant, SimState } from './simulator.state';
import type { SimChannel, SimSession, World } from './world';

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const etag = (v: unknown) => crypto.createHash('md5').update(JSON.stringify(v)).digest('base64url');
/** How far ahead videos.list finds a scheduled session's video (as `upcoming`); the WebSub hub announces them 10 min ahead. */
const UPCOMING_LISTED_MS = 86_400_000;
const oauthFail = (res: Response, status: number, error: string, description: string) => res.status(status).json({ error, error_description: description });
const apiFail = (res: Response, code: number, reason: string, message: string) =>
  res.status(code).json({ error: { code, message, errors: [{ domain: code === 403 && reason === 'quotaExceeded' ? 'youtube.quota' : 'youtube.api', reason, message }] } } satisfies YouTubeApiError);

/** A liveChatId names its broadcast; ours embed the video id so the simulator can find the session. */
export const liveChatIdOf = (videoId: string) => `Cg0KC${Buffer.from(videoId).toString('base64url')}`;
const videoIdOfChat = (liveChatId: string) => (liveChatId.startsWith('Cg0KC') ? Buffer.from(liveChatId.slice(5), 'base64url').toString() : '');

function s256(verifier: string): string {
  return crypto.createHash('sha256').update(verifier).digest('base64url');
}

export function youtubeRoutes(state: SimState, world: World): Router {
  const r = Router();
  const form = express.urlencoded({ extended: false });
  const ytChannels = () => world.channels.filter((c) => c.platform === 'youtube');

  /** The session of a video id, looked up over each channel's recent sessions (pure, no index needed). */
  /** A session's video; `upcomingWithinMs` also finds sessions scheduled to start that soon (videos.list lists upcoming broadcasts). */
  const findVideo = (videoId: string, upcomingWithinMs = 0): { c: SimChannel; s: SimSession } | null => {
    const now = state.clock();
    for (const c of ytChannels())
      for (const s of world.sessionsBetween(c.channelId, now - 3 * 86_400_000, now + 1 + upcomingWithinMs)) if (s.streamId === videoId && s.startedAt <= now + upcomingWithinMs) return { c, s };
    return null;
  };

  // ---- Google OAuth 2.0 for web server apps, with PKCE

  r.get('/o/oauth2/v2/auth', (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    if (q.response_type !== 'code' || !q.client_id || !q.redirect_uri) return oauthFail(res, 400, 'invalid_request', 'Required parameter is missing: response_type, client_id or redirect_uri');
    if (q.code_challenge && q.code_challenge_method !== 'S256') return oauthFail(res, 400, 'invalid_request', 'code_challenge_method must be S256');
    const hinted = q.login_hint ? ytChannels().find((c) => c.login === q.login_hint || c.channelId === q.login_hint) : undefined;
    const channel = hinted ?? ytChannels()[state.nextChannel.youtube++ % Math.max(1, ytChannels().length)];
    if (!channel) return oauthFail(res, 400, 'invalid_request', 'the simulated world has no YouTube channel');
    const scopes = (q.scope ?? '').split(' ').filter(Boolean);
    const code = state.issueCode({ platform: 'youtube', clientId: q.client_id, channelId: channel.channelId, redirectUri: q.redirect_uri, scopes, codeChallenge: q.code_challenge, codeChallengeMethod: q.code_challenge_method });
    const to = new URL(q.redirect_uri);
    if (q.state !== undefined) to.searchParams.set('state', q.state);
    to.searchParams.set('code', code);
    to.searchParams.set('scope', scopes.join(' '));
    res.redirect(302, to.toString());
  });

  r.post('/token', form, (req, res) => {
    const b = (req.body ?? {}) as Record<string, string | undefined>;
    state.count(`youtube:${b.grant_type}`, state.counters.tokenCalls);
    if (!b.client_id) return oauthFail(res, 401, 'invalid_client', 'The OAuth client was not found.');
    if (b.grant_type === 'authorization_code') {
      const c = b.code ? state.codes.get(b.code) : undefined;
      if (!c || c.used || c.expiresAt <= state.clock() || c.platform !== 'youtube' || c.clientId !== b.client_id) {
        if (c) c.used = true;
        return oauthFail(res, 400, 'invalid_grant', 'Malformed auth code.');
      }
      c.used = true;
      if (c.redirectUri !== b.redirect_uri) return oauthFail(res, 400, 'redirect_uri_mismatch', 'Bad Request');
      if (c.codeChallenge && (!b.code_verifier || s256(b.code_verifier) !== c.codeChallenge)) return oauthFail(res, 400, 'invalid_grant', 'Invalid code verifier.');
      const grant = state.newGrant(c);
      const t = state.issueTokens(grant);
      return res.json({ access_token: t.accessToken, expires_in: t.expiresIn, refresh_token: t.refreshToken, scope: grant.scopes.join(' '), token_type: 'Bearer' } satisfies GoogleTokenResponse);
    }
    if (b.grant_type === 'refresh_token') {
      const grantId = b.refresh_token ? state.refreshTokens.get(b.refresh_token) : undefined;
      const grant = grantId ? state.grants.get(grantId) : undefined;
      if (!grant || grant.revoked || grant.clientId !== b.client_id) return oauthFail(res, 400, 'invalid_grant', 'Token has been expired or revoked.');
      const t = state.issueTokens(grant);
      state.refreshTokens.delete(t.refreshToken); // Google keeps the refresh token; a refresh answer carries none.
      return res.json({ access_token: t.accessToken, expires_in: t.expiresIn, scope: grant.scopes.join(' '), token_type: 'Bearer' } satisfies GoogleTokenResponse);
    }
    return oauthFail(res, 400, 'unsupported_grant_type', 'Invalid grant_type');
  });

  r.post('/revoke', form, (req, res) => {
    const token = (req.body?.token as string | undefined) ?? (req.query.token as string | undefined);
    const grantId = token ? (state.accessTokens.get(token)?.grantId ?? state.refreshTokens.get(token)) : undefined;
    if (!grantId) return oauthFail(res, 400, 'invalid_token', 'Token expired or revoked');
    // Google keeps one grant per (account, client): revoking any token of it removes the app's access
    // for that account, so every token issued to the same channel and client id dies with it.
    const grant = state.grants.get(grantId)!;
    for (const g of state.grants.values()) if (g.platform === 'youtube' && g.clientId === grant.clientId && g.channelId === grant.channelId) state.revokeGrant(g.id);
    res.status(200).json({});
  });

  // GET oauth2.googleapis.com/tokeninfo?access_token=… — how a Google access token is validated.
  r.get('/tokeninfo', (req, res) => {
    const token = String(req.query.access_token ?? '');
    const auth = state.authenticate(token);
    if (!('grant' in auth)) return oauthFail(res, 400, 'invalid_token', 'Invalid Value');
    const t = state.accessTokens.get(token)!;
    const expiresIn = Math.max(0, Math.floor((t.expiresAt - state.clock()) / 1000));
    res.json({ azp: auth.grant.clientId, aud: auth.grant.clientId, scope: auth.grant.scopes.join(' '), exp: String(Math.floor(t.expiresAt / 1000)), expires_in: String(expiresIn), access_type: 'offline' });
  });

  // ---- YouTube Data API v3: Bearer token, quota per project per Pacific day (charged even for bad requests).

  const api = Router();
  const charge = (method: YouTubeMethod) => (_req: express.Request, res: Response, next: express.NextFunction) => {
    const grant = res.locals.grant as Grant;
    if (!state.chargeQuota(grant.clientId, YOUTUBE_QUOTA_COST[method]))
      return apiFail(res, 403, 'quotaExceeded', 'The request cannot be completed because you have exceeded your quota.');
    next();
  };
  api.use((req, res, next) => {
    const token = /^Bearer (.+)$/i.exec(req.get('authorization') ?? '')?.[1];
    const auth = state.authenticate(token);
    if (!('grant' in auth)) return apiFail(res, 401, 'authError', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
    res.locals.grant = auth.grant;
    next();
  });

  const parts = (v: unknown) => String(v ?? '').split(',').map((p) => p.trim()).filter(Boolean);

  api.get('/channels', charge('channels.list'), (req, res) => {
    const p = parts(req.query.part);
    if (p.length === 0) return apiFail(res, 400, 'required', 'Required parameter: part');
    const grant = res.locals.grant as Grant;
    const ids = req.query.mine === 'true' ? [grant.channelId] : parts(req.query.id);
    if (ids.length > YOUTUBE_MAX_IDS_PER_CALL) return apiFail(res, 400, 'invalidValue', `Invalid value for parameter id: at most ${YOUTUBE_MAX_IDS_PER_CALL} ids`);
    const now = state.clock();
    const items: YouTubeChannel[] = ids
      .map((id) => world.channel(id))
      .filter((c): c is SimChannel => !!c && c.platform === 'youtube')
      .map((c) => ({
        kind: 'youtube#channel',
        etag: etag([c.channelId, now]),
        id: c.channelId,
        ...(p.includes('snippet') ? { snippet: { title: c.displayName, description: `${c.displayName} streams ${c.category}.`, customUrl: `@${c.login}`, publishedAt: iso(c.createdAt) } } : {}),
        ...(p.includes('statistics')
          ? { statistics: { viewCount: String(world.followersAt(c.channelId, now) * 37), subscriberCount: String(world.followersAt(c.channelId, now)), hiddenSubscriberCount: false, videoCount: String(200 + (c.followersBase % 500)) } }
          : {}),
      }));
    res.json({ kind: 'youtube#channelListResponse', etag: etag(items), pageInfo: { totalResults: items.length, resultsPerPage: 5 }, items });
  });

  const broadcastOf = (c: SimChannel, s: SimSession, now: number): YouTubeLiveBroadcast => {
    const live = s.endedAt === null || s.endedAt > now;
    return {
      kind: 'youtube#liveBroadcast',
      etag: etag([s.streamId, live]),
      id: s.streamId,
      snippet: {
        publishedAt: iso(s.startedAt - 3_600_000),
        channelId: c.channelId,
        title: world.stateAt(c.channelId, Math.min(now, s.endedAt ?? now) - (live ? 0 : 1)).title,
        description: '',
        scheduledStartTime: iso(s.startedAt),
        actualStartTime: iso(s.startedAt),
        ...(live ? {} : { actualEndTime: iso(s.endedAt!) }),
        liveChatId: liveChatIdOf(s.streamId),
      },
      status: { lifeCycleStatus: live ? 'live' : 'complete', privacyStatus: 'public' },
    };
  };

  api.get('/liveBroadcasts', charge('liveBroadcasts.list'), (req, res) => {
    if (parts(req.query.part).length === 0) return apiFail(res, 400, 'required', 'Required parameter: part');
    const status = String(req.query.broadcastStatus ?? 'all');
    if (!['active', 'all', 'completed', 'upcoming'].includes(status)) return apiFail(res, 400, 'invalidValue', 'Invalid value for parameter broadcastStatus');
    const max = req.query.maxResults === undefined ? 5 : Number(req.query.maxResults);
    if (!Number.isInteger(max) || max < 0 || max > 50) return apiFail(res, 400, 'invalidValue', 'Invalid value for parameter maxResults');
    const grant = res.locals.grant as Grant;
    const c = world.channel(grant.channelId)!;
    const now = state.clock();
    const sessions = world.sessionsBetween(c.channelId, now - 7 * 86_400_000, now + 1).filter((s) => s.startedAt <= now).reverse();
    const isLive = (s: SimSession) => s.endedAt === null || s.endedAt > now;
    const chosen = sessions.filter((s) => (status === 'active' ? isLive(s) : status === 'completed' ? !isLive(s) : status === 'all'));
    const items = chosen.slice(0, max).map((s) => broadcastOf(c, s, now));
    res.json({ kind: 'youtube#liveBroadcastListResponse', etag: etag(items), pageInfo: { totalResults: chosen.length, resultsPerPage: max }, items });
  });

  api.get('/videos', charge('videos.list'), (req, res) => {
    const p = parts(req.query.part);
    if (p.length === 0) return apiFail(res, 400, 'required', 'Required parameter: part');
    const now = state.clock();
    const ids = parts(req.query.id);
    if (ids.length > YOUTUBE_MAX_IDS_PER_CALL) return apiFail(res, 400, 'invalidValue', `Invalid value for parameter id: at most ${YOUTUBE_MAX_IDS_PER_CALL} ids`);
    const items: YouTubeVideo[] = [];
    for (const id of ids) {
      const found = findVideo(id, UPCOMING_LISTED_MS);
      if (!found) continue;
      const { c, s } = found;
      if (s.startedAt > now) {
        // Scheduled, not started: YouTube answers `upcoming` with the planned start only.
        const st = world.stateAt(c.channelId, now);
        items.push({
          kind: 'youtube#video', etag: etag([id, now]), id,
          ...(p.includes('snippet') ? { snippet: { publishedAt: iso(now), channelId: c.channelId, title: st.title, categoryId: '20', liveBroadcastContent: 'upcoming', defaultAudioLanguage: c.language } } : {}),
          ...(p.includes('liveStreamingDetails') ? { liveStreamingDetails: { scheduledStartTime: iso(s.startedAt) } } : {}),
        });
        continue;
      }
      const live = s.endedAt === null || s.endedAt > now;
      const st = world.stateAt(c.channelId, live ? now : s.endedAt! - 1);
      items.push({
        kind: 'youtube#video',
        etag: etag([id, now]),
        id,
        ...(p.includes('snippet')
          ? { snippet: { publishedAt: iso(s.startedAt), channelId: c.channelId, title: st.title, categoryId: '20', liveBroadcastContent: live ? 'live' : 'none', defaultAudioLanguage: c.language } }
          : {}),
        ...(p.includes('liveStreamingDetails')
          ? {
              liveStreamingDetails: {
                actualStartTime: iso(s.startedAt),
                scheduledStartTime: iso(s.startedAt),
                ...(live ? { concurrentViewers: String(st.viewers), activeLiveChatId: liveChatIdOf(id) } : { actualEndTime: iso(s.endedAt!) }),
              },
            }
          : {}),
      });
    }
    res.json({ kind: 'youtube#videoListResponse', etag: etag(items), pageInfo: { totalResults: items.length, resultsPerPage: items.length }, items });
  });

  api.get('/liveChat/messages', charge('liveChatMessages.list'), (req, res) => {
    const liveChatId = String(req.query.liveChatId ?? '');
    if (!liveChatId) return apiFail(res, 400, 'required', 'Required parameter: liveChatId');
    if (parts(req.query.part).length === 0) return apiFail(res, 400, 'required', 'Required parameter: part');
    const found = findVideo(videoIdOfChat(liveChatId));
    if (!found) return apiFail(res, 404, 'liveChatNotFound', 'The live chat that you are trying to retrieve cannot be found.');
    const max = req.query.maxResults === undefined ? 500 : Number(req.query.maxResults);
    if (!Number.isInteger(max) || max < 200 || max > 2000) return apiFail(res, 400, 'invalidValue', 'Invalid value for parameter maxResults');
    const now = state.clock();
    const { c, s } = found;
    // Page tokens carry a position: messages from `f`, skipping the first `k` already delivered.
    let from = Math.max(s.startedAt, now - 30_000);
    let skip = 0;
    if (req.query.pageToken !== undefined) {
      try {
        const t = JSON.parse(Buffer.from(String(req.query.pageToken), 'base64url').toString()) as { f: number; k: number };
        if (!Number.isInteger(t.f) || !Number.isInteger(t.k)) throw new Error('bad token');
        from = t.f;
        skip = t.k;
      } catch {
        return apiFail(res, 400, 'pageTokenInvalid', 'The request specifies an invalid page token.');
      }
    }
    const until = s.endedAt === null ? now : Math.min(now, s.endedAt);
    // Like the real chat, only a recent buffer is served to a client that polls rarely (5 minutes here).
    if (from < until - 5 * 60_000) {
      from = until - 5 * 60_000;
      skip = 0;
    }
    const all = world.chatMessagesBetween(c.channelId, from, until, skip + max + 1);
    const page = all.slice(skip, skip + max);
    const more = all.length > skip + max;
    const next = more ? { f: from, k: skip + max } : { f: until, k: 0 };
    state.noteChatDelivered(c.channelId, page);
    const items: YouTubeLiveChatMessage[] = page.map((m) => ({
      kind: 'youtube#liveChatMessage',
      etag: etag(m.id),
      id: m.id,
      snippet: { type: 'textMessageEvent', liveChatId, authorChannelId: m.authorId, publishedAt: iso(m.publishedAt), hasDisplayContent: true, displayMessage: m.text, textMessageDetails: { messageText: m.text } },
      authorDetails: { channelId: m.authorId, displayName: m.authorName },
    }));
    res.json({
      kind: 'youtube#liveChatMessageListResponse',
      etag: etag([liveChatId, from, skip]),
      nextPageToken: Buffer.from(JSON.stringify(next)).toString('base64url'),
      pollingIntervalMillis: more ? 0 : state.config.chatPollingIntervalMillis,
      ...(s.endedAt !== null && s.endedAt <= now ? { offlineAt: iso(s.endedAt) } : {}),
      pageInfo: { totalResults: page.length, resultsPerPage: max },
      items,
    });
  });

  r.use('/youtube/v3', api);
  return r;
}
