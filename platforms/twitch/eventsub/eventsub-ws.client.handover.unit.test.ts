/**
 * The push client's session_reconnect hand-over and keepalive watchdog against a hand-made peer that
 * decides when each welcome and frame is sent (what the simulator and the Twitch CLI cannot order):
 * a repeated session_reconnect, the old socket closing before the new welcome, frames still in flight on
 * the old socket after it, a welcome that comes after the session ended, an event-loop stall longer than
 * the keepalive timeout. Every wait is for a state, never a duration that decides the outcome.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import type { ChannelPush } from '../../platform.adapter';
import { TwitchEventSubClient } from './eventsub-ws.client';
import { EVENTSUB_SPECS } from './eventsub.external';

const frame = (type: string, payload: object, extra: object = {}, id = `${type}-${Math.random()}`) =>
  JSON.stringify({ metadata: { message_id: id, message_type: type, message_timestamp: new Date().toISOString(), ...extra }, payload });
const session = (id: string, keepaliveSeconds: number | null, reconnectUrl: string | null = null, status = 'connected') =>
  ({ session: { id, status, keepalive_timeout_seconds: keepaliveSeconds, reconnect_url: reconnectUrl, connected_at: new Date().toISOString() } });
const offline = (id: string) => frame('notification', { subscription: { type: 'stream.offline' }, event: { broadcaster_user_id: '42' } }, { subscription_type: 'stream.offline', subscription_version: '1' }, id);
/** The types subscribed without any scope (what `scopes: []` asks for). */
const NO_SCOPE = EVENTSUB_SPECS.filter((s) => !s.scope).length;

const stall = (ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    /* the whole process is busy: no timer, no I/O */
  }
};
async function until(what: string, fn: () => boolean, ms = 20_000) {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Peer {
  ws: WebSocket;
  /** '/ws' (the base URL: welcomed at once as sess-N) or '/reconnect' (welcomed when the test says). */
  path: string;
  closed: boolean;
  welcome(id: string): void;
}

/** A fake EventSub server; every connection is recorded, base-URL ones are welcomed at once. */
async function startPeer(keepaliveSeconds: number) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const peers: Peer[] = [];
  const onReconnect: Array<(p: Peer) => void> = [];
  wss.on('connection', (ws, req) => {
    const p: Peer = { ws, path: req.url ?? '/', closed: false, welcome: (id) => ws.send(frame('session_welcome', session(id, keepaliveSeconds))) };
    ws.on('close', () => (p.closed = true));
    peers.push(p);
    if (p.path === '/ws') p.welcome(`sess-${peers.length}`);
    else onReconnect.shift()?.(p);
  });
  return {
    url,
    peers,
    base: () => peers.filter((p) => p.path === '/ws'),
    reconnects: () => peers.filter((p) => p.path === '/reconnect'),
    /** Runs `fn` synchronously on the next /reconnect connection (before any other I/O is read). */
    nextReconnect: (fn: (p: Peer) => void) => void onReconnect.push(fn),
    reconnectFrame: () => frame('session_reconnect', session('old', null, `${url}/reconnect`, 'reconnecting')),
    close: () => new Promise<void>((r) => {
      for (const c of wss.clients) c.terminate();
      wss.close(() => r());
    }),
  };
}

/** A fake server with `keepaliveSeconds` and a client watching channel 42 on it (`scopes: []`); both closed after `fn`. */
async function withPeer(keepaliveSeconds: number, fn: (srv: Awaited<ReturnType<typeof startPeer>>, cl: ReturnType<typeof client>) => Promise<void>) {
  const srv = await startPeer(keepaliveSeconds);
  const cl = client(srv.url);
  try {
    await cl.watch();
    await fn(srv, cl);
  } finally {
    await cl.c.close();
    await srv.close();
  }
}

function client(url: string) {
  const subscribed: string[] = [];
  const got: ChannelPush[] = [];
  const c = new TwitchEventSubClient({
    wsUrl: `${url}/ws`,
    subscribe: async (_token, sessionId, spec) => void subscribed.push(`${sessionId}:${spec.type}`),
    handlers: { onEvent: async (e) => void got.push(e) },
    // Long enough never to decide a test here: a welcome is either sent by the peer or not at all.
    welcomeTimeoutMs: 120_000,
  });
  const watch = () => c.watch('42', { withToken: (fn) => fn('t'), scopes: [] });
  return { c, subscribed, got, watch, sessionId: () => c.status('42')?.sessionId ?? null };
}

