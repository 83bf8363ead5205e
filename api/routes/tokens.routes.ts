import { z } from 'zod/v4';
import { defineRoute, fail, parseOrThrow, RouteDef } from '../http/route';
import { notFound } from '../http/problem';
import { MAX_TOKEN_LABEL, MAX_TOKENS_PER_USER, type TokenInfo } from '../../shared/auth/api-tokens';
import type { ApiContext, TokenManagement } from './context';

const MAX_EXPIRY_DAYS = 3650;
const tokenId = z.string().regex(/^t_[a-f0-9]{1,32}$/, 'must be a token id (t_…)').describe('Token id');

const Token = z.object({
  tokenId: z.string(),
  label: z.string(),
  createdAt: z.string().describe('ISO-8601'),
  expiresAt: z.string().nullable().describe('ISO-8601; null = never'),
  expired: z.boolean(),
  current: z.boolean().describe('The token this request was made with'),
});

export const CreateTokenBody = z.strictObject({
  label: z.string().min(1, 'must not be empty').max(MAX_TOKEN_LABEL, `must be at most ${MAX_TOKEN_LABEL} characters`).default('api'),
  expiresInDays: z.number({ error: 'must be a number of days' }).int('must be an integer').min(1, 'must be at least 1').max(MAX_EXPIRY_DAYS, `must be at most ${MAX_EXPIRY_DAYS}`).optional()
    .describe('Days until the token stops working; absent = no expiry (a token that expires itself: its expiry)'),
});

function tokensOf(ctx: ApiContext): TokenManagement {
  if (!ctx.tokens) fail(503, 'unavailable', 'Token management is not available', 'this API process was started without the token store');
  return ctx.tokens;
}

const out = (t: TokenInfo, currentId: string, now = Date.now()) => ({
  tokenId: t.tokenId,
  label: t.label,
  createdAt: new Date(t.createdAt).toISOString(),
  expiresAt: t.expiresAt === null ? null : new Date(t.expiresAt).toISOString(),
  expired: t.expiresAt !== null && t.expiresAt <= now,
  current: t.tokenId === currentId,
});

/** /v1/tokens — the caller's own API tokens: list, issue (optionally expiring), revoke. */
export function tokenRoutes(ctx: ApiContext): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/tokens',
      operationId: 'listTokens',
      summary: 'Your API tokens (ids, labels, expiry — never the tokens themselves)',
      tags: ['tokens'],
      query: z.strictObject({}),
      success: { status: 200, description: 'Tokens, newest first', schema: z.object({ tokens: z.array(Token) }) },
      errors: [503],
      async handler({ principal }) {
        return { tokens: (await tokensOf(ctx).listTokens(principal.userId)).map((t) => out(t, principal.tokenId)) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/tokens',
      operationId: 'createToken',
      summary: 'Issue another API token for yourself, optionally expiring',
      description:
        'The answer carries the token, once; it is stored hashed. A token never outlives the token that issued it: called with an expiring token, ' +
        'the new one gets that expiry when `expiresInDays` is absent, and a later one is refused (403 `token-outlives-caller`). ' +
        `At most ${MAX_TOKENS_PER_USER} live tokens per user (409 \`token-limit\`; expired ones do not count): each token has its own rate-limit budget.`,
      tags: ['tokens'],
      query: z.strictObject({}),
      body: CreateTokenBody,
      success: { status: 201, description: 'Created', schema: Token.omit({ current: true }).extend({ token: z.string().describe('shown only in this answer') }) },
      errors: [400, 403, 409, 503],
      async handler({ principal, req }) {
        const body = parseOrThrow(CreateTokenBody, req.body ?? {}, 'body');
        const requested = body.expiresInDays === undefined ? null : Date.now() + body.expiresInDays * 86400_000;
        // Otherwise a token handed out for a day could mint one that never expires, and its expiry would bound nothing.
        const callerExpiry = principal.expiresAt ?? null;
        if (callerExpiry !== null && requested !== null && requested > callerExpiry) {
          fail(403, 'token-outlives-caller', 'A token may not outlive the token that issues it',
            `this token expires at ${new Date(callerExpiry).toISOString()}; ask for fewer days, or issue it with a token that does not expire`);
        }
        const expiresAt = requested ?? callerExpiry;
        const t = await tokensOf(ctx).createToken(principal.userId, body.label, { expiresAt, maxLiveTokens: MAX_TOKENS_PER_USER });
        const { current: _c, ...info } = out({ tokenId: t.tokenId, label: body.label, createdAt: Date.now(), expiresAt }, principal.tokenId);
        return { ...info, token: t.token };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/tokens/{id}',
      operationId: 'revokeToken',
      summary: 'Revoke one of your tokens (its open WebSocket and Socket.IO connections are closed within seconds)',
      tags: ['tokens'],
      params: z.object({ id: tokenId }),
      query: z.strictObject({}),
      success: { status: 204, description: 'Revoked' },
      errors: [400, 404, 503],
      async handler({ params, principal }) {
        // Someone else's token answers like a missing one: ids cannot be probed.
        if (!(await tokensOf(ctx).revokeToken(principal.userId, params.id))) throw notFound(`you have no token ${params.id}`, 'token-not-found');
      },
    }),
  ];
}
