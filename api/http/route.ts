import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod/v4';
import type { Principal } from '../../shared/auth/api-tokens';
import type { SealedState } from '../../shared/redis/data-version';
import { InvalidParam, ProblemError, validationProblem } from './problem';
import { etagMatches, JsonBody } from './json-body';

/**
 * A route is declared once — path, zod schemas for its path and query parameters, its responses and
 * its handler — and both the express wiring (below) and the OpenAPI document (openapi/openapi.document.ts)
 * are generated from that declaration, so the document cannot drift from what is validated.
 */
export type HttpMethod = 'get' | 'post' | 'delete';

export interface ResponseSpec {
  description: string;
  /** Absent for bodiless answers (204) and for problem+json answers, which share one schema. */
  schema?: z.ZodType;
}

/** What the request guard (request-guard.ts) read for a channel route: a hint for the ownership check, the version for the series cache. */
export interface ChannelPrefetch {
  activeOwners?: readonly string[];
  dataVersion: string;
  /** The channel's sealed state (shared/redis/data-version.ts), when the guard reads it; null: unknown. */
  sealed?: SealedState | null;
}

export interface RouteContext<P, Q> {
  params: P;
  query: Q;
  /** Not set on public routes (their handlers do not read it). */
  principal: Principal;
  /** On a `readsChannel` route with valid path parameters: what the request guard read of the channel with the token. */
  channel?: ChannelPrefetch;
  req: Request;
  res: Response;
}

type AnyObject = z.ZodObject<z.ZodRawShape>;

export interface RouteDef<P extends AnyObject = AnyObject, Q extends AnyObject = AnyObject> {
  method: HttpMethod;
  /** OpenAPI-style path: `/v1/channels/{platform}/{channelId}/metrics`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  /** Public routes skip authentication and rate limiting (health, readiness, metrics, the document). */
  public?: boolean;
  /**
   * The route reads the channel of its `{platform}/{channelId}`: the request guard reads the channel's
   * owners and data version in the same Redis round trip as the token and the rate limit (RouteContext.channel).
   */
  readsChannel?: boolean;
  params?: P;
  query?: Q;
  /** JSON request body, for the document; the handler validates it with `parseOrThrow(schema, req.body, 'body')`. */
  body?: z.ZodType;
  /** The success response comes first; error statuses list what this route can answer besides 401/429/500. */
  success: { status: 200 | 201 | 204; description: string; schema?: z.ZodType; contentType?: string };
  errors?: number[];
  /** What the handler returns: the body (sent with res.json), or a JsonBody serialized ahead of time (sent as is, with ETag / 304). */
  handler(ctx: RouteContext<z.output<P>, z.output<Q>>): Promise<unknown>;
}

/** Keeps the generic parameters of one route inferred while the list of routes stays untyped. */
export function defineRoute<P extends AnyObject = z.ZodObject<Record<never, never>>, Q extends AnyObject = z.ZodObject<Record<never, never>>>(def: RouteDef<P, Q>): RouteDef {
  return def as unknown as RouteDef;
}

export const toExpressPath = (p: string) => p.replace(/\{(\w+)\}/g, ':$1');

/** zod issues → the fields the client named, so a 400 says which parameter was wrong. */
export function invalidParamsOf(error: z.ZodError, where: InvalidParam['in']): InvalidParam[] {
  const out: InvalidParam[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ name: key, in: where, reason: 'is not a known parameter' });
      continue;
    }
    const name = issue.path.map(String).join('.') || '(root)';
    out.push({ name, in: where, reason: issue.message });
  }
  return out;
}

export function parseOrThrow<T extends z.ZodType>(schema: T | undefined, value: unknown, where: InvalidParam['in']): z.output<T> {
  if (!schema) return {} as z.output<T>;
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw validationProblem(invalidParamsOf(r.error, where));
  return r.data;
}

export function mountRoutes(router: Router, routes: RouteDef[], guard: (route: RouteDef) => RequestHandler[]): void {
  for (const route of routes) {
    const handler = async (req: Request, res: Response, next: NextFunction) => {
      try {
        const params = parseOrThrow(route.params, req.params, 'path');
        const query = parseOrThrow(route.query, req.query, 'query');
        const body = await route.handler({ params, query, principal: res.locals.principal as Principal, channel: res.locals.channelPrefetch as ChannelPrefetch | undefined, req, res });
        if (res.headersSent) return;
        if (route.success.status === 204) {
          res.status(204).end();
          return;
        }
        if (body instanceof JsonBody) sendJsonBody(req, res, route.success.status, body);
        else res.status(route.success.status).json(body);
      } catch (err) {
        next(err);
      }
    };
    // Express 5 names the matched route on req.route; metrics label requests with this template instead.
    router[route.method](toExpressPath(route.path), ...(route.public ? [] : guard(route)), handler);
  }
}

/**
 * Sends a JsonBody: 304 when the client already has it. `private, no-cache`: the answer is one
 * user's data (no shared cache may keep it), and a client must revalidate each time, so it never
 * shows a series older than the data — the 304 is as cheap as the checks before it allow.
 */
function sendJsonBody(req: Request, res: Response, status: number, body: JsonBody): void {
  res.setHeader('ETag', body.etag);
  res.setHeader('Cache-Control', 'private, no-cache');
  if (etagMatches(req.get('if-none-match'), body.etag)) {
    res.status(304).end();
    return;
  }
  res.status(status);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', String(body.length));
  // Corked (end() uncorks): headers and parts leave in one writev, the kept bytes without a copy per request.
  res.cork();
  for (const part of body.parts) res.write(part);
  res.end();
}

/** For handlers that must answer with a problem they decide on (e.g. 404 "no model is trained"). */
export function fail(status: number, slug: string, title: string, detail: string, extensions: Record<string, unknown> = {}): never {
  throw new ProblemError(status, slug, title, detail, extensions);
}
