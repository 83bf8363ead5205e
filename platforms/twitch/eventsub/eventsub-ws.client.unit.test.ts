/**
 * The EventSub client's rules that the Twitch CLI cannot drive (its `websocket subscription --status`
 * sent no revocation frame in this build): a hand-made peer sends a welcome, a notification twice
 * (at-least-once) and a revocation.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import type { ChannelPush } from '../../platform.adapter';
import { TwitchEventSubClient } from './eventsub-ws.client';
import { EVENTSUB_SPECS } from './eventsub.external';
import { AppError } from '../../../shared/errors/app-error';

const frame = (type: string, payload: object, extra: object = {}, id = `${type}-${Math.random()}`) =>
  JSON.stringify({ metadata: { message_id: id, message_type: type, message_timestamp: new Date().toISOString(), ...extra }, payload });

async function until(fn: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('TwitchEventSubClient (hand-made peer)', () => {
  let wss: WebSocketServer;
  let peer: WebSocket | undefined;
  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (ws) => {
      peer = ws;
      ws.send(frame('session_welcome', { session: { id: 'sess-1', status: 'connected', keepalive_timeout_seconds: 10, reconnect_url: null, connected_at: new Date().toISOString() } }));
    });
  });
  afterAll(() => new Promise((r) => wss.close(r)));

  it('subscribes only what the scopes allow, drops a redelivered message_id, does not re-create a subscription revoked for authorisation, and re-creates one revoked for delivery failures', async () => {
    const subscribed: string[] = [];
    const got: ChannelPush[] = [];
    const revoked: string[] = [];
    const client = new TwitchEventSubClient({
      wsUrl: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
      subscribe: async (_token, sessionId, spec) => void subscribed.push(`${sessionId}:${spec.type}`),
      handlers: { onEvent: async (e) => void got.push(e), onRevoked: (_c, type, status) => void revoked.push(`${type}:${status}`) },
    });
    try {
      const status = await client.watch('42', { withToken: (fn) => fn('t'), scopes: ['moderator:read:followers'] });
      const noScope = EVENTSUB_SPECS.filter((s) => s.scope && s.scope !== 'moderator:read:followers').map((s) => s.type);
      expect(status.subscribed).toHaveLength(EVENTSUB_SPECS.length - noScope.length);
      for (const t of noScope) expect(status.missing[t]).toMatch(/needs scope/);
      expect(subscribed.every((s) => s.startsWith('sess-1:'))).toBe(true);

      const follow = frame('notification', { subscription: { type: 'channel.follow' }, event: { broadcaster_user_id: '42', user_id: '7', user_login: 'fan', user_name: 'Fan', followed_at: new Date().toISOString() } },
        { subscription_type: 'channel.follow', subscription_version: '2' }, 'msg-1');
      peer!.send(follow);
      peer!.send(follow);
      // Another channel's event on the session is not this channel's.
      peer!.send(frame('notification', { subscription: { type: 'stream.offline' }, event: { broadcaster_user_id: '99' } }, { subscription_type: 'stream.offline' }));
      peer!.send(frame('revocation', { subscription: { id: 'sub-9', type: 'stream.offline', status: 'authorization_revoked', condition: { broadcaster_user_id: '42' } } }));
      await until(() => revoked.length === 1 && client.duplicates === 1);
      expect(got.map((e) => [e.kind, e.deliveryId, e.actor?.login])).toEqual([['follow', 'msg-1', 'fan']]);
      expect(revoked).toEqual(['stream.offline:authorization_revoked']);
      expect(client.status('42')).toMatchObject({ connected: true, missing: expect.objectContaining({ 'stream.offline': 'revoked: authorization_revoked' }) });
      expect(client.status('42')!.subscribed).not.toContain('stream.offline');

      // notification_failures_exceeded is Twitch giving up on delivery, not the grant: created again.
      subscribed.length = 0;
      peer!.send(frame('revocation', { subscription: { id: 'sub-3', type: 'channel.follow', status: 'notification_failures_exceeded', condition: { broadcaster_user_id: '42' } } }));
      await until(() => subscribed.length === 1 && revoked.length === 2);
      expect(subscribed).toEqual(['sess-1:channel.follow']);
      expect(client.status('42')!.subscribed).toContain('channel.follow');
      expect(client.status('42')!.missing['channel.follow']).toBeUndefined();
    } finally {
      await client.close();
    }
  });
  it('retries a handler that failed on a client error, and not one that failed with a non-retriable error', async () => {
    const calls: string[] = [];
    let failedOnce = false;
    const client = new TwitchEventSubClient({
      wsUrl: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
      subscribe: async () => undefined,
      handlers: {
        onEvent: async (e) => {
          calls.push(e.deliveryId);
          if (e.deliveryId === 'blip' && !failedOnce) {
            failedOnce = true;
            throw new Error('Connection is closed.'); // what ioredis throws during a blip
          }
          if (e.deliveryId === 'refused') throw new AppError('EVENT_REFUSED', 'not ours', { retriable: false });
        },
        onRevoked: () => undefined,
      },
    });
    try {
      await client.watch('43', { withToken: (fn) => fn('t'), scopes: ['moderator:read:followers'] });
      const follow = (id: string) => frame('notification', { subscription: { type: 'channel.follow' }, event: { broadcaster_user_id: '43', user_id: '8', user_login: 'fan', user_name: 'Fan', followed_at: new Date().toISOString() } },
        { subscription_type: 'channel.follow', subscription_version: '2' }, id);
      peer!.send(follow('blip'));
      peer!.send(follow('refused'));
      peer!.send(follow('after'));
      await until(() => calls.includes('after'));
      expect(calls).toEqual(['blip', 'blip', 'refused', 'after']);
    } finally {
      await client.close();
    }
  });
});
