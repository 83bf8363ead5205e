/**
 * Simulated id.twitch.tv (OAuth) and api.twitch.tv/helix, with Twitch's paths, parameters, headers,
 * status codes and bodies (shapes in platforms/twitch/twitch.external.ts).
 */
import crypto from 'node:crypto';
import express, { Response, Router } from 'express';
import type { TwitchSubscription, TwitchSubscriptionsResponse } from '../twitch/twitch.external';
import { hashString, mix, unit } from './world.hash';
import type { TwitchAppTokenResponse, TwitchChannelInfo, TwitchErrorBody, TwitchFollower, TwitchStream, TwitchTokenResponse, TwitchUser, TwitchValidateResponse } from '../twitch/twitch.external';
import { TWITCH_MAX_IDS_PER_CALL } from '../twitch/twitch.external';
import type { EventSubSim } from './eventsub.sim';
import { subscribersAt } from './subscribers.sim';
import type { SimState } from './simulator.state';
import { CATEGORIES, type SimChannel, type World } from './world';

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
const fail = (res: Response, status: number, message: string, error?: string) =>
  res.status(status).json({ ...(error ? { error } : {}), status, message } satisfies TwitchErrorBody);

export function twitchUserOf(c: SimChannel): TwitchUser {
  return {
    id: c.channelId,
    login: c.login,
    display_name: c.displayName,
    type: '',
    broadcaster_type: c.baseViewers > 500 ? 'partner' : 'affiliate',
    description: `${c.displayName} streams ${c.category}.`,
    profile_image_url: `https://static-cdn.jtvnw.net/jtv_user_pictures/${c.login}-profile_image-300x300.png`,
    offline_image_url: '',
    created_at: iso(c.createdAt),
  };
}

function streamOf(c: SimChannel, world: World, now: number): TwitchStream | null {
  const s = world.stateAt(c.channelId, now);
  if (!s.live) return null;
  return {
    id: s.streamId!,
    user_id: c.channelId,
    user_login: c.login,
    user_name: c.displayName,
    game_id: s.categoryId,
    game_name: s.category,
    type: 'live',
    title: s.title,
    tags: [c.language === 'en' ? 'English' : c.language],
    viewer_count: s.viewers,
    started_at: iso(s.startedAt!),
    language: c.language,
    thumbnail_url: `https://static-cdn.jtvnw.net/previews-ttv/live_user_${c.login}-{width}x{height}.jpg`,
    is_mature: false,
  };
}

/**
 * The other live channels of a category in the hour of `now` (world.competition.ts), as Helix lists them.
 * Ids are 10 digits from 3,000,000,000 (never a listed channel's 9 digits nor a bulk channel's 1,0…).
 */
function competitorStreams(world: World, categoryId: string, now: number): TwitchStream[] {
  const market = world.competition?.marketAt(categoryId, now);
  const k = CATEGORIES.findIndex(([, id]) => id === categoryId);
  if (!market || k < 0) return [];
  const hourStart = Math.floor(now / 3_600_000) * 3_600_000;
  const name = CATEGORIES[k]![0];
  return Array.from({ length: market.liveChannels }, (_, i) => {
    const id = String(3_000_000_000 + k * 1_000_000 + i);
    const login = `rival_${k}_${i}`;
    return {
      id: String(50_000_000_000 + Math.floor(hourStart / 3_600_000) * 10_000 + (mix(Number(id), 3) % 10_000)),
      user_id: id,
      user_login: login,
      user_name: login,
      game_id: categoryId,
      game_name: name,
      type: 'live',
      title: `${name} with ${login}`,
      tags: ['English'],
      viewer_count: world.competition!.channelViewers(categoryId, now, i),
      started_at: iso(hourStart - (i % 4) * 3_600_000),
      language: 'en',
      thumbnail_url: `https://static-cdn.jtvnw.net/previews-ttv/live_user_${login}-{width}x{height}.jpg`,
      is_mature: false,
    };
  });
}

/** Cursors are opaque to clients; ours encode an offset. */
const cursorOf = (offset: number) => Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
function offsetOf(cursor: unknown): number | null {
  if (cursor === undefined) return 0;
  try {
    const o = JSON.parse(Buffer.from(String(cursor), 'base64url').toString()).o;
    return Number.isInteger(o) && o >= 0 ? o : null;
  } catch {
    return null;
  }
}

function parseFirst(v: unknown): number | null {
  if (v === undefined) return 20;
  const n = Number(v);
  return Number.isInteger(n) && n >= 1 && n <= 100 ? n : null;
}