describe('TwitchEventSubClient session_reconnect and keepalive (hand-made peer)', () => {
  it('a session_reconnect repeated during the hand-over moves the session once: one new socket, nothing subscribed again', async () => {
    await withPeer(10, async (srv, { subscribed, got, sessionId }) => {
      const old = srv.peers[0]!;
      srv.nextReconnect((p) => p.welcome('sess-moved'));
      srv.nextReconnect((p) => p.welcome('sess-orphan'));
      // Both frames reach the old socket before either is read (Twitch delivers control frames at least once too).
      old.ws.send(srv.reconnectFrame());
      old.ws.send(srv.reconnectFrame());
      await until('the session moved and the old socket closed', () => sessionId() !== 'sess-1' && old.closed);
      srv.reconnects()[0]!.ws.send(offline('after-move'));
      await until('the event on the new socket', () => got.some((e) => e.deliveryId === 'after-move'));
      expect(srv.reconnects()).toHaveLength(1);
      expect(sessionId()).toBe('sess-moved');
      expect(subscribed).toHaveLength(NO_SCOPE);
      expect(subscribed.every((s) => s.startsWith('sess-1:'))).toBe(true);
      expect(srv.peers.filter((p) => !p.closed)).toHaveLength(1);
    });
  });

  it('the old socket closing before the new welcome is read is part of the hand-over, not the end of the session', async () => {
    await withPeer(10, async (srv, { c, subscribed, got, sessionId }) => {
      const old = srv.peers[0]!;
      let moved: Peer | undefined;
      srv.nextReconnect((p) => {
        moved = p;
        old.ws.close(1000); // Twitch closes the old connection once the new one is connected
      });
      old.ws.send(srv.reconnectFrame());
      await until('the old socket closed', () => old.closed && moved !== undefined);
      // Let the client read that close before the welcome (it must not end the session). This pause only
      // orders the peer's frames: the assertions below hold however long it lasts.
      await new Promise((r) => setTimeout(r, 300));
      moved!.welcome('sess-moved');
      await until('the session moved', () => sessionId() === 'sess-moved');
      moved!.ws.send(offline('after-move'));
      await until('the event on the new socket', () => got.some((e) => e.deliveryId === 'after-move'));
      expect(srv.base()).toHaveLength(1); // no new session at the base URL
      expect(subscribed).toHaveLength(NO_SCOPE); // nothing subscribed again
      expect(c.status('42')).toMatchObject({ connected: true, sessionId: 'sess-moved', subscribed: expect.arrayContaining(['stream.offline']) });
      expect(c.status('42')!.subscribed).toHaveLength(NO_SCOPE);
    });
  });

  it('frames still in flight on the old socket after the new welcome are delivered, once each', async () => {
    await withPeer(10, async (srv, { c, got, sessionId }) => {
      const old = srv.peers[0]!;
      srv.nextReconnect((p) => {
        p.welcome('sess-moved');
        // Sent after the new welcome and before the old socket hears of the move: in flight on the old socket.
        old.ws.send(offline('in-flight'));
        old.ws.send(offline('in-flight')); // and redelivered on it
      });
      old.ws.send(srv.reconnectFrame());
      await until('the session moved and the old socket closed', () => sessionId() === 'sess-moved' && old.closed);
      const moved = srv.reconnects()[0]!;
      moved.ws.send(offline('after-move'));
      await until('the event on the new socket', () => got.some((e) => e.deliveryId === 'after-move'));
      expect(got.map((e) => e.deliveryId)).toEqual(['in-flight', 'after-move']);
      // A redelivery on the new socket of what came on the old one is a duplicate too.
      moved.ws.send(offline('in-flight'));
      moved.ws.send(offline('last'));
      await until('the last event', () => got.some((e) => e.deliveryId === 'last'));
      expect(got.map((e) => e.deliveryId)).toEqual(['in-flight', 'after-move', 'last']);
      expect(c.duplicates).toBe(2);
    });
  });

  it('a hand-over whose welcome comes after the session ended closes its socket instead of reviving the session', async () => {
    // 1 s keepalive: silence for 1 s + 2 s ends the session (the peer sends no keepalive).
    await withPeer(1, async (srv, { subscribed, sessionId }) => {
      let late: Peer | undefined;
      srv.nextReconnect((p) => void (late = p)); // connected, never welcomed (yet)
      srv.peers[0]!.ws.send(srv.reconnectFrame());
      // The old socket stays silent: the watchdog ends the session, a new one is opened at the base URL.
      await until('a new session at the base URL', () => srv.base().length === 2 && sessionId() === `sess-${srv.peers.indexOf(srv.base()[1]!) + 1}`);
      const reopened = sessionId();
      expect(late).toBeDefined();
      if (!late!.closed) late!.welcome('sess-late'); // the hand-over's welcome, after the end
      await until('the late hand-over socket closed', () => late!.closed);
      expect(sessionId()).toBe(reopened);
      expect(subscribed.filter((s) => s.startsWith(`${reopened}:`))).toHaveLength(NO_SCOPE);
      expect(subscribed.some((s) => s.startsWith('sess-late:'))).toBe(false);
      expect(srv.base()[1]!.closed).toBe(false);
    });
  });

  it('an event-loop stall longer than the keepalive timeout with a frame waiting keeps the session; silence ends it', async () => {
    await withPeer(1, async (srv, { c, sessionId }) => {
      srv.peers[0]!.ws.send(frame('session_keepalive', {}));
      stall(4000); // the frame is in the socket's buffer; the watchdog's time is up before it is read
      await new Promise((r) => setTimeout(r, 200));
      expect(c.status('42')).toMatchObject({ connected: true, sessionId: 'sess-1' });
      expect(srv.peers).toHaveLength(1);
      // Real silence (no keepalive, no event) for longer than the timeout ends it: a new session is opened.
      await until('a new session', () => srv.peers.length === 2 && sessionId() === 'sess-2');
      expect(srv.peers[0]!.closed).toBe(true);
    });
  });
});
