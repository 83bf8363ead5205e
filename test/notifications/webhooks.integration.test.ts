import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import { metricsRegistry } from '../../shared/metrics/metrics';
import type { Alert } from '../../shared/events/events';
import { startApi, RunningApi } from '../../api/api.service';
import { verifySignature } from '../../notifications/webhook.signature';
import { eventually, type TestStack } from '../support/stack';
import { discordProblems } from './discord.validator';
import type { WebhookReceiver } from './webhook-receiver';
import { notifyHarness, type NotifyHarness } from './notify.harness';
import { type ConnectionRepository, connectionIdOf } from '../../platforms/connections/connection.repository';

// Response bodies are asserted field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const noConnections = { get: async () => null, listByUser: async () => [] };

/**
 * Outbound webhooks end to end on the real stack: Alerts produced to the test's own Kafka topic →
 * `NotifyService` (its consumer group, BullMQ queue and worker on the test's Redis prefix) → a local
 * HTTP receiver on 127.0.0.1 (allowed by ALLOW_PRIVATE_WEBHOOK_TARGETS=true here; a second API with the
 * default configuration checks the refusals). Backoff delays are tiny so retries take milliseconds.
 */
describe('notifications: go-live webhooks (real Kafka, Registry, Redis)', () => {
  let n: NotifyHarness;
  let stack: TestStack;
  let api: RunningApi;
  let strictApi: RunningApi;
  let redis: Redis;
  let alice: string;
  let bob: string;
  let connections: ConnectionRepository;
  let rx: WebhookReceiver;
  /** Alerts go to the active owners of their channel (issue 16): a user connects the channel first. */
  const connect = (userId: string, platform: string, channelId: string) =>
    n.connect(userId, platform, channelId, { accessToken: 'sim-access', refreshToken: 'sim-refresh' });

  const call = async (base: string, method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as Json };
  };
  const createHook = async (path: string, answers: Parameters<WebhookReceiver['script']>[1], events: string[], format = 'json') => {
    const r = await call(api.url, 'POST', '/v1/webhooks', alice, { url: rx.script(path, answers), format, events });
    expect(r.status).toBe(201);
    return r.body as { id: string; secret: string };
  };
  const deliveries = async (id: string) => (await call(api.url, 'GET', `/v1/webhooks/${id}/deliveries`, alice)).body.deliveries as Json[];
  const produce = async (a: Partial<Alert> & Pick<Alert, 'alertId' | 'type'>) => {
    const alert = { userId: 'alice', platform: 'twitch', channelId: '1001', occurredAt: Date.now(), severity: 'info', message: `${a.type} happened`, detailsJson: '{}', ...a };
    await n.produceAlert(alert);
  };
  const uid = () => crypto.randomBytes(4).toString('hex');

  beforeAll(async () => {
    n = await notifyHarness({
      env: {
        ALLOW_PRIVATE_WEBHOOK_TARGETS: 'true', WEBHOOK_ALLOWED_PORTS: '*', NOTIFY_MAX_ATTEMPTS: '4', NOTIFY_BACKOFF_INITIAL_MS: '50', NOTIFY_BACKOFF_MAX_MS: '200',
        NOTIFY_HTTP_TIMEOUT_MS: '5000', NOTIFY_CONCURRENCY: '4', API_RATE_LIMIT_PER_MINUTE: '100000',
      },
      users: { alice: 'Alice', bob: 'Bob' },
    });
    ({ stack, redis, connections, rx } = n);
    ({ alice, bob } = n.tokenOf as { alice: string; bob: string });
    await connect('alice', 'twitch', '1001');
    await connect('alice', 'youtube', 'UCalice');
    api = await n.start({ streaming: null, predictions: null, connections: noConnections });
    // The same stack with the production default: private targets refused.
    strictApi = await startApi({ ...stack.rt, config: { ...stack.rt.config, ALLOW_PRIVATE_WEBHOOK_TARGETS: false } }, { port: 0, streaming: null, predictions: null, connections: noConnections });
  }, 120_000);

  afterAll(async () => {
    await strictApi?.close();
    await n?.close();
  });

  it('a stream start gives exactly one signed webhook (even when the alert is replayed), then one end with the session summary', async () => {
    const hook = await createHook('/live', [200], ['stream_started', 'stream_ended']);
    const stream = uid();
    const startId = `stream_started:twitch:1001:${stream}`;
    await produce({ alertId: startId, type: 'stream_started', detailsJson: JSON.stringify({ streamId: stream, title: 'Speedrun' }) });
    const [start] = await eventually(async () => rx.on('/live'), (r) => r.length >= 1, 60_000);
    // Verified as a receiver would: HMAC over "<timestamp>.<raw body>" with the secret from creation.
    expect(verifySignature(hook.secret, start!.headers['x-spacehub-signature'] as string, start!.headers['x-spacehub-timestamp'] as string, start!.body)).toEqual({ ok: true });
    expect(verifySignature('wrong-secret', start!.headers['x-spacehub-signature'] as string, start!.headers['x-spacehub-timestamp'] as string, start!.body)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(JSON.parse(start!.body)).toMatchObject({ id: startId, type: 'stream_started', platform: 'twitch', channelId: '1001', details: { streamId: stream } });
    expect(start!.headers['x-spacehub-delivery']).toBe(startId);

    // A replay of the same alert (processor restart) and then the end, in the same partition (key = user).
    await produce({ alertId: startId, type: 'stream_started', detailsJson: JSON.stringify({ streamId: stream }) });
    const summary = { streamId: stream, durationSeconds: 5400, peakViewers: 199, avgViewers: 144.5, hoursWatched: 216.75, followersGained: 90, chatMessages: 180 };
    await produce({ alertId: `stream_ended:twitch:1001:${stream}`, type: 'stream_ended', detailsJson: JSON.stringify(summary) });
    await eventually(async () => rx.on('/live'), (r) => r.length >= 2, 60_000);
    const all = rx.on('/live').map((r) => JSON.parse(r.body) as Json);
    expect(all.map((b) => b.type)).toEqual(['stream_started', 'stream_ended']);
    expect(all[1].summary).toEqual(summary);
    const ds = await eventually(() => deliveries(hook.id), (d) => d.length === 2 && d.every((x) => x.status === 'delivered'));
    expect(ds.map((d) => d.attempts)).toEqual([1, 1]);
  });

  it('a channel two users connected notifies both; once one disconnects, only the other — whoever the alert names', async () => {
    await connect('alice', 'twitch', '2002');
    const bobConn = await connect('bob', 'twitch', '2002');
    await createHook('/shared-alice', [200], ['stream_started']);
    const rB = await call(api.url, 'POST', '/v1/webhooks', bob, { url: rx.script('/shared-bob', [200]), format: 'json', events: ['stream_started'] });
    expect(rB.status).toBe(201);
    // The alert names alice (her connection polled the channel); both owners are notified.
    const first = `stream_started:twitch:2002:${uid()}`;
    await produce({ alertId: first, type: 'stream_started', channelId: '2002', userId: 'alice' });
    await eventually(async () => [rx.on('/shared-alice').length, rx.on('/shared-bob').length], ([a, b]) => a === 1 && b === 1, 60_000);
    expect(JSON.parse(rx.on('/shared-bob')[0]!.body)).toMatchObject({ id: first, channelId: '2002' });

    // Alice disconnects; the next alert still names her (the record was stamped before the failover):
    // only Bob, the remaining owner, gets it. Bob then leaves too and a third alert reaches nobody.
    await connections.setStatus(connectionIdOf('alice', 'twitch', '2002'), 'revoked');
    const second = `stream_started:twitch:2002:${uid()}`;
    await produce({ alertId: second, type: 'stream_started', channelId: '2002', userId: 'alice' });
    await eventually(async () => rx.on('/shared-bob').length, (n) => n === 2, 60_000);
    await connections.setStatus(bobConn.connectionId, 'revoked');
    const third = `stream_started:twitch:2002:${uid()}`;
    await produce({ alertId: third, type: 'stream_started', channelId: '2002', userId: 'alice' });
    // Then an alert of alice's other channel, on the same partition (key = the alert's user): once it
    // arrived, the third alert was consumed before it.
    const marker = `stream_started:twitch:1001:${uid()}`;
    await produce({ alertId: marker, type: 'stream_started' });
    await eventually(async () => rx.on('/shared-alice').length, (n) => n === 2, 60_000);
    expect(rx.on('/shared-alice').map((r) => JSON.parse(r.body).id)).toEqual([first, marker]);
    expect(rx.on('/shared-bob').map((r) => JSON.parse(r.body).id)).toEqual([first, second]);
    expect((await call(api.url, 'DELETE', `/v1/webhooks/${rB.body.id}`, bob)).status).toBe(204);
  });

  it('a receiver answering 500 twice then 200 gets the event once, after retries', async () => {
    const hook = await createHook('/flaky', [500, 500, 200], ['viewer_spike']);
    const alertId = `viewer_spike:twitch:1001:${uid()}`;
    await produce({ alertId, type: 'viewer_spike', severity: 'warning' });
    const [d] = await eventually(() => deliveries(hook.id), (x) => x[0]?.status === 'delivered', 60_000);
    expect(d).toMatchObject({ alertId, status: 'delivered', attempts: 3, lastStatusCode: 200 });
    expect(rx.on('/flaky').map((r) => r.status)).toEqual([500, 500, 200]);
    expect(rx.on('/flaky').filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('a receiver answering 410 is not retried and the delivery shows failed in the API', async () => {
    const hook = await createHook('/gone', [410, 200], ['follower_milestone']);
    await produce({ alertId: `follower_milestone:twitch:1001:${uid()}`, type: 'follower_milestone' });
    const [d] = await eventually(() => deliveries(hook.id), (x) => x[0]?.status === 'failed', 60_000);
    expect(d).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 410, lastError: 'HTTP 410' });
    // The job is final once failed (UnrecoverableError): exactly one request ever reached the receiver.
    expect(rx.on('/gone').map((r) => r.status)).toEqual([410]);
  });

  it('429 waits for Retry-After; a receiver that keeps failing is dead-lettered after the last attempt', async () => {
    const limited = await createHook('/limited', [{ status: 429, headers: { 'retry-after': '1' } }, 200], ['engagement_drop']);
    const down = await createHook('/down', [503], ['engagement_drop']);
    await produce({ alertId: `engagement_drop:twitch:1001:${uid()}`, type: 'engagement_drop' });
    await eventually(() => deliveries(limited.id), (x) => x[0]?.status === 'delivered', 60_000);
    const [first, second] = rx.on('/limited');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950); // a lower bound only: load can only lengthen it
    const [d] = await eventually(() => deliveries(down.id), (x) => x[0]?.status === 'dead_lettered', 60_000);
    expect(d).toMatchObject({ status: 'dead_lettered', attempts: 4, lastStatusCode: 503 });
    expect(rx.on('/down')).toHaveLength(4);
    const text = await metricsRegistry.metrics();
    expect(text).toMatch(/spacehub_notify_dead_lettered_total \d+/);
    expect(text).toMatch(/spacehub_notify_deliveries_total\{format="json",outcome="delivered"\} \d+/);
    expect(text).toMatch(/spacehub_notify_delivery_seconds_count\{format="json",outcome="retrying"\} \d+/);
  });

  it('Discord format: an embed with title, viewers, duration and link that respects Discord\'s documented limits', async () => {
    await createHook('/discord', [204], ['stream_ended'], 'discord');
    const stream = uid();
    await produce({
      alertId: `stream_ended:youtube:UCalice:${stream}`, type: 'stream_ended', platform: 'youtube', channelId: 'UCalice', message: 'x'.repeat(7000),
      detailsJson: JSON.stringify({ streamId: stream, durationSeconds: 3720, peakViewers: 321, avgViewers: 200.5, hoursWatched: 12.4, title: 't'.repeat(3000) }),
    });
    const [r] = await eventually(async () => rx.on('/discord'), (x) => x.length >= 1, 60_000);
    const body = JSON.parse(r!.body) as Json;
    expect(discordProblems(body)).toEqual([]);
    expect(r!.headers['x-spacehub-signature']).toBeUndefined(); // Discord authenticates by the URL's token
    const embed = body.embeds[0];
    expect(embed.title).toBe('youtube UCalice stream ended');
    expect(embed.url).toBe('https://www.youtube.com/channel/UCalice');
    expect(embed.fields).toEqual(expect.arrayContaining([{ name: 'Peak viewers', value: '321', inline: true }, { name: 'Duration', value: '1 h 2 min', inline: true }]));
  });

  it('REST: the secret is shown once; list, test delivery, deliveries, delete; another user sees nothing', async () => {
    const hook = await createHook('/rest', [200], ['reauth_required']);
    expect(hook.secret).toMatch(/^whsec_/);
    const list = await call(api.url, 'GET', '/v1/webhooks', alice);
    expect(list.status).toBe(200);
    const mine = list.body.webhooks.find((w: Json) => w.id === hook.id);
    expect(mine).toMatchObject({ id: hook.id, format: 'json', events: ['reauth_required'] });
    expect(JSON.stringify(list.body)).not.toContain(hook.secret);
    expect(await redis.keys(`${stack.rt.config.REDIS_KEY_PREFIX}:notify:endpoint:${hook.id}`).then(async ([k]) => redis.get(k!))).not.toContain(hook.secret);

    const test = await call(api.url, 'POST', `/v1/webhooks/${hook.id}/test`, alice);
    expect(test.status).toBe(200);
    const [got] = await eventually(async () => rx.on('/rest'), (x) => x.length >= 1, 60_000);
    expect(JSON.parse(got!.body)).toMatchObject({ id: test.body.alertId, test: true });
    expect(verifySignature(hook.secret, got!.headers['x-spacehub-signature'] as string, got!.headers['x-spacehub-timestamp'] as string, got!.body).ok).toBe(true);

    expect((await call(api.url, 'GET', '/v1/webhooks', bob)).body.webhooks).toEqual([]);
    expect((await call(api.url, 'GET', `/v1/webhooks/${hook.id}/deliveries`, bob)).status).toBe(404);
    expect((await call(api.url, 'POST', `/v1/webhooks/${hook.id}/test`, bob)).status).toBe(404);
    expect((await call(api.url, 'DELETE', `/v1/webhooks/${hook.id}`, bob)).status).toBe(404);
    expect((await call(api.url, 'DELETE', `/v1/webhooks/${hook.id}`, alice)).status).toBe(204);
    expect((await call(api.url, 'GET', '/v1/webhooks', alice)).body.webhooks.map((w: Json) => w.id)).not.toContain(hook.id);
  });

  it('REST: bad bodies are 400 naming the field; no token is 401', async () => {
    const bad = await call(api.url, 'POST', '/v1/webhooks', alice, { url: 'ftp://example.com/x', events: ['stream_started'] });
    expect(bad.status).toBe(400);
    expect(bad.body.invalidParams).toEqual([expect.objectContaining({ name: 'url', in: 'body' })]);
    const badEvents = await call(api.url, 'POST', '/v1/webhooks', alice, { url: rx.url, events: ['nope'] });
    expect(badEvents.status).toBe(400);
    expect(badEvents.body.invalidParams[0]).toMatchObject({ name: 'events.0', in: 'body' });
    expect((await call(api.url, 'POST', '/v1/webhooks', alice, { url: rx.url, events: [] })).status).toBe(400);
    expect((await fetch(`${api.url}/v1/webhooks`)).status).toBe(401);
  });

  it('OpenAPI documents the webhook routes, the request body and the export formats', async () => {
    const doc = (await (await fetch(`${api.url}/openapi.json`)).json()) as Json;
    const create = doc.paths['/v1/webhooks'].post;
    expect(create.requestBody.content['application/json'].schema.properties.events.items.enum).toEqual(['stream_started', 'stream_ended', 'viewer_spike', 'follower_milestone', 'engagement_drop', 'reauth_required', 'new_follower', 'raid', 'new_subscriber', 'cheer']);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/webhooks/{id}', '/v1/webhooks/{id}/test', '/v1/webhooks/{id}/deliveries']));
    const format = doc.paths['/v1/channels/{platform}/{channelId}/metrics'].get.parameters.find((p: Json) => p.name === 'format');
    expect(format.schema.enum).toEqual(['json', 'csv', 'parquet']);
  });

  it('SSRF: by default 127.0.0.1, 169.254.169.254, 10.x, [::1] and a hostname resolving to loopback are refused', async () => {
    for (const url of ['http://127.0.0.1:9/hook', 'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.5/hook', 'http://[::1]:9/', 'http://localhost:9/hook', 'http://192.168.1.10/', 'http://172.16.0.1/']) {
      const r = await call(strictApi.url, 'POST', '/v1/webhooks', alice, { url, events: ['stream_started'] });
      expect({ url, status: r.status }).toEqual({ url, status: 400 });
      expect(r.body.invalidParams[0]).toMatchObject({ name: 'url', in: 'body' });
      expect(r.body.invalidParams[0].reason).toMatch(/private, loopback, link-local/);
      expect(r.body.invalidParams[0].reason).not.toMatch(/127\.0\.0\.1|::1/); // the resolved address is not echoed (issue 17)
    }
  });
});
