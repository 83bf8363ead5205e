import { z } from 'zod/v4';
import { defineRoute, fail, parseOrThrow, RouteDef } from '../http/route';
import { ProblemError, validationProblem } from '../http/problem';
import { WEBHOOK_EVENT_TYPES, WEBHOOK_FORMATS } from '../../notifications/webhook.types';
import { WebhookTargetError } from '../../notifications/webhook-url.guard';
import type { WebhookService } from '../../notifications/webhook.service';
import type { ApiContext } from './context';

/** /v1/webhooks — the caller's outbound notification endpoints (notifications/README.md). */
const webhookId = z.string().regex(/^wh_[A-Za-z0-9_-]{1,32}$/, 'must be a webhook id (wh_…)').describe('Webhook id');

const Endpoint = z.object({
  id: z.string(),
  url: z.string(),
  format: z.enum(WEBHOOK_FORMATS),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
  description: z.string(),
  createdAt: z.string().describe('ISO-8601'),
});
const Created = Endpoint.extend({ secret: z.string().describe('Signing secret (format json): shown only in this answer') });
const Delivery = z.object({
  alertId: z.string(),
  eventType: z.string(),
  status: z.enum(['pending', 'retrying', 'delivered', 'failed', 'dead_lettered', 'skipped']),
  attempts: z.number(),
  lastStatusCode: z.number().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  deliveredAt: z.string().nullable(),
});

export const CreateWebhookBody = z.strictObject({
  url: z.string().max(2048, 'must be at most 2048 characters').describe('http(s) URL of the receiver (public addresses only)'),
  format: z.enum(WEBHOOK_FORMATS, { error: `must be one of ${WEBHOOK_FORMATS.join(', ')}` }).default('json'),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES, { error: `must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` })).min(1, 'must name at least one event type').max(WEBHOOK_EVENT_TYPES.length * 2),
  description: z.string().max(200, 'must be at most 200 characters').optional(),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function serviceOf(ctx: ApiContext): WebhookService {
  if (!ctx.webhooks) fail(503, 'unavailable', 'Webhooks are not available', 'notifications are not configured on this server (TOKEN_ENCRYPTION_KEYS)');
  return ctx.webhooks;
}

/** Typed errors of the notifications part → problems (400 naming `url`, 404, 409). */
async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof WebhookTargetError) throw validationProblem([{ name: 'url', in: 'body', reason: err.message }]);
    const code = (err as { code?: string }).code;
    if (code === 'WEBHOOK_NOT_FOUND') throw new ProblemError(404, 'webhook-not-found', 'Webhook not found', (err as Error).message);
    if (code === 'WEBHOOK_LIMIT') throw new ProblemError(409, 'webhook-limit', 'Too many webhooks', (err as Error).message);
    throw err;
  }
}

export function webhookRoutes(ctx: ApiContext): RouteDef[] {
  const byId = z.object({ id: webhookId });
  return [
    defineRoute({
      method: 'post',
      path: '/v1/webhooks',
      operationId: 'createWebhook',
      summary: 'Register a webhook endpoint for alert types',
      description: 'The answer carries the signing secret, once. The URL must be http(s) on a public address (400 otherwise).',
      tags: ['webhooks'],
      query: z.strictObject({}),
      body: CreateWebhookBody,
      success: { status: 201, description: 'Created', schema: Created },
      errors: [400, 409, 503],
      async handler({ principal, req }) {
        const body = parseOrThrow(CreateWebhookBody, req.body, 'body');
        const e = await mapped(() => serviceOf(ctx).create(principal.userId, body));
        return { id: e.id, url: e.url, format: e.format, events: e.events, description: e.description, createdAt: iso(e.createdAt), secret: e.secret };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/webhooks',
      operationId: 'listWebhooks',
      summary: 'The caller\'s webhook endpoints (never their secrets)',
      tags: ['webhooks'],
      query: z.strictObject({}),
      success: { status: 200, description: 'Endpoints', schema: z.object({ webhooks: z.array(Endpoint) }) },
      errors: [503],
      async handler({ principal }) {
        const list = await serviceOf(ctx).list(principal.userId);
        return { webhooks: list.map((e) => ({ id: e.id, url: e.url, format: e.format, events: e.events, description: e.description, createdAt: iso(e.createdAt) })) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/webhooks/{id}',
      operationId: 'deleteWebhook',
      summary: 'Delete a webhook endpoint',
      tags: ['webhooks'],
      params: byId,
      query: z.strictObject({}),
      success: { status: 204, description: 'Deleted' },
      errors: [400, 404, 503],
      async handler({ params, principal }) {
        await mapped(() => serviceOf(ctx).delete(principal.userId, params.id));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/webhooks/{id}/test',
      operationId: 'testWebhook',
      summary: 'Queue a test notification to the endpoint',
      tags: ['webhooks'],
      params: byId,
      query: z.strictObject({}),
      description: 'At most NOTIFY_TEST_PER_MINUTE per user (429 with Retry-After beyond): each one is a real POST to the endpoint.',
      success: { status: 200, description: 'Queued; follow it in /deliveries', schema: z.object({ alertId: z.string(), status: z.string() }) },
      errors: [400, 404, 429, 503],
      async handler({ params, principal }) {
        const d = await ctx.webhookTestLimiter?.hit(`webhook-test:${principal.userId}`);
        if (d && !d.allowed) {
          throw new ProblemError(429, 'rate-limited', 'Too many test deliveries', `at most ${d.limit} test deliveries per minute; retry after ${d.retryAfterSeconds} s`, { retryAfterSeconds: d.retryAfterSeconds }, { 'Retry-After': String(d.retryAfterSeconds) });
        }
        return mapped(() => serviceOf(ctx).sendTest(principal.userId, params.id));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/webhooks/{id}/deliveries',
      operationId: 'listWebhookDeliveries',
      summary: 'Recent deliveries of an endpoint with their status (pending, retrying, delivered, failed, dead_lettered)',
      tags: ['webhooks'],
      params: byId,
      query: z.strictObject({ limit: z.coerce.number({ error: 'must be an integer' }).int('must be an integer').min(1, 'must be at least 1').max(500, 'must be at most 500').default(50).describe('Most deliveries to return') }),
      success: { status: 200, description: 'Deliveries, newest first', schema: z.object({ deliveries: z.array(Delivery) }) },
      errors: [400, 404, 503],
      async handler({ params, query, principal }) {
        const list = await mapped(() => serviceOf(ctx).deliveries(principal.userId, params.id, query.limit));
        return {
          deliveries: list.map((d) => ({
            alertId: d.alertId, eventType: d.eventType, status: d.status, attempts: d.attempts, lastStatusCode: d.lastStatusCode, lastError: d.lastError,
            createdAt: iso(d.createdAt)!, updatedAt: iso(d.updatedAt)!, deliveredAt: iso(d.deliveredAt),
          })),
        };
      },
    }),
  ];
}
