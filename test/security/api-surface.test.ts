import { startApi, RunningApi } from '../../api/api.service';
import { ReadinessService } from '../../api/health/readiness.service';
import type { ConnectionDirectory } from '../../api/ports';
import { testStack, TestStack } from '../support/stack';

const noConnections: ConnectionDirectory = { get: async () => null, listByUser: async () => [] };

/**
 * Issue 17: what the API serves without a token. Only the dashboard's own assets (an allowlist, checked
 * on the decoded path), no Prometheus /metrics on the API port (it moves to METRICS_PORT), and a /readyz
 * that names failing services without their error texts (hosts, ports) and is cached briefly.
 */
describe('security: the API\'s unauthenticated surface', () => {
  let stack: TestStack;
  let api: RunningApi;
  let degraded: RunningApi;

  beforeAll(async () => {
    stack = await testStack();
    api = await startApi(stack.rt, { port: 0, streaming: null, predictions: null, connections: noConnections });
    const dead = 'http://127.0.0.1:9';
    const rt = { ...stack.rt, config: { ...stack.rt.config, CLICKHOUSE_URL: dead }, clickhouseSettings: { ...stack.rt.clickhouseSettings, url: dead } };
    degraded = await startApi(rt, { port: 0, streaming: null, predictions: null, connections: noConnections, metricsPort: null });
  }, 120_000);
  afterAll(async () => {
    await degraded?.close();
    await api?.close();
    await stack?.cleanup();
  });

  const status = async (path: string) => (await fetch(`${api.url}${path}`)).status;

  describe('static files: only the dashboard\'s assets', () => {
    it('serves the dashboard (/, index.html, app.js, style.css, the vendored uPlot)', async () => {
      const root = await fetch(`${api.url}/`);
      expect(root.status).toBe(200);
      expect(root.headers.get('content-type')).toContain('text/html');
      for (const p of ['/index.html', '/app.js', '/style.css', '/vendor/uplot/uPlot.iife.min.js', '/vendor/uplot/uPlot.min.css']) expect({ p, s: await status(p) }).toEqual({ p, s: 200 });
    });

    it.each([
      '/dashboard.browser.test.ts',
      '/dashboard.browser.test.t%73',
      '/dashboard.browser.test.%74s',
      '/%64ashboard.browser.test.ts',
      '/dashboard.browser.test.ts%00.js',
      '/vendor/uplot/uPlot.d.ts',
      '/vendor/uplot/uPlot.d.t%73',
      '/vendor/uplot/../../dashboard.browser.test.ts',
      '/vendor/uplot/%2e%2e/%2e%2e/dashboard.browser.test.ts',
      '/..%2f..%2fpackage.json',
      '/%2e%2e/%2e%2e/package.json',
      '/%E0%A4%A',
    ])('%s is not served', async (p) => {
      const res = await fetch(`${api.url}${p}`);
      expect([400, 404]).toContain(res.status);
      const text = await res.text();
      expect(text).not.toMatch(/import |describe\(|"name": "spacehub-streaming"/);
    });
  });

  it('/metrics is not served on the API port (Prometheus scrapes METRICS_PORT)', async () => {
    expect(await status('/metrics')).toBe(404);
    expect(api.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const scraped = await (await fetch(api.metricsUrl!)).text();
    expect(scraped).toContain('spacehub_api_http_request_duration_seconds');
    const doc = (await (await fetch(`${api.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(doc.paths['/metrics']).toBeUndefined();
  });

  it('/readyz names the failing service without its error text (no host, no port)', async () => {
    const res = await fetch(`${degraded.url}/readyz`);
    const text = await res.text();
    expect({ status: res.status, text }).toMatchObject({ status: 503 });
    const body = JSON.parse(text) as { failing: string[]; detail: string };
    // (on a loaded machine another check may time out too: only ClickHouse's failure is asserted)
    expect(body.failing).toContain('clickhouse');
    expect(body).toMatchObject({ checks: { clickhouse: { ok: false, error: 'unavailable' } } });
    expect(body.detail).toContain('clickhouse: unavailable');
    // The checks' timings (`"ms":9`) are numbers, not the port: leave them out of the port match.
    expect(text.replace(/"ms":\d+/g, '"ms":0')).not.toMatch(/127\.0\.0\.1|:9\b|ECONNREFUSED|localhost/);
  });

  it('/readyz answers from a short cache: checks run at most once per window, concurrent probes share one run', async () => {
    let calls = 0;
    let clock = 1_000_000;
    const r = new ReadinessService({ redis: async () => void calls++ }, { timeoutMs: 1000, cacheMs: 1500, now: () => clock });
    await Promise.all([r.check(), r.check(), r.check()]);
    expect(calls).toBe(1);
    clock += 1000;
    await r.check();
    expect(calls).toBe(1);
    clock += 600;
    await r.check();
    expect(calls).toBe(2);
  });

  it('a failing check keeps its error text for the log only', async () => {
    const logged: unknown[] = [];
    const r = new ReadinessService({ clickhouse: async () => { throw new Error('connect ECONNREFUSED 10.1.2.3:8123'); } }, { logger: { warn: (o: unknown) => void logged.push(o) } });
    const out = await r.check();
    expect(out.checks.clickhouse).toMatchObject({ ok: false, error: 'unavailable' });
    expect(JSON.stringify(out)).not.toContain('10.1.2.3');
    // The log gets the whole error (the logger's err serializer writes its message, type and cause).
    expect(logged).toHaveLength(1);
    expect(String((logged[0] as { err?: unknown }).err)).toContain('10.1.2.3');
  });
});
