import { eventually } from '../support/stack';
import { ApiTokenStore } from '../../shared/auth/api-tokens';
import { metricsRegistry } from '../../shared/metrics/metrics';
import { ConnectionOwnership } from '../../gateway/channel-ownership';
import { GatewayServer } from '../../gateway/gateway.server';
import { GatewayFixture, PlainClient } from './gateway.fixture';

async function counter(series: string): Promise<number> {
  const line = (await metricsRegistry.metrics()).split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('gateway, plain JSON protocol at /ws (real Kafka, Schema Registry, Redis)', () => {
  let f: GatewayFixture;
  const clients: PlainClient[] = [];
  const connect = async (...args: Parameters<typeof PlainClient.connect>) => {
    const c = await PlainClient.connect(...args);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    f = await GatewayFixture.create({ GATEWAY_MAX_BACKPRESSURE_BYTES: String(64 * 1024) });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await f?.close();
  });

  it('a creator joins with an ack and receives stream start, metric windows and the end with its session summary', async () => {
    const c = await connect(f.wsUrl, { token: f.alice.token });
    expect(await c.request('join_stream_channel', { userId: f.alice.userId })).toEqual({ id: expect.any(String), event: 'join_stream_channel', ok: true, userId: f.alice.userId });
    const s = f.session(f.alice, Date.UTC(2026, 10, 26, 3, 0));
    await f.produceAlert(s.start);
    for (const w of s.windows) await f.produceWindow(w);
    await f.produceAlert(s.end);
    await f.produceAlert(s.end); // a processor replay: the same alertId must not reach the client twice

    const start = await c.waitFor('stream_notification', (d) => d.type === 'start');
    expect(start).toMatchObject({ type: 'start', userId: f.alice.userId, platform: 'twitch', channelId: f.alice.channelId, occurredAt: s.start.occurredAt });
    const end = await c.waitFor('stream_notification', (d) => d.type === 'end');
    expect(end.summary).toEqual(s.summary);
    const windows = await eventually(async () => c.of('metrics_update'), (w) => w.length >= 2);
    expect(windows).toEqual(s.windows.map((w) => ({ ...w, windowEnd: w.windowStart + 60_000 })));
    // Alerts share the user's partition, so start precedes end; windows come from another topic and
    // are not ordered against alerts. The replayed end alert was de-duplicated.
    expect(c.of('stream_notification').map((n) => n.type)).toEqual(['start', 'end']);
  });

  it('authenticates through Sec-WebSocket-Protocol (answering "bearer") and through ?token=', async () => {
    const viaProtocol = await connect(f.wsUrl, { token: f.bob.token, via: 'subprotocol' });
    expect(viaProtocol.ws.protocol).toBe('bearer');
    expect(await viaProtocol.request('ping')).toMatchObject({ ok: true, ts: expect.any(Number) });
    expect(viaProtocol.of('pong')).toHaveLength(1);
    const viaQuery = await connect(f.wsUrl, { token: f.bob.token, via: 'query' });
    expect(await viaQuery.request('join_stream_channel', {})).toMatchObject({ ok: true, userId: f.bob.userId });
  });

  it('a stream_event for the creator\'s own channel is validated and reaches the lifecycle topic as StreamLifecycle', async () => {
    const records = await f.lifecycleRecords();
    const c = await connect(f.wsUrl, { token: f.alice.token });
    const ack = await c.request('stream_event', { type: 'start', platform: 'twitch', userId: f.alice.userId, streamData: { streamId: 'tool-1', title: 'Speedrun', category: 'Celeste' } });
    expect(ack).toMatchObject({ ok: true, eventId: `twitch:${f.alice.channelId}:tool-1:started` });
    const got = await eventually(async () => records(), (r) => r.length > 0);
    expect(got[0]).toMatchObject({ eventId: `twitch:${f.alice.channelId}:tool-1:started`, type: 'started', platform: 'twitch', channelId: f.alice.channelId, userId: f.alice.userId, streamId: 'tool-1', title: 'Speedrun', category: 'Celeste', source: 'creator_tool' });

    // Someone else's user id, an unconnected platform, an invalid type: refused, nothing published.
    expect(await c.request('stream_event', { type: 'start', platform: 'twitch', userId: f.bob.userId, streamData: {} })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await c.request('stream_event', { type: 'start', platform: 'youtube', userId: f.alice.userId, streamData: {} })).toMatchObject({ ok: false, error: { code: 'CHANNEL_NOT_CONNECTED' } });
    expect(await c.request('stream_event', { type: 'boom', platform: 'twitch', userId: f.alice.userId })).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(records()).toHaveLength(1);
  });

  it('a connection that needs re-authorisation cannot report stream events', async () => {
    const c = await connect(f.wsUrl, { token: f.bob.token });
    await f.connections.setStatus(f.bob.connectionId!, 'reauth_required');
    try {
      expect(await c.request('stream_event', { type: 'update', platform: 'twitch', userId: f.bob.userId, streamData: { title: 'x' } }))
        .toMatchObject({ ok: false, error: { code: 'CHANNEL_NOT_CONNECTED', message: expect.stringContaining('re-authorisation') } });
    } finally {
      await f.connections.setStatus(f.bob.connectionId!, 'active');
    }
  });

  it('a client that stops reading is closed as a slow consumer and counted; others keep receiving', async () => {
    const slow = await connect(f.wsUrl, { token: f.alice.token });
    const fast = await connect(f.wsUrl, { token: f.alice.token });
    await slow.request('join_stream_channel', {});
    await fast.request('join_stream_channel', {});
    (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const big = { blob: 'x'.repeat(16 * 1024) };
    const before = await counter('spacehub_gateway_backpressure_total{protocol="ws",action="close"}');
    // Loopback socket buffers absorb a few MB before uWS starts buffering; publish until the policy acts.
    // Small bursts with a yield between them: the fast client lives in this same process and must get
    // event-loop time to read, or on a loaded machine it falls behind and is (rightly) closed too.
    await eventually(async () => {
      for (let i = 0; i < 10; i++) {
        f.gateway.publish({ userId: f.alice.userId, event: 'metrics_update', data: big });
        await new Promise((r) => setImmediate(r));
      }
      return counter('spacehub_gateway_backpressure_total{protocol="ws",action="close"}');
    }, (n) => n > before, 30000, 20);
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await eventually(async () => slow.closeCode, (code) => code !== undefined);
    // The close frame (4008) queues behind the backlog uWS is dropping, so the client may only see the
    // TCP close (1006); either way the server let go of it.
    expect([4008, 1006]).toContain(slow.closeCode);
    f.gateway.publish({ userId: f.alice.userId, event: 'metrics_update', data: { last: true } });
    await fast.waitFor('metrics_update', (d) => d.last === true);
  });

  describe('security', () => {
    it('refuses the upgrade without a token or with a bad one (401), before any socket opens', async () => {
      await expect(PlainClient.connect(f.wsUrl)).rejects.toMatchObject({ status: 401 });
      await expect(PlainClient.connect(f.wsUrl, { token: 'shub_not-a-real-token' })).rejects.toMatchObject({ status: 401 });
      await expect(PlainClient.connect(f.wsUrl, { token: 'shub_not-a-real-token', via: 'subprotocol' })).rejects.toMatchObject({ status: 401 });
    });

    it('joining another user\'s channel is an error and delivers none of their data', async () => {
      const mallory = await connect(f.wsUrl, { token: f.bob.token });
      expect(await mallory.request('join_stream_channel', { userId: f.alice.userId })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      mallory.send('join_stream_channel', { userId: f.alice.userId }); // without id: an error event
      await mallory.waitFor('error', (d) => d.code === 'FORBIDDEN');
      const alice = await connect(f.wsUrl, { token: f.alice.token });
      await alice.request('join_stream_channel', { userId: f.alice.userId });
      const s = f.session(f.alice, Date.UTC(2026, 10, 26, 4, 0));
      await f.produceAlert(s.start);
      await alice.waitFor('stream_notification', (d) => d.alertId === s.start.alertId);
      expect(mallory.of('stream_notification')).toHaveLength(0);
    });

    it('malformed JSON, a bad envelope, binary frames and unknown events get typed errors; the connection stays usable', async () => {
      const c = await connect(f.wsUrl, { token: f.alice.token });
      c.ws.send('{"event": "join_stream_channel", ');
      await c.waitFor('error', (d) => d.code === 'INVALID_JSON');
      c.ws.send(JSON.stringify({ data: {} }));
      await c.waitFor('error', (d) => d.code === 'INVALID_MESSAGE');
      c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
      await c.waitFor('error', (d) => d.code === 'INVALID_MESSAGE' && String(d.message).includes('binary'));
      c.send('delete_everything', {});
      await c.waitFor('error', (d) => d.code === 'UNKNOWN_EVENT');
      expect(await c.request('ping')).toMatchObject({ ok: true });
    });

    it('an oversized frame closes the connection with 1009; other clients keep being served', async () => {
      const other = await connect(f.wsUrl, { token: f.bob.token });
      const c = await connect(f.wsUrl, { token: f.alice.token });
      c.send('ping', { pad: 'x'.repeat(8192) });
      await eventually(async () => c.closeCode, (code) => code !== undefined);
      expect(c.closeCode).toBe(1009);
      expect(c.of('error')).toEqual([expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' })]);
      expect(await other.request('ping')).toMatchObject({ ok: true });
    });

    it('a 1,000 messages/s flood gets a RATE_LIMITED error, then close 4029; other clients keep being served', async () => {
      const other = await connect(f.wsUrl, { token: f.bob.token });
      const c = await connect(f.wsUrl, { token: f.alice.token });
      for (let i = 0; i < 1000; i++) c.send('ping');
      await eventually(async () => c.closeCode, (code) => code !== undefined);
      expect(c.closeCode).toBe(4029);
      expect(c.of('error').some((e) => e.code === 'RATE_LIMITED')).toBe(true);
      expect(c.of('pong').length).toBeLessThanOrEqual(40);
      expect(await other.request('ping')).toMatchObject({ ok: true });
      const again = await connect(f.wsUrl, { token: f.alice.token });
      expect(await again.request('ping')).toMatchObject({ ok: true });
    });

    it('serves /healthz; Prometheus metrics are not on the public port (METRICS_PORT only); unknown paths are 404', async () => {
      const noKeepAlive = { headers: { connection: 'close' } };
      const health = await fetch(`${f.httpUrl}/healthz`, noKeepAlive);
      expect(await health.json()).toMatchObject({ status: 'ok' });
      expect((await fetch(`${f.httpUrl}/metrics`, noKeepAlive)).status).toBe(404);
      const metrics = await metricsRegistry.metrics();
      expect(metrics).toContain('spacehub_gateway_auth_failures_total{protocol="ws"}');
      expect(metrics).toContain('spacehub_gateway_closed_by_server_total{protocol="ws",reason="rate_limited"}');
      expect((await fetch(`${f.httpUrl}/nope`, noKeepAlive)).status).toBe(404);
      expect((await fetch(`${f.httpUrl}/ws`, noKeepAlive)).status).toBe(426);
    });
  });

  // Last: it starts and closes a second GatewayServer (with its own Socket.IO server) in this process. The slow-consumer test, when it ran right after this one, lost its
  // second client's socket (1006, no frame) before the join ack on loaded fresh-clone CI runs — the flake
  // earlier stops listed as load-sensitive. The cause is not established; this test no longer precedes others.
  it('every gateway instance delivers the feed (each has its own consumer group), so clients may connect to any', async () => {
    const second = new GatewayServer(f.stack.rt, { tokens: new ApiTokenStore(f.redis, f.stack.rt.config.REDIS_KEY_PREFIX), ownership: new ConnectionOwnership(f.connections) }, { host: '127.0.0.1', port: 0 });
    await second.start();
    try {
      expect(second.feedGroupId).not.toBe(f.gateway.feedGroupId);
      const a = await connect(f.wsUrl, { token: f.bob.token });
      const b = await connect(`ws://127.0.0.1:${second.port}/ws`, { token: f.bob.token });
      await a.request('join_stream_channel', {});
      await b.request('join_stream_channel', {});
      const s = f.session(f.bob, Date.UTC(2026, 10, 26, 3, 30));
      await f.produceAlert(s.start);
      await a.waitFor('stream_notification', (d) => d.alertId === s.start.alertId);
      await b.waitFor('stream_notification', (d) => d.alertId === s.start.alertId);
    } finally {
      await second.close();
    }
  });
});
