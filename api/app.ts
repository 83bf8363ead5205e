import fs from 'node:fs';
import express, { Express } from 'express';
import type { Logger } from '../shared/logging/logger';
import { errorHandler, notFoundHandler } from './http/error.middleware';
import type { RequestGuard } from './http/request-guard';
import { requestLog } from './http/request-log.middleware';
import { serveDashboard } from './http/static-assets';
import { mountRoutes, RouteDef } from './http/route';
import { buildOpenApiDocument } from './openapi/openapi.document';
import { channelRoutes } from './routes/channels.routes';
import { connectionRoutes } from './routes/connections.routes';
import type { ApiContext } from './routes/context';
import { creatorRoutes } from './routes/creators.routes';
import { systemRoutes } from './routes/system.routes';
import { quotaRoutes } from './routes/quota.routes';
import { webhookRoutes } from './routes/webhooks.routes';
import { tokenRoutes } from './routes/tokens.routes';

export interface AppOptions {
  logger: Logger;
  /** Authentication and the rate limit of every non-public route (http/request-guard.ts). */
  guard: RequestGuard;
  /** Largest accepted request body; larger ones are answered 413. */
  maxBodyBytes: number;
  /** The built-in web dashboard (dashboards/web), served at / when the folder exists. */
  staticDir?: string;
  version: string;
}

/** The express app: middleware order is request id/log → body limit → routes → static → 404 → problem+json. */
export function createApp(ctx: ApiContext, o: AppOptions): { app: Express; routes: RouteDef[] } {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestLog(o.logger.child({ module: 'api' })));
  app.use(express.json({ limit: o.maxBodyBytes }));

  let document: unknown;
  const routes: RouteDef[] = [];
  routes.push(
    ...systemRoutes(ctx, () => (document ??= buildOpenApiDocument(routes, { title: 'Space HUB Streaming API', version: o.version, serverUrl: ctx.publicBaseUrl }))),
    ...connectionRoutes(ctx),
    ...channelRoutes(ctx),
    ...creatorRoutes(ctx),
    ...webhookRoutes(ctx),
    ...tokenRoutes(ctx),
    ...quotaRoutes(ctx),
  );
  const router = express.Router();
  mountRoutes(router, routes, o.guard);
  app.use(router);

  // The folder also holds the dashboard's TypeScript tests: only its browser assets are served (an allowlist).
  if (o.staticDir && fs.existsSync(o.staticDir)) app.use(serveDashboard(o.staticDir));
  // `/` always answers: the dashboard when it is there, else a pointer to the document.
  app.get('/', (_req, res) => {
    res.json({ name: 'Space HUB Streaming API', openapi: '/openapi.json', health: '/healthz', ready: '/readyz' });
  });

  app.use(notFoundHandler);
  app.use(errorHandler(o.logger.child({ module: 'api' })));
  return { app, routes };
}
