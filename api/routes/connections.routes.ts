import { z } from 'zod/v4';
import { defineRoute, fail, parseOrThrow, RouteDef } from '../http/route';
import { toProblemError } from '../http/error.middleware';
import { clearBindingCookie, hashNonce, isBrowserNavigation, nonceMatches, readBindingCookie, setBindingCookie } from '../http/oauth-binding';
import { forbidden, unauthorized } from '../http/problem';
import { connectionIdParam, platformParam } from '../schemas/common.schemas';
import { AuthorizeOut, ConnectionList, ConnectionOut, ConnectionOutT, StreamMetrics } from '../schemas/responses.schemas';
import type { ConnectionRecord, StreamingPort } from '../ports';
import type { ApiContext } from './context';
import { figuresNeedingReconnect } from '../../platforms/scope-figures';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Connections never leave the API with tokens: only these fields are copied. */
export function connectionOut(c: ConnectionRecord): ConnectionOutT {
  const time = (v: unknown) => (typeof v === 'number' || typeof v === 'string' || v instanceof Date ? new Date(v).toISOString() : null);
  return {
    connectionId: c.connectionId,
    platform: c.platform,
    channelId: c.channelId,
    login: c.login,
    displayName: c.displayName,
    status: c.status,
    scopes: [...c.scopes],
    needsReconnectFor: figuresNeedingReconnect(c.platform, c.scopes),
    createdAt: time(c.createdAt),
    updatedAt: time(c.updatedAt),
  };
}

function streamingOf(ctx: ApiContext): StreamingPort {
  if (!ctx.streaming) fail(503, 'platforms-unavailable', 'Platform integration is not available', 'this API process runs without the platforms part');
  return ctx.streaming;
}

