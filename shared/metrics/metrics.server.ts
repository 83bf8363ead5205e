import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { metricsRegistry } from './metrics';

export interface MetricsServerHandle {
  url: string;
  /** Releases this holder's use; the server stops when the last holder released it. Safe to call twice. */
  close(): Promise<void>;
}

let shared: { server: http.Server; url: string; holders: number; port: number } | undefined;

/**
 * A tiny HTTP server for Prometheus: GET /metrics on METRICS_PORT, for processes without the API
 * (ingest, processors). Several services in one process (`spacehub all`) share one server: the
 * first caller starts it, the last close() stops it. Port 0 picks a free port (tests).
 */
export async function acquireMetricsServer(port: number, host = '127.0.0.1'): Promise<MetricsServerHandle> {
  if (!shared) {
    const server = http.createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
        return;
      }
      metricsRegistry.metrics().then(
        (body) => res.writeHead(200, { 'Content-Type': metricsRegistry.contentType }).end(body),
        (err: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    shared = { server, url: `http://${host}:${addr.port}/metrics`, holders: 0, port: addr.port };
  }
  const s = shared;
  s.holders++;
  let released = false;
  return {
    url: s.url,
    async close() {
      if (released) return;
      released = true;
      s.holders--;
      if (s.holders > 0 || shared !== s) return;
      shared = undefined;
      await new Promise<void>((resolve) => s.server.close(() => resolve()));
    },
  };
}
