import http from 'node:http';
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Alert } from '../../shared/events/events';
import type { RunningApi } from '../../api/api.service';
import { eventually } from '../support/stack';
import type { WebhookReceiver } from './webhook-receiver';
import { notifyHarness, type NotifyHarness } from './notify.harness';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/**
 * A receiver that never finishes: it answers 200 with headers at once, then trickles one body byte
 * a second, so an idle-socket timer never fires. Records how many requests it holds at once and how
 * many the client gave up on.
 */
class Tarpit {
  open = 0;
  maxOpen = 0;
  started = 0;
  abortedByClient = 0;
  private server!: http.Server;
  private readonly timers = new Set<NodeJS.Timeout>();
  url = '';

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      req.resume();
      this.started++;
      this.open++;
      this.maxOpen = Math.max(this.maxOpen, this.open);
      res.writeHead(200, { 'content-type': 'text/plain' });
      const t = setInterval(() => res.write('.'), 1000);
      this.timers.add(t);
      res.on('close', () => {
        clearInterval(t);
        this.timers.delete(t);
        this.open--;
        this.abortedByClient++;
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await new Promise<void>((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }
}

/**
 * Issue 17, hostile creators: one user's webhook endpoints cannot hold the delivery worker. Real Kafka,
 * Registry, Redis, the real NotifyService; receivers on 127.0.0.1.
 */
describe('notifications: deliveries isolated per user (real Kafka, Registry, Redis)', () => {
  const DEADLINE_MS = 30_000;
  let n: NotifyHarness;
  let api: RunningApi;
  let tokens: Record<string, string> = {};
  let rx: WebhookReceiver;
  const tarpit = new Tarpit();

  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(`${api.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as Json };
  };
  const hook = async (user: string, url: string) => {
    const r = await call('POST', '/v1/webhooks', tokens[user]!, { url, format: 'json', events: ['stream_started'] });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  const produce = async (userId: string, channelId: string) => {
    const alertId = `stream_started:twitch:${channelId}:${crypto.randomBytes(4).toString('hex')}`;
    const alert: Alert = { alertId, type: 'stream_started', userId, platform: 'twitch', channelId, occurredAt: Date.now(), severity: 'info', message: 'live', detailsJson: '{}' };
    await n.produceAlert(alert);
    return alertId;
  };

  beforeAll(async () => {
    n = await notifyHarness({
      env: {
        ALLOW_PRIVATE_WEBHOOK_TARGETS: 'true', WEBHOOK_ALLOWED_PORTS: '*', API_RATE_LIMIT_PER_MINUTE: '100000',
        NOTIFY_CONCURRENCY: '4', NOTIFY_USER_CONCURRENCY: '2', NOTIFY_HTTP_TIMEOUT_MS: String(DEADLINE_MS),
        NOTIFY_MAX_ATTEMPTS: '10', NOTIFY_BACKOFF_INITIAL_MS: '50', NOTIFY_BACKOFF_MAX_MS: '100',
        NOTIFY_CIRCUIT_FAILURES: '3', NOTIFY_CIRCUIT_OPEN_SECONDS: '600', NOTIFY_TEST_PER_MINUTE: '3',
      },
      users: { mallory: 'mallory', alice: 'alice', bob: 'bob' },
    });
    ({ rx, tokenOf: tokens } = n);
    await tarpit.start();
    // Alerts go to the channel's active owners.
    for (const [user, channel] of [['mallory', 'm1'], ['alice', 'a1'], ['bob', 'b1']] as const) await n.connect(user, 'twitch', channel);
    api = await n.start({ streaming: null, predictions: null });
  }, 120_000);

  afterAll(async () => {
    await tarpit.close(); // releases the held deliveries, so the worker can close
    await n?.close();
  });

  it('25 endpoints of one user on a tarpit do not hold up another user\'s delivery; each attempt has a hard deadline', async () => {
    const tarpitHooks: string[] = [];
    for (let i = 0; i < 25; i++) tarpitHooks.push(await hook('mallory', `${tarpit.url}/t${i}`));
    const aliceHook = await hook('alice', rx.script('/alice', [200]));

    await produce('mallory', 'm1');
    await eventually(async () => tarpit.open, (n) => n >= 2, 60_000, 50); // mallory's deliveries hold their slots
    const aliceAlert = await produce('alice', 'a1');
    await eventually(async () => rx.on('/alice').length, (n) => n === 1, DEADLINE_MS * 2, 50);
    // Alice's webhook arrived while every tarpit attempt was still held: it never waited for a deadline.
    expect(tarpit.abortedByClient).toBe(0);
    expect(JSON.parse(rx.on('/alice')[0]!.body)).toMatchObject({ id: aliceAlert });
    const ds = await eventually(async () => (await call('GET', `/v1/webhooks/${aliceHook}/deliveries`, tokens.alice!)).body.deliveries as Json[], (d) => d[0]?.status === 'delivered');
    expect(ds[0]).toMatchObject({ attempts: 1 });
    // Mallory never held more than her NOTIFY_USER_CONCURRENCY of the worker's 4 slots.
    expect(tarpit.maxOpen).toBeLessThanOrEqual(2);

    // The trickle never lets an idle timer fire; the AbortSignal deadline ends the attempt anyway.
    await eventually(async () => tarpit.abortedByClient, (n) => n >= 1, DEADLINE_MS * 3, 250);
    const timedOut = await eventually(
      async () => (await Promise.all(tarpitHooks.map(async (id) => (await call('GET', `/v1/webhooks/${id}/deliveries`, tokens.mallory!)).body.deliveries as Json[]))).flat(),
      (all) => all.some((d) => d.lastError === 'timeout'),
      60_000,
    );
    expect(timedOut.find((d) => d.lastError === 'timeout')).toMatchObject({ status: 'retrying', attempts: 1 });
    expect(tarpit.maxOpen).toBeLessThanOrEqual(2);
  });

  it('an endpoint that keeps failing opens its circuit: no more POSTs until it half-opens', async () => {
    const id = await hook('bob', rx.script('/bob-down', [503]));
    await produce('bob', 'b1');
    const ds = await eventually(
      async () => (await call('GET', `/v1/webhooks/${id}/deliveries`, tokens.bob!)).body.deliveries as Json[],
      (d) => typeof d[0]?.lastError === 'string' && d[0].lastError.startsWith('circuit open'),
      60_000,
    );
    expect(ds[0]).toMatchObject({ status: 'retrying', attempts: 3, lastError: expect.stringContaining('next try after') });
    // NOTIFY_MAX_ATTEMPTS is 10 with ~50 ms backoff: without the breaker all 10 would have been POSTed by now.
    await new Promise((r) => setTimeout(r, 1500));
    expect(rx.on('/bob-down')).toHaveLength(3);
  });

  it('POST /v1/webhooks/{id}/test is rate-limited per user (429 with Retry-After); other users are unaffected', async () => {
    const id = await hook('bob', rx.script('/bob-test', [200]));
    for (let i = 0; i < 3; i++) expect((await call('POST', `/v1/webhooks/${id}/test`, tokens.bob!)).status).toBe(200);
    const limited = await call('POST', `/v1/webhooks/${id}/test`, tokens.bob!);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.body).toMatchObject({ type: 'urn:spacehub:problem:rate-limited' });
    const aliceId = (await call('GET', '/v1/webhooks', tokens.alice!)).body.webhooks[0].id as string;
    expect((await call('POST', `/v1/webhooks/${aliceId}/test`, tokens.alice!)).status).toBe(200);
  });
});
