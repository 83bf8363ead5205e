import { z } from 'zod/v4';
import { defineRoute, fail, RouteDef } from '../http/route';
import { forbidden, unauthorized } from '../http/problem';
import { connectionIdParam, platformParam } from '../schemas/common.schemas';
import { AuthorizeOut, ConnectionList, ConnectionOut, ConnectionOutT, StreamMetrics } from '../schemas/responses.schemas';
import type { ConnectionRecord, StreamingPort } from '../ports';
import type { ApiContext } from './context';

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

  return [
    defineRoute({
      method: 'get',
      path: '/v1/auth/{platform}/authorize',
      operationId: 'authorizePlatform',
      summary: 'Start connecting a channel: the platform\'s authorisation URL and a state bound to you',
      tags: ['connections'],
      params: platform,
      query: z.strictObject({}),
      success: { status: 200, description: 'Where to send the user', schema: AuthorizeOut },
      errors: [503],
      async handler({ params, principal }) {
        const redirectUri = redirectUriOf(params.platform);
        const { url, state } = await streamingOf(ctx).getAuthorizationUrl(params.platform, { userId: principal.userId, redirectUri });
        await ctx.oauthStates.remember(state, principal.userId);
        return { platform: params.platform, url, state, redirectUri };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/auth/{platform}/callback',
      operationId: 'completePlatformAuthorization',
      summary: 'Finish connecting a channel (the platform redirects here with code and state)',
      description:
        'The platform redirects the user\'s browser here, and a browser navigation carries no Bearer token, so this one route ' +
        'is authenticated by the single-use `state` issued to you by /authorize (10 minutes). A Bearer token, when sent, must belong to the same user.',
      tags: ['connections'],
      public: true,
      params: platform,
      // Platforms add their own parameters (scope, authuser, prompt…): unknown ones are ignored here.
      query: z.object({
        state: z.string().regex(/^[A-Za-z0-9._~-]{8,256}$/, 'must be the state returned by /authorize').describe('From /authorize'),
        code: z.string().regex(/^[A-Za-z0-9._~+/=-]{1,2048}$/, 'must be an OAuth authorization code').optional().describe('Authorization code'),
        error: z.string().regex(/^[a-z_]{1,64}$/, 'must be an OAuth error code').optional().describe('Set by the platform when the user declined'),
      }),
      success: { status: 201, description: 'The new connection', schema: ConnectionOut },
      errors: [400, 401, 403, 503],
      async handler({ params, query, req }) {
        const streaming = streamingOf(ctx);
        const header = req.get('authorization');
        let bearerUser: string | null = null;
        if (header) {
          const m = BEARER.exec(header);
          const principal = m ? await ctx.authenticator.authenticate(m[1]) : null;
          if (!principal) throw unauthorized('the API token is invalid or revoked');
          bearerUser = principal.userId;
        }
        const owner = await ctx.oauthStates.peek(query.state);
        if (!owner) throw unauthorized('the state is unknown, used or expired: start again at /authorize');
        if (bearerUser && bearerUser !== owner) throw forbidden('this authorisation was started by another user');
        await ctx.oauthStates.take(query.state);
        if (query.error) fail(400, 'authorization-denied', 'The platform did not authorise the connection', `the platform answered ${query.error}`);
        if (!query.code) fail(400, 'validation-error', 'Your request parameters did not validate', 'code: is required', { invalidParams: [{ name: 'code', in: 'query', reason: 'is required' }] });
        const conn = await streaming.connectPlatform(params.platform, query.code, { userId: owner, redirectUri: redirectUriOf(params.platform), state: query.state });
        return connectionOut(conn);
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
