/**
 * Our EventSub WebSocket client against Twitch's own implementation of it: the Twitch CLI's
 * `event websocket start-server -S` (subscriptions required, as on Twitch), events pushed with
 * `event trigger … --transport=websocket`, and its reconnect and close commands.
 */
import type { ChannelPush } from '../../platforms/platform.adapter';
import type { TwitchEventSubClient } from '../../platforms/twitch/eventsub/eventsub-ws.client';
import { TwitchService } from '../../platforms/twitch/twitch.adapter';
import { startEventSubServer, withCliLock } from '../support/twitch-cli';

jest.setTimeout(180_000);

const CHANNEL = '41245072';
const ALL_SCOPES = ['moderator:read:followers', 'channel:read:subscriptions', 'bits:read'];

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Twitch EventSub client against the Twitch CLI EventSub server', () => {
  it('subscribes after the welcome, maps every pushed type, and loses no subscription across session_reconnect and a 4007 close', async () => {
    await withCliLock(async () => {
      const srv = await startEventSubServer();
      const twitch = new TwitchService({ clientId: 'spacehub-test', clientSecret: 'x', apiBaseUrl: srv.url, authBaseUrl: srv.url, eventSubUrl: srv.wsUrl, eventSubApiUrl: srv.url, timeoutMs: 5000 });
      const got: ChannelPush[] = [];
      const push = twitch.createPushSource({ onEvent: async (e) => void got.push(e) }) as TwitchEventSubClient;
      try {
        const status = await push.watch(CHANNEL, { withToken: (fn) => fn('user-token'), scopes: ALL_SCOPES });
        expect(status.connected).toBe(true);
        expect(status.subscribed).toEqual(['channel.cheer', 'channel.follow', 'channel.raid', 'channel.subscribe', 'channel.subscription.gift', 'channel.subscription.message', 'channel.update', 'stream.offline', 'stream.online']);
        const firstSession = status.sessionId!;

        const fire = async (event: string, kind: ChannelPush['kind'], ...flags: string[]) => {
          const before = got.length;
          srv.trigger(event, ...flags);
          return until(`${event} pushed`, () => got.slice(before).find((e) => e.kind === kind));
        };
        const online = await fire('stream.online', 'online', '-t', CHANNEL);
        expect(online).toMatchObject({ platform: 'twitch', channelId: CHANNEL, streamId: expect.any(String) });
        const follow = await fire('channel.follow', 'follow', '-t', CHANNEL, '-f', '1111', '--from-user-name', 'newfan');
        expect(follow.actor).toMatchObject({ id: '1111' });
        const raid = await fire('channel.raid', 'raid', '-t', CHANNEL, '-f', '2222');
        expect(raid).toMatchObject({ actor: expect.objectContaining({ id: '2222' }), viewers: expect.any(Number) });
        const sub = await fire('channel.subscribe', 'subscribe', '-t', CHANNEL, '--tier', '2000');
        expect(sub).toMatchObject({ tier: '2000', gifted: expect.any(Boolean) });
        const resub = await fire('channel.subscription.message', 'resubscribe', '-t', CHANNEL);
        expect(resub.months).toEqual(expect.any(Number));
        const gift = await fire('channel.subscription.gift', 'gift', '-t', CHANNEL, '-c', '1');
        expect(gift.gifted).toBe(true);
        const cheer = await fire('channel.cheer', 'cheer', '-t', CHANNEL, '-C', '500');
        expect(cheer.bits).toBe(500);

        // session_reconnect: a new session, the same subscriptions, nothing re-created.
        srv.cli('event', 'websocket', 'reconnect');
        await until('the session moved', () => (push.status(CHANNEL)?.sessionId !== firstSession ? true : undefined));
        const afterReconnect = await fire('stream.offline', 'offline', '-t', CHANNEL);
        expect(afterReconnect.channelId).toBe(CHANNEL);

        expect(new Set(got.map((e) => e.deliveryId)).size).toBe(got.length);
      } finally {
        await push.close();
        await twitch.close();
        await srv.stop();
      }
    });
  });

  it('a 4007 close (invalid reconnect) ends the session: a new one is opened and every subscription created again', async () => {
    await withCliLock(async () => {
      const srv = await startEventSubServer();
      const twitch = new TwitchService({ clientId: 'spacehub-test', clientSecret: 'x', apiBaseUrl: srv.url, authBaseUrl: srv.url, eventSubUrl: srv.wsUrl, eventSubApiUrl: srv.url, timeoutMs: 5000 });
      const got: ChannelPush[] = [];
      const push = twitch.createPushSource({ onEvent: async (e) => void got.push(e) }) as TwitchEventSubClient;
      const fire = async (event: string, kind: ChannelPush['kind'], ...flags: string[]) => {
        const before = got.length;
        srv.trigger(event, ...flags);
        return until(`${event} pushed`, () => got.slice(before).find((e) => e.kind === kind));
      };
      try {
        const second = (await push.watch(CHANNEL, { withToken: (fn) => fn('user-token'), scopes: ALL_SCOPES })).sessionId!;
        srv.cli('event', 'websocket', 'close', `--session=${second}`, '--reason=4007');
        await until('a new session subscribed', () => {
          const s = push.status(CHANNEL);
          return s?.connected && s.sessionId !== second && s.subscribed.length === 9 ? true : undefined;
        });
        const afterClose = await fire('stream.online', 'online', '-t', CHANNEL);
        expect(afterClose.channelId).toBe(CHANNEL);

        // Each delivery reached the handler once.
        expect(new Set(got.map((e) => e.deliveryId)).size).toBe(got.length);
      } finally {
        await push.close();
        await twitch.close();
        await srv.stop();
      }
    });
  });
});