/**
 * The push types the simulator sends (issue 18): version, the condition field that names the channel,
 * and the scope the token must carry (dev.twitch.tv/docs/eventsub/eventsub-subscription-types).
 */
const PUSH_TYPES: Record<string, { version: string; channelField: string; scope: string | null }> = {
  'stream.online': { version: '1', channelField: 'broadcaster_user_id', scope: null },
  'stream.offline': { version: '1', channelField: 'broadcaster_user_id', scope: null },
  'channel.update': { version: '2', channelField: 'broadcaster_user_id', scope: null },
  'channel.follow': { version: '2', channelField: 'broadcaster_user_id', scope: 'moderator:read:followers' },
  'channel.raid': { version: '1', channelField: 'to_broadcaster_user_id', scope: null },
  'channel.subscribe': { version: '1', channelField: 'broadcaster_user_id', scope: 'channel:read:subscriptions' },
  'channel.subscription.message': { version: '1', channelField: 'broadcaster_user_id', scope: 'channel:read:subscriptions' },
  'channel.subscription.gift': { version: '1', channelField: 'broadcaster_user_id', scope: 'channel:read:subscriptions' },
  'channel.cheer': { version: '1', channelField: 'broadcaster_user_id', scope: 'bits:read' },
};

export function twitchRoutes(state: SimState, world: World, eventSub?: EventSubSim): Router {
  const r = Router();
  const form = express.urlencoded({ extended: false });

  // ---- OAuth (id.twitch.tv)

  r.get('/oauth2/authorize', (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    if (q.response_type !== 'code' || !q.client_id || !q.redirect_uri) return fail(res, 400, 'missing or invalid response_type, client_id or redirect_uri');
    const channels = world.channels.filter((c) => c.platform === 'twitch');
    // Auto-approve as the hinted channel (login or id), else the next channel in turn.
    const hinted = q.login_hint ? channels.find((c) => c.login === q.login_hint || c.channelId === q.login_hint) : undefined;
    const channel = hinted ?? channels[state.nextChannel.twitch++ % channels.length];
    if (!channel) return fail(res, 400, 'the simulated world has no Twitch channel');
    const scopes = (q.scope ?? '').split(' ').filter(Boolean);
    const code = state.issueCode({ platform: 'twitch', clientId: q.client_id, channelId: channel.channelId, redirectUri: q.redirect_uri, scopes });
    const to = new URL(q.redirect_uri);
    to.searchParams.set('code', code);
    to.searchParams.set('scope', scopes.join(' '));
    if (q.state !== undefined) to.searchParams.set('state', q.state);
    res.redirect(302, to.toString());
  });

  r.post('/oauth2/token', form, (req, res) => {
    const b = (req.body ?? {}) as Record<string, string | undefined>;
    state.count(`twitch:${b.grant_type}`, state.counters.tokenCalls);
    if (!b.client_id || !b.client_secret) return fail(res, 400, 'missing client_id or client_secret', 'Bad Request');
    if (b.grant_type === 'client_credentials') {
      // An app access token: re-issued when it expires, never refreshed (no refresh_token in the answer).
      const t = state.issueAppToken(b.client_id);
      return res.json({ access_token: t.accessToken, expires_in: t.expiresIn, token_type: 'bearer' } satisfies TwitchAppTokenResponse);
    }
    if (b.grant_type === 'authorization_code') {
      const c = b.code ? state.codes.get(b.code) : undefined;
      if (!c || c.used || c.expiresAt <= state.clock() || c.platform !== 'twitch' || c.clientId !== b.client_id || c.redirectUri !== b.redirect_uri) {
        if (c) c.used = true;
        return fail(res, 400, 'Invalid authorization code', 'Bad Request');
      }
      c.used = true;
      const grant = state.newGrant(c);
      const t = state.issueTokens(grant);
      return res.json({ access_token: t.accessToken, refresh_token: t.refreshToken, expires_in: t.expiresIn, scope: grant.scopes, token_type: 'bearer' } satisfies TwitchTokenResponse);
    }
    if (b.grant_type === 'refresh_token') {
      const grantId = b.refresh_token ? state.refreshTokens.get(b.refresh_token) : undefined;
      const grant = grantId ? state.grants.get(grantId) : undefined;
      if (!grant || grant.revoked || grant.clientId !== b.client_id) return fail(res, 400, 'Invalid refresh token', 'Bad Request');
      const t = state.issueTokens(grant);
      return res.json({ access_token: t.accessToken, refresh_token: t.refreshToken, expires_in: t.expiresIn, scope: grant.scopes, token_type: 'bearer' } satisfies TwitchTokenResponse);
    }
    return fail(res, 400, 'unsupported grant_type', 'Bad Request');
  });

  r.get('/oauth2/validate', (req, res) => {
    // Twitch accepts "OAuth <token>" (documented) and "Bearer <token>".
    const token = /^(?:OAuth|Bearer) (.+)$/i.exec(req.get('authorization') ?? '')?.[1];
    const auth = state.authenticate(token);
    if (!('grant' in auth)) return fail(res, 401, 'invalid access token');
    const t = state.accessTokens.get(token!)!;
    const expiresIn = Math.max(0, Math.floor((t.expiresAt - state.clock()) / 1000));
    // An app token has no user: Twitch answers client_id, scopes and expires_in only.
    if (auth.grant.app) return res.json({ client_id: auth.grant.clientId, scopes: [], expires_in: expiresIn });
    const c = world.channel(auth.grant.channelId)!;
    res.json({ client_id: auth.grant.clientId, login: c.login, scopes: auth.grant.scopes, user_id: c.channelId, expires_in: Math.max(0, Math.floor((t.expiresAt - state.clock()) / 1000)) } satisfies TwitchValidateResponse);
  });

  r.post('/oauth2/revoke', form, (req, res) => {
    const b = (req.body ?? {}) as Record<string, string | undefined>;
    const grantId = b.token ? (state.accessTokens.get(b.token)?.grantId ?? state.refreshTokens.get(b.token)) : undefined;
    if (!b.client_id || !grantId) return fail(res, 400, 'Invalid token');
    state.revokeGrant(grantId);
    res.status(200).end();
  });

  // ---- Helix (api.twitch.tv/helix): Bearer token + Client-Id, Ratelimit-* headers on every answer.

  const helix = Router();
  helix.use((req, res, next) => {
    const token = /^Bearer (.+)$/i.exec(req.get('authorization') ?? '')?.[1];
    const auth = state.authenticate(token);
    if (!('grant' in auth)) return fail(res, 401, auth.error === 'missing' ? 'OAuth token is missing' : 'Invalid OAuth token', 'Unauthorized');
    if (req.get('client-id') !== auth.grant.clientId) return fail(res, 401, 'Client ID and OAuth token do not match', 'Unauthorized');
    // Buckets are per client id and user token; an app token has its own bucket per client id.
    const bucket = state.takePoint(`${auth.grant.clientId}:${auth.grant.app ? 'app' : auth.grant.channelId}`);
    res.set({ 'Ratelimit-Limit': String(bucket.limit), 'Ratelimit-Remaining': String(Math.max(0, bucket.remaining)), 'Ratelimit-Reset': String(bucket.resetEpochSeconds) });
    if (!bucket.ok) return fail(res, 429, 'Too Many Requests', 'Too Many Requests');
    res.locals.grant = auth.grant;
    next();
  });

  helix.get('/users', (req, res) => {
    const ids = list(req.query.id);
    const logins = list(req.query.login);
    if (ids.length + logins.length > TWITCH_MAX_IDS_PER_CALL) return fail(res, 400, 'too many id and login parameters', 'Bad Request');
    if (res.locals.grant.app && ids.length + logins.length === 0) return fail(res, 400, 'Missing required parameter: id or login (an app access token has no user)', 'Bad Request');
    const me = world.channel(res.locals.grant.channelId)!;
    const found =
      ids.length + logins.length === 0
        ? [me]
        : world.channels.filter((c) => c.platform === 'twitch' && (ids.includes(c.channelId) || logins.includes(c.login)));
    res.json({ data: found.map(twitchUserOf) });
  });

  helix.get('/streams', (req, res) => {
    const first = parseFirst(req.query.first);
    const offset = offsetOf(req.query.after);
    if (first === null) return fail(res, 400, 'The parameter "first" was malformed: the value must be between 1 and 100', 'Bad Request');
    if (offset === null) return fail(res, 400, 'Invalid cursor', 'Bad Request');
    const ids = list(req.query.user_id);
    const logins = list(req.query.user_login);
    const games = list(req.query.game_id);
    if (ids.length + logins.length > TWITCH_MAX_IDS_PER_CALL) return fail(res, 400, `The number of user_id and user_login parameters must be at most ${TWITCH_MAX_IDS_PER_CALL}`, 'Bad Request');
    if (games.length > TWITCH_MAX_IDS_PER_CALL) return fail(res, 400, `The number of game_id parameters must be at most ${TWITCH_MAX_IDS_PER_CALL}`, 'Bad Request');
    const now = state.clock();
    if (games.length > 0 && ids.length + logins.length === 0) {
      // A category's directory: the world's live channels in it and, with competition on, the rest of it.
      const live = world.channels.filter((c) => c.platform === 'twitch' && games.includes(c.categoryId)).map((c) => streamOf(c, world, now)).filter((x): x is TwitchStream => x !== null);
      for (const g of new Set(games)) live.push(...competitorStreams(world, g, now));
      live.sort((a, b) => b.viewer_count - a.viewer_count || a.user_id.localeCompare(b.user_id));
      const page = live.slice(offset, offset + first);
      return res.json({ data: page, pagination: offset + first < live.length ? { cursor: cursorOf(offset + first) } : {} });
    }
    // By id: a map lookup per id (a world of 100,000 channels answers a 100-id batch without a scan).
    const pool =
      logins.length === 0 && ids.length > 0
        ? [...new Set(ids)].map((id) => world.channel(id)).filter((c): c is SimChannel => !!c && c.platform === 'twitch')
        : world.channels.filter((c) => c.platform === 'twitch' && (ids.length + logins.length === 0 || ids.includes(c.channelId) || logins.includes(c.login)));
    const live = pool.map((c) => streamOf(c, world, now)).filter((s): s is TwitchStream => s !== null);
    live.sort((a, b) => b.viewer_count - a.viewer_count);
    const page = live.slice(offset, offset + first);
    res.json({ data: page, pagination: offset + first < live.length ? { cursor: cursorOf(offset + first) } : {} });
  });

  // GET /helix/channels?broadcaster_id=…(×1..100): title, category, language of each channel, live or not.
  helix.get('/channels', (req, res) => {
    const ids = list(req.query.broadcaster_id);
    if (ids.length === 0) return fail(res, 400, 'Missing required parameter "broadcaster_id"', 'Bad Request');
    if (ids.length > TWITCH_MAX_IDS_PER_CALL) return fail(res, 400, `The number of broadcaster_id parameters must be at most ${TWITCH_MAX_IDS_PER_CALL}`, 'Bad Request');
    const now = state.clock();
    const data: TwitchChannelInfo[] = [];
    for (const id of new Set(ids)) {
      const c = world.channel(id);
      if (!c || c.platform !== 'twitch') continue;
      const s = world.stateAt(id, now);
      data.push({ broadcaster_id: c.channelId, broadcaster_login: c.login, broadcaster_name: c.displayName, broadcaster_language: c.language, game_id: s.categoryId, game_name: s.category, title: s.title, delay: 0, tags: [], content_classification_labels: [], is_branded_content: false });
    }
    res.json({ data });
  });

  // GET /helix/subscriptions?broadcaster_id=: the broadcaster's own token with channel:read:subscriptions.
  helix.get('/subscriptions', (req, res) => {
    const grant = res.locals.grant as { channelId: string; scopes: string[]; app?: boolean };
    const channel = typeof req.query.broadcaster_id === 'string' ? world.channel(req.query.broadcaster_id) : undefined;
    if (!channel || channel.platform !== 'twitch') return fail(res, 400, 'Missing required parameter "broadcaster_id"', 'Bad Request');
    if (grant.app || !grant.scopes.includes('channel:read:subscriptions')) return fail(res, 401, 'Missing scope: channel:read:subscriptions', 'Unauthorized');
    if (grant.channelId !== channel.channelId) return fail(res, 401, 'broadcaster_id must match the user ID in the access token', 'Unauthorized');
    const first = parseFirst(req.query.first);
    const offset = offsetOf(req.query.after);
    if (first === null) return fail(res, 400, 'The parameter "first" was malformed: the value must be between 1 and 100', 'Bad Request');
    if (offset === null) return fail(res, 400, 'Invalid cursor', 'Bad Request');
    const { total, points, tierOf } = subscribersAt(world, channel, state.clock());
    const n = Math.max(0, Math.min(first, total - offset));
    const data: TwitchSubscription[] = Array.from({ length: n }, (_, i) => {
      const rank = offset + i;
      const id = String(mix(hashString(channel.channelId), rank + 17));
      const gift = unit(mix(Number(id), 5)) < 0.2;
      return { broadcaster_id: channel.channelId, broadcaster_login: channel.login, broadcaster_name: channel.displayName, gifter_id: gift ? '1' : '', gifter_login: gift ? 'gifter' : '', gifter_name: gift ? 'Gifter' : '', is_gift: gift, tier: tierOf(rank), plan_name: 'Channel Subscription', user_id: id, user_name: `Sub${id}`, user_login: `sub${id}` };
    });
    res.json({ data, pagination: offset + n < total ? { cursor: cursorOf(offset + n) } : {}, total, points } satisfies TwitchSubscriptionsResponse);
  });

  helix.get('/channels/followers', (req, res) => {
    const first = parseFirst(req.query.first);
    const offset = offsetOf(req.query.after);
    const channel = typeof req.query.broadcaster_id === 'string' ? world.channel(req.query.broadcaster_id) : undefined;
    if (!channel || channel.platform !== 'twitch') return fail(res, 400, 'Missing required parameter "broadcaster_id"', 'Bad Request');
    if (first === null) return fail(res, 400, 'The parameter "first" was malformed: the value must be between 1 and 100', 'Bad Request');
    if (offset === null) return fail(res, 400, 'Invalid cursor', 'Bad Request');
    const now = state.clock();
    const total = world.followersAt(channel.channelId, now);
    // Without moderator:read:followers (and not the broadcaster) only `total` is returned (Twitch docs).
    const grant = res.locals.grant as { channelId: string; scopes: string[] };
    const mayList = grant.channelId === channel.channelId || grant.scopes.includes('moderator:read:followers');
    const n = mayList ? Math.max(0, Math.min(first, total - offset)) : 0;
    const data: TwitchFollower[] = Array.from({ length: n }, (_, i) => {
      const rank = offset + i; // 0 = most recent follower
      const id = String(crypto.createHash('sha1').update(`${channel.channelId}:${total - rank}`).digest().readUInt32BE(0));
      return { user_id: id, user_login: `follower${id}`, user_name: `Follower${id}`, followed_at: iso(now - rank * 37_000) };
    });
    res.json({ total, data, pagination: mayList && offset + n < total ? { cursor: cursorOf(offset + n) } : {} });
  });

  helix.post('/eventsub/subscriptions', express.json(), (req, res) => {
    const b = req.body as { type?: string; version?: string; condition?: Record<string, string>; transport?: { method?: string; session_id?: string } } | undefined;
    const grant = res.locals.grant as { id: string; channelId: string; scopes: string[] };
    const push = PUSH_TYPES[b?.type ?? ''];
    if (push) {
      if (b!.version !== push.version || b!.transport?.method !== 'websocket' || !b!.transport.session_id) return fail(res, 400, 'unsupported version, or transport.method is not websocket with a session_id', 'Bad Request');
      const condition = b!.condition ?? {};
      const channel = condition[push.channelField];
      // Our WebSocket sessions are per broadcaster token: the condition names the token's own channel.
      if (channel !== grant.channelId || (b!.type === 'channel.follow' && condition.moderator_user_id !== grant.channelId)) return fail(res, 403, 'subscription condition does not match the token', 'Forbidden');
      if (push.scope && !grant.scopes.includes(push.scope)) return fail(res, 403, `subscription missing proper authorization: ${push.scope}`, 'Forbidden');
      const id = eventSub?.subscribePush(b!.transport.session_id, channel, b!.type!, { version: push.version, condition, grantId: grant.id });
      if (!id) return fail(res, 400, 'websocket transport session does not exist or has already disconnected', 'Bad Request');
      return res.status(202).json({
        data: [{ id, status: 'enabled', type: b!.type!, version: push.version, condition, created_at: new Date(state.clock()).toISOString(), transport: { method: 'websocket', session_id: b!.transport.session_id }, cost: 0 }],
        total: 1, total_cost: 0, max_total_cost: 10,
      });
    }
    if (b?.type !== 'channel.chat.message' || b.version !== '1') return fail(res, 400, 'unsupported subscription type or version', 'Bad Request');
    if (b.transport?.method !== 'websocket' || !b.transport.session_id) return fail(res, 400, 'transport.method must be websocket with a session_id', 'Bad Request');
    // channel.chat.message needs user:read:chat for condition.user_id, which must be the token's user.
    if (b.condition?.user_id !== grant.channelId || !b.condition?.broadcaster_user_id) return fail(res, 403, 'subscription condition does not match the token', 'Forbidden');
    if (!eventSub?.subscribe(b.transport.session_id, b.condition.broadcaster_user_id)) return fail(res, 400, 'websocket transport session does not exist or has already disconnected', 'Bad Request');
    res.status(202).json({
      data: [
        {
          id: crypto.randomUUID(),
          status: 'enabled',
          type: b.type,
          version: b.version,
          condition: b.condition,
          created_at: new Date(state.clock()).toISOString(),
          transport: { method: 'websocket', session_id: b.transport.session_id },
          cost: 0,
        },
      ],
      total: 1,
      total_cost: 0,
      max_total_cost: 10,
    });
  });

  r.use('/helix', helix);
  return r;
}