/** /v1/auth/{platform}/… (OAuth) and /v1/connections — through the platforms part's StreamingService. */
export function connectionRoutes(ctx: ApiContext): RouteDef[] {
  const platform = z.object({ platform: platformParam(ctx.platforms) });
  const redirectUriOf = (p: string) => `${ctx.publicBaseUrl.replace(/\/$/, '')}/v1/auth/${p}/callback`;

  const stateParam = z.string().regex(/^[A-Za-z0-9._~-]{8,256}$/, 'must be the state returned by /authorize');
  const codeParam = z.string().regex(/^[A-Za-z0-9._~+/=-]{1,2048}$/, 'must be an OAuth authorization code');
  const HeadlessConnectBody = z.strictObject({
    platform: platformParam(ctx.platforms),
    code: codeParam.describe('The `code` of the platform\'s redirect, captured by the headless client'),
    state: stateParam.describe('From /authorize?client=headless'),
  });

  /** Finishes a started authorisation for its user: the state is spent whatever the platform answers. */
  async function finish(platform: string, code: string, state: string, userId: string) {
    try {
      return connectionOut(await streamingOf(ctx).connectPlatform(platform, code, { userId, redirectUri: redirectUriOf(platform), state }));
    } finally {
      await ctx.oauthStates.discard(state);
    }
  }

  return [
    defineRoute({
      method: 'get',
      path: '/v1/auth/{platform}/authorize',
      operationId: 'authorizePlatform',
      summary: 'Start connecting a channel: the platform\'s authorisation URL and a state bound to you and to this browser',
      description:
        'Browser flow (default): also sets an HttpOnly, SameSite=Lax cookie (`spacehub_oauth_<platform>`, Path=/v1/auth, Secure when the public URL is https) ' +
        'that binds the state to this browser; call it with `fetch(…, { credentials: \'same-origin\' })`, then navigate to `url`. Only that browser can finish ' +
        'the flow at the callback. `client=headless`: no cookie; the state can only be finished by `POST /v1/connections` with your Bearer token, ' +
        'the code and the state — the headless client captures the platform\'s redirect itself; the callback never completes a headless state.',
      tags: ['connections'],
      params: platform,
      query: z.strictObject({ client: z.enum(['browser', 'headless'], { error: 'must be browser or headless' }).optional().describe('Who finishes the flow (default browser)') }),
      success: { status: 200, description: 'Where to send the user', schema: AuthorizeOut },
      errors: [400, 503],
      async handler({ params, query, principal, res }) {
        const redirectUri = redirectUriOf(params.platform);
        const { url, state } = await streamingOf(ctx).getAuthorizationUrl(params.platform, { userId: principal.userId, redirectUri });
        if (query.client === 'headless') await ctx.oauthStates.bind(state, { userId: principal.userId, client: 'headless' });
        else {
          const nonce = setBindingCookie(res, params.platform, ctx.publicBaseUrl, ctx.oauthStates.ttlSeconds);
          await ctx.oauthStates.bind(state, { userId: principal.userId, client: 'browser', nonceHash: hashNonce(nonce) });
        }
        res.set('Cache-Control', 'no-store');
        return { platform: params.platform, url, state, redirectUri };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/auth/{platform}/callback',
      operationId: 'completePlatformAuthorization',
      summary: 'Finish connecting a channel in the browser that started it (the platform redirects here with code and state)',
      description:
        'A browser navigation carries no Bearer token, so this route is authenticated by the single-use `state` issued by /authorize (it lives OAUTH_STATE_TTL_SECONDS, 10 minutes by default) ' +
        '**and** the binding cookie /authorize set in the same browser: without the cookie, or with another one, nothing is connected ' +
        '(403 `oauth-browser-mismatch`); a headless state is refused (403 `oauth-headless-state`). A Bearer token, when sent, must belong to the same user. ' +
        'A browser navigation (Accept prefers text/html) is answered 303 to `/?connected=<platform>` or `/?connect_error=<problem slug>`; other clients get ' +
        '201 with the connection or problem+json.',
      tags: ['connections'],
      public: true,
      params: platform,
      // Platforms add their own parameters (scope, authuser, prompt…): unknown ones are ignored here.
      query: z.object({
        state: stateParam.describe('From /authorize'),
        code: codeParam.optional().describe('Authorization code'),
        error: z.string().regex(/^[a-z_]{1,64}$/, 'must be an OAuth error code').optional().describe('Set by the platform when the user declined'),
      }),
      success: { status: 201, description: 'The new connection (a browser navigation gets 303 to /?connected=<platform>)', schema: ConnectionOut },
      errors: [400, 401, 403, 503],
      async handler({ params, query, req, res }) {
        const navigation = isBrowserNavigation(req);
        const nonce = readBindingCookie(req, params.platform);
        if (nonce) clearBindingCookie(res, params.platform, ctx.publicBaseUrl);
        try {
          streamingOf(ctx);
          const header = req.get('authorization');
          let bearerUser: string | null = null;
          if (header) {
            const m = BEARER.exec(header);
            const principal = m ? await ctx.authenticator.authenticate(m[1]) : null;
            if (!principal) throw unauthorized('the API token is invalid or revoked');
            bearerUser = principal.userId;
          }
          const started = await ctx.oauthStates.peek(query.state);
          if (!started) throw unauthorized('the state is unknown, used or expired: start again at /authorize');
          if (bearerUser && bearerUser !== started.userId) throw forbidden('this authorisation was started by another user');
          if (started.client === 'headless') {
            await ctx.oauthStates.discard(query.state);
            fail(403, 'oauth-headless-state', 'This authorisation belongs to a headless client',
              'it was started with client=headless, so it can only be finished by POST /v1/connections with the Bearer token of the user who started it; nothing was connected');
          }
          if (!nonceMatches(started, nonce)) {
            await ctx.oauthStates.discard(query.state);
            fail(403, 'oauth-browser-mismatch', 'This browser did not start the authorisation',
              `${nonce ? 'the binding cookie does not match this authorisation' : 'the binding cookie set by /authorize is missing'}, so another browser started it; nothing was connected: start again from the dashboard`);
          }
          if (query.error) {
            await ctx.oauthStates.discard(query.state);
            fail(400, 'authorization-denied', 'The platform did not authorise the connection', `the platform answered ${query.error}`);
          }
          if (!query.code) fail(400, 'validation-error', 'Your request parameters did not validate', 'code: is required', { invalidParams: [{ name: 'code', in: 'query', reason: 'is required' }] });
          const conn = await finish(params.platform, query.code, query.state, started.userId);
          if (!navigation) return conn;
          res.redirect(303, `/?connected=${encodeURIComponent(params.platform)}`);
          return undefined;
        } catch (err) {
          const problem = toProblemError(err);
          // Server faults keep the logged problem+json answer; a browser is sent back to the dashboard otherwise.
          if (!navigation || problem.status >= 500) throw err;
          res.redirect(303, `/?connect_error=${encodeURIComponent(problem.slug)}`);
          return undefined;
        }
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/connections',
      operationId: 'connectPlatformHeadless',
      summary: 'Finish connecting a channel from a headless client (state from /authorize?client=headless)',
      description:
        'For tools without a browser session of their own: start with `GET /v1/auth/{platform}/authorize?client=headless`, let the user consent at `url`, ' +
        'capture the platform\'s redirect to `redirectUri` (its `code` and `state`) in the tool, and post them here with the same user\'s Bearer token. ' +
        'Only headless states are accepted (403 `oauth-browser-state` otherwise), and only from the user who started them (403); a third party\'s ' +
        'browser landing on the callback with a headless state connects nothing.',
      tags: ['connections'],
      query: z.strictObject({}),
      body: HeadlessConnectBody,
      success: { status: 201, description: 'The new connection', schema: ConnectionOut },
      errors: [400, 401, 403, 503],
      async handler({ principal, req }) {
        const body = parseOrThrow(HeadlessConnectBody, req.body, 'body');
        streamingOf(ctx);
        const started = await ctx.oauthStates.peek(body.state);
        if (!started) throw unauthorized('the state is unknown, used or expired: start again at /authorize?client=headless');
        if (started.userId !== principal.userId) throw forbidden('this authorisation was started by another user');
        if (started.client !== 'headless') fail(403, 'oauth-browser-state', 'This authorisation belongs to a browser', 'it was started for a browser, so it can only be finished at the callback in that browser');
        return finish(body.platform, body.code, body.state, started.userId);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/connections',
      operationId: 'listConnections',
      summary: 'Your connected channels',
      tags: ['connections'],
      query: z.strictObject({}),
      success: { status: 200, description: 'Connections (never tokens)', schema: ConnectionList },
      errors: [503],
      async handler({ principal }) {
        const list = await streamingOf(ctx).listConnections(principal.userId);
        return { connections: list.map(connectionOut) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/connections/{id}',
      operationId: 'disconnectPlatform',
      summary: 'Disconnect a channel (revokes its platform token)',
      tags: ['connections'],
      params: z.object({ id: connectionIdParam }),
      success: { status: 204, description: 'Disconnected' },
      errors: [400, 403, 404, 503],
      async handler({ params, principal }) {
        const streaming = streamingOf(ctx);
        await ctx.access.requireConnection(principal, params.id);
        await streaming.disconnectPlatform(principal.userId, params.id);
        return undefined;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/connections/{id}/metrics',
      operationId: 'getConnectionStreamMetrics',
      summary: 'Current view of the channel behind one of your connections (StreamingMetricsService.getStreamMetrics)',
      tags: ['connections', 'channels'],
      params: z.object({ id: connectionIdParam }),
      query: z.strictObject({}),
      success: { status: 200, description: 'The channel now', schema: StreamMetrics },
      errors: [400, 403, 404],
      async handler({ params, principal }) {
        await ctx.access.requireConnection(principal, params.id);
        return ctx.metrics.getStreamMetrics(params.id);
      },
    }),
  ];
}
