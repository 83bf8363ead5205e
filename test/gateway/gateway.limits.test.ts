import WebSocket from 'ws';
import { io as connectIo, Socket } from 'socket.io-client';
import { ApiTokenStore } from '../../shared/auth/api-tokens';
import { metricsRegistry } from '../../shared/metrics/metrics';
import { eventually } from '../support/stack';
import { GatewayFixture, PlainClient } from './gateway.fixture';

/**
 * Issue 17, hostile creators: what one user (or one address) can do to a gateway instance is bounded,
 * and a revoked or expired API token stops working on sockets already open. Real gateway, real Redis
 * (the token store and the stream_event budget), real Kafka.
 */
async function counter(series: string): Promise<number> {
  const line = (await metricsRegistry.metrics()).split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

type Reply = { ok: boolean; error?: { code: string; message: string }; [k: string]: unknown };

describe('gateway limits and token revocation (real Redis, Kafka)', () => {
  let f: GatewayFixture;
  let tokens: ApiTokenStore;
  const plain: PlainClient[] = [];
  const sockets: Socket[] = [];
  const connectPlain = async (token: string) => {
    const c = await PlainClient.connect(f.wsUrl, { token });
    plain.push(c);
    return c;
  };
  const sio = (token: string) => {
    const socket = connectIo(f.httpUrl, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    return new Promise<Socket>((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', reject);
    });
  };

  beforeAll(async () => {
    f = await GatewayFixture.create({
      GATEWAY_MAX_SOCKETS_PER_USER: '3',
      GATEWAY_UPGRADES_PER_MINUTE_PER_IP: '40',
      GATEWAY_STREAM_EVENTS_PER_MINUTE: '5',
      GATEWAY_AUTH_RECHECK_MS: '500',
    });
    tokens = new ApiTokenStore(f.redis, f.stack.rt.config.REDIS_KEY_PREFIX);
  });
  afterAll(async () => {
    for (const c of plain) c.close();
    for (const s of sockets) s.disconnect();
    await f?.close();
  });

  it('caps a user\'s open sockets across both protocols; other users are unaffected; a closed socket frees its slot', async () => {
    const a1 = await connectPlain(f.alice.token);
    const a2 = await connectPlain(f.alice.token);
    const a3 = await sio(f.alice.token);
    const before = await counter('spacehub_gateway_upgrades_refused_total{protocol="ws",reason="user_socket_limit"}');
    await expect(PlainClient.connect(f.wsUrl, { token: f.alice.token })).rejects.toMatchObject({ status: 429 });
    await expect(sio(f.alice.token)).rejects.toMatchObject({ data: { code: 'TOO_MANY_CONNECTIONS' } });
    expect(await counter('spacehub_gateway_upgrades_refused_total{protocol="ws",reason="user_socket_limit"}')).toBe(before + 1);
    const b = await connectPlain(f.bob.token);
    expect(await b.request('ping')).toMatchObject({ ok: true });

    a1.close();
    const again = await eventually(() => PlainClient.connect(f.wsUrl, { token: f.alice.token }).then((c) => (plain.push(c), c)).catch(() => null), (c) => c !== null, 30000, 200);
    expect(await again!.request('ping')).toMatchObject({ ok: true });
    for (const c of [a2, again!, b]) c.close();
    a3.disconnect();
    await eventually(async () => f.gateway.connectionCounts(), (n) => n.ws + n.socketIo === 0, 30000, 100);
  });

  it('stream_event has one per-user budget in Redis, shared by all of the user\'s sockets', async () => {
    const c1 = await connectPlain(f.alice.token);
    const c2 = await sio(f.alice.token);
    const event = (i: number) => ({ type: 'update', platform: 'twitch', userId: f.alice.userId, streamData: { streamId: `budget-${i}`, title: `t${i}` } });
    const replies: Reply[] = [];
    for (let i = 0; i < 3; i++) {
      replies.push(await c1.request('stream_event', event(i)) as Reply);
      replies.push(await c2.timeout(20000).emitWithAck('stream_event', event(100 + i)) as Reply);
    }
    // 5 per minute for the user, whichever socket sent them (each connection alone is far under 20/s).
    expect(replies.filter((r) => r.ok)).toHaveLength(5);
    expect(replies[5]).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED', message: expect.stringContaining('across all your connections') } });
    const bob = await connectPlain(f.bob.token);
    expect(await bob.request('stream_event', { ...event(0), userId: f.bob.userId })).toMatchObject({ ok: true });
    c1.close();
    bob.close();
    c2.disconnect();
    await eventually(async () => f.gateway.connectionCounts(), (n) => n.ws + n.socketIo === 0, 30000, 100);
  });

  it('a revoked token\'s plain and Socket.IO connections are closed within seconds; the user\'s other token keeps its socket', async () => {
    const second = await tokens.createToken(f.alice.userId, 'to-revoke');
    const viaPlain = await connectPlain(second.token);
    const viaSio = await sio(second.token);
    let sioReason: string | undefined;
    viaSio.on('disconnect', (r) => (sioReason = r));
    const keeper = await connectPlain(f.alice.token);

    expect(await tokens.revokeToken(f.alice.userId, second.tokenId)).toBe(true);
    await eventually(async () => ({ plain: viaPlain.closeCode, sio: sioReason }), (s) => s.plain !== undefined && s.sio !== undefined, 30000, 100);
    expect(viaPlain.closeCode).toBe(4001);
    expect(viaPlain.of('error')).toContainEqual(expect.objectContaining({ code: 'UNAUTHORIZED' }));
    expect(sioReason).toBe('io server disconnect');
    // A new connection with the revoked token is refused; the other token's socket is untouched.
    await expect(PlainClient.connect(f.wsUrl, { token: second.token })).rejects.toMatchObject({ status: 401 });
    expect(await keeper.request('ping')).toMatchObject({ ok: true });
    expect(keeper.closeCode).toBeUndefined();
    keeper.close();
  });

  it('an expiring token\'s socket is closed once it expires', async () => {
    const shortLived = await tokens.createToken(f.alice.userId, 'short', { expiresAt: Date.now() + 3000 });
    const c = await connectPlain(shortLived.token);
    expect(await c.request('ping')).toMatchObject({ ok: true });
    await eventually(async () => c.closeCode, (code) => code !== undefined, 30000, 100);
    expect(c.closeCode).toBe(4001);
  });

  it('throttles connection attempts per address before looking at the token, counted in a metric', async () => {
    // From another loopback address, so this test has its own bucket (40 attempts a minute).
    const attempt = (token?: string) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(f.wsUrl, { localAddress: '127.0.0.2', headers: token ? { Authorization: `Bearer ${token}` } : {} });
        ws.once('open', () => (ws.close(), resolve(101)));
        ws.once('unexpected-response', (req, res) => (req.destroy(), resolve(res.statusCode ?? 0)));
        ws.once('error', reject);
      });
    const before = await counter('spacehub_gateway_upgrades_refused_total{protocol="ws",reason="ip_throttled"}');
    const statuses: number[] = [];
    for (let i = 0; i < 45; i++) statuses.push(await attempt(i % 2 ? 'shub_not-a-token' : undefined));
    expect(statuses.slice(0, 40).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(40)).toEqual([429, 429, 429, 429, 429]);
    // Even a valid token is refused from that address now; 127.0.0.1 is not affected.
    expect(await attempt(f.bob.token)).toBe(429);
    expect(await counter('spacehub_gateway_upgrades_refused_total{protocol="ws",reason="ip_throttled"}')).toBe(before + 6);
    const c = await connectPlain(f.bob.token);
    expect(await c.request('ping')).toMatchObject({ ok: true });
    c.close();
  });
});
