import crypto from 'node:crypto';
import type { RequestHandler } from 'express';
import { Histogram } from 'prom-client';
import type { Logger } from '../../shared/logging/logger';
import { getOrCreate, metricsRegistry } from '../../shared/metrics/metrics';

const duration = () =>
  getOrCreate(
    'spacehub_api_http_request_duration_seconds',
    () =>
      new Histogram({
        name: 'spacehub_api_http_request_duration_seconds',
        help: 'REST API request duration by route template and status',
        labelNames: ['method', 'route', 'status'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers: [metricsRegistry],
      }),
  );

const REQUEST_ID = /^[\w.-]{1,64}$/;

/**
 * A request id (the caller's X-Request-Id when it is sane, else a new one) for correlation, one log
 * line per request and a duration histogram labelled by route template — never by raw path, which
 * would give every channel id its own series. Query strings are not logged (OAuth codes travel there).
 */
export function requestLog(logger: Logger): RequestHandler {
  const hist = duration();
  return (req, res, next) => {
    const given = req.get('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    res.locals.requestId = requestId;
    res.set('X-Request-Id', requestId);
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : res.statusCode === 404 ? 'unmatched' : req.baseUrl || 'static';
      hist.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      logger.debug({ requestId, method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000), userId: res.locals.principal?.userId }, 'request');
    });
    next();
  };
}
