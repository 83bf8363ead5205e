import { z } from 'zod/v4';
import { defineRoute, RouteDef } from '../http/route';
import { ProblemError } from '../http/problem';
import { Health, Readiness } from '../schemas/responses.schemas';
import type { ApiContext } from './context';

/**
 * Probes and the document: public, unauthenticated, not rate limited (they carry no user data). Prometheus
 * metrics are not here: they are served on METRICS_PORT only (shared/metrics/metrics.server.ts), which is
 * not meant to be reachable from where users are.
 */
export function systemRoutes(ctx: ApiContext, openapi: () => unknown): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/healthz',
      operationId: 'healthz',
      summary: 'Liveness: the process answers',
      tags: ['system'],
      public: true,
      success: { status: 200, description: 'Alive', schema: Health },
      async handler() {
        return { status: 'ok' };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/readyz',
      operationId: 'readyz',
      summary: 'Readiness: Kafka, ClickHouse, Redis and the Schema Registry answer',
      tags: ['system'],
      public: true,
      success: { status: 200, description: 'Every check passed', schema: Readiness },
      errors: [503],
      async handler() {
        const r = await ctx.readiness.check();
        if (!r.ready) {
          const failing = Object.entries(r.checks).filter(([, c]) => !c.ok);
          throw new ProblemError(503, 'not-ready', 'Not ready', failing.map(([n, c]) => `${n}: ${c.error}`).join('; '), { failing: failing.map(([n]) => n), checks: r.checks });
        }
        return { status: 'ready', checks: r.checks };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/openapi.json',
      operationId: 'openapi',
      summary: 'This document',
      tags: ['system'],
      public: true,
      success: { status: 200, description: 'OpenAPI 3.1', schema: z.record(z.string(), z.unknown()) },
      async handler() {
        return openapi();
      },
    }),
  ];
}
