import { z } from 'zod/v4';
import type { RouteDef } from '../http/route';
import { Problem } from '../schemas/responses.schemas';

/**
 * OpenAPI 3.1 from the route declarations: parameters come from the very zod schemas that validate
 * requests (zod's own JSON Schema output, 2020-12 — the dialect OpenAPI 3.1 uses), responses from the
 * schemas the services' return types are inferred from. No second description to keep in sync.
 */
type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'A parameter did not validate; invalidParams names each field',
  401: 'Missing, malformed, invalid or revoked API token',
  403: 'The channel or connection is not yours',
  404: 'Not found (for predictions and recommendations: no model is trained)',
  413: 'Request body too large',
  429: 'Rate limit exceeded; see Retry-After',
  500: 'Internal error (quote requestId)',
  503: 'A part this route needs is unavailable',
};

function parameters(schema: z.ZodObject<z.ZodRawShape> | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const obj = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(obj.properties ?? {}).map(([name, s]) => {
    const { description, ...rest } = s;
    return { name, in: where, required: where === 'path' || (obj.required ?? []).includes(name), ...(description ? { description } : {}), schema: rest };
  });
}

export function buildOpenApiDocument(routes: RouteDef[], info: { title: string; version: string; serverUrl?: string }): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const errors = new Set<number>(r.errors ?? []);
    if (!r.public) [401, 429].forEach((s) => errors.add(s));
    if (r.params || (r.query && Object.keys(r.query.shape).length > 0)) errors.add(400);
    errors.add(500);
    const responses: Record<string, unknown> = {
      [r.success.status]: {
        description: r.success.description,
        ...(r.success.schema ? { content: { [r.success.contentType ?? 'application/json']: { schema: jsonSchema(r.success.schema, 'output') } } } : {}),
      },
    };
    for (const s of [...errors].sort()) {
      responses[s] = {
        description: STATUS_TEXT[s] ?? 'Error',
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
        ...(s === 429 ? { headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait' } } } : {}),
      };
    }
    (paths[r.path] ??= {})[r.method] = {
      operationId: r.operationId,
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      tags: r.tags,
      security: r.public ? [] : [{ bearer: [] }],
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body, 'input') } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version, description: 'Space HUB Streaming analytics API. Errors are RFC 7807 problem+json.' },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'shub_… API token (spacehub tokens create)' } },
      schemas: { Problem: jsonSchema(Problem, 'output') },
    },
  };
}
