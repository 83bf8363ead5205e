import { io as connectIo, Socket } from 'socket.io-client';
import { eventually } from '../support/stack';
import { GatewayFixture } from './gateway.fixture';

type Reply = { ok: boolean; error?: { code: string; message: string }; [k: string]: unknown };

/** The official socket.io-client, recording every event it receives. */
class SioClient {
  readonly received: Array<{ event: string; data: Record<string, unknown> }> = [];
  disconnectReason: string | undefined;
  constructor(readonly socket: Socket) {
    socket.onAny((event: string, data: Record<string, unknown>) => this.received.push({ event, data }));
    socket.on('disconnect', (reason) => (this.disconnectReason = reason));
  }
  of(event: string) {
    return this.received.filter((m) => m.event === event).map((m) => m.data);
  }
  async waitFor(event: string, pred: (d: Record<string, unknown>) => boolean = () => true) {
    return (await eventually(async () => this.of(event).filter(pred), (h) => h.length > 0, 30000, 50))[0]!;
  }
  request(event: string, data?: unknown): Promise<Reply> {
    return this.socket.timeout(20000).emitWithAck(event, data) as Promise<Reply>;
  }
}

describe('gateway, Socket.IO at /socket.io/ on the same uWS app (official socket.io-client, real Kafka, Registry, Redis)', () => {
  let f: GatewayFixture;
  const sockets: Socket[] = [];
  const open = (opts: { token?: string; transports?: string[] } = {}) => {
    const socket = connectIo(f.httpUrl, { auth: opts.token ? { token: opts.token } : {}, transports: opts.transports ?? ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    return socket;
  };
  const connected = async (opts: { token?: string; transports?: string[] } = {}) => {
    const socket = open(opts);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return new SioClient(socket);
  };
  const refused = (opts: { token?: string }) =>
    new Promise<Error & { data?: { code: string } }>((resolve, reject) => {
      const socket = open(opts);
      socket.once('connect', () => reject(new Error('connected without a valid token')));
      socket.once('connect_error', resolve);
    });

  beforeAll(async () => {
    f = await GatewayFixture.create();
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await f?.close();
  });

  it('the original module\'s client code: join with an ack, then stream start, metric windows and the end with its summary', async () => {
    const c = await connected({ token: f.alice.token });
    // The seed's line, as-is (no ack) …
    c.socket.emit('join_stream_channel', { userId: f.alice.userId });
    // … and with an acknowledgement callback.
    expect(await c.request('join_stream_channel', { userId: f.alice.userId })).toEqual({ ok: true, userId: f.alice.userId });
    const s = f.session(f.alice, Date.UTC(2026, 10, 26, 5, 0));
    await f.produceAlert(s.start);
    for (const w of s.windows) await f.produceWindow(w);
    await f.produceAlert(s.end);
    await f.produceAlert(s.end); // replayed alert: de-duplicated

    expect(await c.waitFor('stream_notification', (d) => d.type === 'start')).toMatchObject({ userId: f.alice.userId, channelId: f.alice.channelId, occurredAt: s.start.occurredAt });
    const end = await c.waitFor('stream_notification', (d) => d.type === 'end');
    expect(end.summary).toEqual(s.summary);
    expect(await eventually(async () => c.of('metrics_update'), (w) => w.length >= 2)).toEqual(s.windows.map((w) => ({ ...w, windowEnd: w.windowStart + 60_000 })));
    // Alerts share the user's partition, so start precedes end; windows come from another topic and
    // are not ordered against alerts. The replayed end alert was de-duplicated.
    expect(c.of('stream_notification').map((n) => n.type)).toEqual(['start', 'end']);
  });

  it('long-polling clients (socket.io-client defaults) authenticate and receive the feed too', async () => {
    const c = await connected({ token: f.bob.token, transports: ['polling'] });
    expect(c.socket.io.engine.transport.name).toBe('polling');
    expect(await c.request('join_stream_channel', {})).toEqual({ ok: true, userId: f.bob.userId });
    const s = f.session(f.bob, Date.UTC(2026, 10, 26, 5, 30));
    await f.produceAlert({ ...s.start, type: 'viewer_spike', alertId: `${s.start.alertId}:spike`, severity: 'warning' });
    expect(await c.waitFor('alert')).toMatchObject({ type: 'viewer_spike', severity: 'warning', userId: f.bob.userId });
  });

  it('stream_event is validated, authorised and reaches Kafka\'s lifecycle topic', async () => {
    const records = await f.lifecycleRecords();
    const c = await connected({ token: f.alice.token });
    const reply = await c.request('stream_event', { type: 'end', platform: 'twitch', userId: f.alice.userId, streamData: { streamId: 'sio-1' } });
    expect(reply).toMatchObject({ ok: true, eventId: `twitch:${f.alice.channelId}:sio-1:ended` });
    const got = await eventually(async () => records().filter((r) => r.streamId === 'sio-1'), (r) => r.length > 0);
    expect(got[0]).toMatchObject({ type: 'ended', userId: f.alice.userId, channelId: f.alice.channelId, source: 'creator_tool' });
    expect(await c.request('stream_event', { type: 'end', platform: 'twitch', userId: f.bob.userId, streamData: {} })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await c.request('stream_event', { platform: 'twitch' })).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
  });

  it('ping answers pong and an ack', async () => {
    const c = await connected({ token: f.alice.token });
    expect(await c.request('ping')).toMatchObject({ ok: true, ts: expect.any(Number) });
    await c.waitFor('pong');
  });

  describe('security', () => {
    it('no token or a bad token: connect_error with a clear message', async () => {
      const none = await refused({});
      expect(none.message).toMatch(/missing API token/);
      expect(none.data).toEqual({ code: 'UNAUTHORIZED' });
      const bad = await refused({ token: 'shub_forged' });
      expect(bad.message).toBe('unauthorized: invalid API token');
    });

    it('another user\'s channel: error ack, and none of their data arrives', async () => {
      const mallory = await connected({ token: f.bob.token });
      expect(await mallory.request('join_stream_channel', { userId: f.alice.userId })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      mallory.socket.emit('join_stream_channel', { userId: f.alice.userId }); // without ack: an error event
      await mallory.waitFor('error', (d) => d.code === 'FORBIDDEN');
      const alice = await connected({ token: f.alice.token });
      await alice.request('join_stream_channel', {});
      const s = f.session(f.alice, Date.UTC(2026, 10, 26, 6, 0));
      await f.produceAlert(s.start);
      await alice.waitFor('stream_notification', (d) => d.alertId === s.start.alertId);
      expect(mallory.of('stream_notification')).toHaveLength(0);
    });

    it('malformed payloads and unknown events get error acks; a garbage packet disconnects only that client', async () => {
      const c = await connected({ token: f.alice.token });
      expect(await c.request('join_stream_channel', 'user123')).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
      expect(await c.request('join_stream_channel', { userId: { $ne: null } })).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
      expect(await c.request('rm_rf', {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_EVENT' } });
      c.socket.emit('rm_rf', {});
      await c.waitFor('error', (d) => d.code === 'UNKNOWN_EVENT');

      const other = await connected({ token: f.bob.token });
      const broken = await connected({ token: f.alice.token });
      broken.socket.io.engine.send('2["join_stream_channel", {'); // not a decodable Socket.IO packet
      await eventually(async () => broken.disconnectReason, (r) => r !== undefined);
      expect(await other.request('ping')).toMatchObject({ ok: true });
    });

    it('an oversized frame disconnects that client; others keep being served', async () => {
      const other = await connected({ token: f.bob.token });
      const c = await connected({ token: f.alice.token });
      c.socket.emit('ping', { pad: 'x'.repeat(8192) });
      await eventually(async () => c.disconnectReason, (r) => r !== undefined);
      expect(await other.request('ping')).toMatchObject({ ok: true });
    });

    it('a 1,000 messages/s flood: RATE_LIMITED error, then disconnect; others keep being served', async () => {
      const other = await connected({ token: f.bob.token });
      const c = await connected({ token: f.alice.token });
      for (let i = 0; i < 1000; i++) c.socket.emit('ping');
      await eventually(async () => c.disconnectReason, (r) => r !== undefined);
      expect(c.disconnectReason).toBe('io server disconnect');
      expect(c.of('error').some((e) => e.code === 'RATE_LIMITED')).toBe(true);
      expect(await other.request('ping')).toMatchObject({ ok: true });
    });
  });
});
