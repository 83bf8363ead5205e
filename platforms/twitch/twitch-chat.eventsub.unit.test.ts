/**
 * The chat session's keepalive watchdog against a hand-made peer, when the event loop stalls for
 * longer than the keepalive timeout (a loaded box): a frame that arrived during the stall keeps the
 * session; only real silence ends it.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { TwitchChatSource } from './twitch-chat.eventsub';

const frame = (type: string, payload: object, extra: object = {}, id = `${type}-${Math.random()}`) =>
  JSON.stringify({ metadata: { message_id: id, message_type: type, message_timestamp: new Date().toISOString(), ...extra }, payload });
const chat = (n: number) =>
  frame('notification', { subscription: { type: 'channel.chat.message' }, event: { broadcaster_user_id: '42', chatter_user_id: `u${n}`, chatter_user_login: 'fan', chatter_user_name: 'Fan', message_id: `m${n}`, message: { text: 'hi' } } },
    { subscription_type: 'channel.chat.message', subscription_version: '1' }, `chat-${n}`);
const stall = (ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    /* the whole process is busy: no timer, no I/O */
  }
};
async function until(fn: () => boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('TwitchChatSource keepalive watchdog (hand-made peer)', () => {
  let wss: WebSocketServer;
  const peers: WebSocket[] = [];
  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (ws) => {
      peers.push(ws);
      // 1 s keepalive: the watchdog allows 1 s + 2 s of silence.
      ws.send(frame('session_welcome', { session: { id: `sess-${peers.length}`, status: 'connected', keepalive_timeout_seconds: 1, reconnect_url: null, connected_at: new Date().toISOString() } }));
    });
  });
  afterAll(() => new Promise((r) => wss.close(r)));

  it('a stall longer than the timeout with a frame waiting keeps the session; silence ends it', async () => {
    const source = new TwitchChatSource({ eventSubUrl: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, subscribe: async () => undefined });
    try {
      expect((await source.drain('t', '42', null)).cursor).toBe('eventsub:sess-1');
      peers[0]!.send(chat(1));
      stall(4000); // the frame is in the socket's buffer; the watchdog's time is up before it is read
      await new Promise((r) => setTimeout(r, 200));
      expect(source.activeChannels()).toEqual(['42']);
      expect(await source.drain('t', '42', null)).toMatchObject({ messages: 1, cursor: 'eventsub:sess-1' });
      expect(peers).toHaveLength(1);
      // Real silence (no keepalive, no event) for longer than the timeout ends the session.
      await until(() => source.activeChannels().length === 0);
    } finally {
      await source.close();
    }
  });
});
