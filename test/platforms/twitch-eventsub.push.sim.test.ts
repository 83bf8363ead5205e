/**
 * The simulator's EventSub push (issue 18.4): stream.online / stream.offline when the world's live
 * state changes, channel.follow for the world's follower growth — through the real OAuth connection,
 * the adapter's push source, at-least-once duplicates and a session_reconnect.
 */
import axios from 'axios';
import WebSocket from 'ws';
import type { ChannelPush } from '../../platforms/platform.adapter';
import { TwitchService } from '../../platforms/twitch/twitch.adapter';
import type { TwitchEventSubClient } from '../../platforms/twitch/eventsub/eventsub-ws.client';
import { adapterFor } from '../../platforms/registry';
import { eventually } from '../support/stack';
import { platformBench, Bench } from './platform.fixture';

describe('Twitch EventSub push from the simulator', () => {
  let b: Bench;
  let twitch: TwitchService;
  let push: TwitchEventSubClient;
  const got: ChannelPush[] = [];
  let channelId: string;
  let connectionId: string;
  let offsetMs = 0;
  const clock = () => Date.now() + offsetMs;

  beforeAll(async () => {
    // The world's followers grow a few hundred a day: the clock jumps an hour to make some.
    b = await platformBench({ sim: { channels: 8, clock }, now: clock });
    twitch = adapterFor('twitch', b.w.platforms) as TwitchService;
    const ch = b.sim.world.channels.filter((c) => c.platform === 'twitch').sort((x, y) => y.followersPerDay - x.followersPerDay)[0]!;
    channelId = ch.channelId;
    b.sim.world.forceLive(channelId, false);
    const conn = await b.connect('twitch', 'u_push', ch.login);
    connectionId = conn.connectionId;
    push = twitch.createPushSource({ onEvent: async (e) => void got.push(e) }) as TwitchEventSubClient;
  });
  afterAll(async () => {
    await push?.close();
    await b.cleanup();
  });

  it('subscribes to what the simulator serves and the grant allows; pushes go-live, follows and the end, each delivery once', async () => {
    const status = await push.watch(channelId, { withToken: (fn) => b.w.tokens.withAccessToken(connectionId, fn), scopes: twitch.scopes });
    expect(status.subscribed).toEqual(expect.arrayContaining(['channel.follow', 'stream.offline', 'stream.online']));
    b.sim.eventSub.duplicateEvery = 1; // every notification delivered twice
    b.sim.world.forceLive(channelId, true);
    const online = await eventually(async () => got.find((e) => e.kind === 'online'), (e) => e !== undefined, 15_000, 50);
    expect(online!.streamId).toBe(b.sim.world.stateAt(channelId, clock()).streamId);
    offsetMs += 3_600_000;
    const follows = await eventually(async () => got.filter((e) => e.kind === 'follow'), (f) => f.length >= 1, 15_000, 100);
    expect(follows[0]!.actor).toMatchObject({ id: expect.any(String), login: expect.stringMatching(/^follower/) });

    // A session_reconnect moves the session; pushes keep coming on the new one.
    const before = push.status(channelId)!.sessionId;
    expect(b.sim.eventSub.reconnectAll()).toBeGreaterThanOrEqual(1);
    await eventually(async () => push.status(channelId)!.sessionId, (id) => id !== before, 15_000, 50);
    b.sim.world.forceLive(channelId, false);
    await eventually(async () => got.filter((e) => e.kind === 'offline').length, (n) => n === 1, 15_000, 50);
    b.sim.eventSub.duplicateEvery = 0;

    expect(push.duplicates).toBeGreaterThan(0);
    expect(new Set(got.map((e) => e.deliveryId)).size).toBe(got.length);
    expect(got.filter((e) => e.kind === 'online')).toHaveLength(1);
  });

  it('a session_reconnect repeated during the hand-over moves the session once: one socket, no subscription created again, pushes keep coming', async () => {
    const before = push.status(channelId)!.sessionId;
    const subscriptionsBefore = b.sim.state.counters.requests['/helix/eventsub/subscriptions'];
    const onlineBefore = got.filter((e) => e.kind === 'online').length;
    // Both frames reach the old socket before we read either (Twitch delivers control frames at least once too).
    expect(b.sim.eventSub.reconnectAll()).toBe(1);
    expect(b.sim.eventSub.reconnectAll()).toBe(1);
    await eventually(async () => ({ id: push.status(channelId)!.sessionId, sessions: b.sim.eventSub.sessionCount() }), (v) => v.id !== before && v.sessions === 1, 30_000, 50);
    // The session we follow is the one the subscriptions moved to: its pushes arrive.
    b.sim.world.forceLive(channelId, true);
    await eventually(async () => got.filter((e) => e.kind === 'online').length, (n) => n === onlineBefore + 1, 15_000, 50);
    expect(b.sim.eventSub.sessionCount()).toBe(1);
    expect(b.sim.state.counters.requests['/helix/eventsub/subscriptions']).toBe(subscriptionsBefore);
    expect(push.status(channelId)!.connected).toBe(true);
  });

  it('refuses (403) a push subscription whose scope the token lacks, as Twitch does, and accepts the types that need none', async () => {
    const clientId = 'scope-test-client';
    const grant = b.sim.state.newGrant({ platform: 'twitch', clientId, channelId, redirectUri: 'http://127.0.0.1/cb', scopes: [], expiresAt: Date.now() + 60_000, used: false });
    const { accessToken } = b.sim.state.issueTokens(grant);
    const ws = new WebSocket(`${b.sim.url.replace(/^http/, 'ws')}/ws`);
    try {
      const sessionId = await new Promise<string>((resolve, reject) => {
        ws.once('message', (d) => resolve((JSON.parse(d.toString()) as { payload: { session: { id: string } } }).payload.session.id));
        ws.once('error', reject);
      });
      const create = (type: string, version: string, condition: Record<string, string>) => axios.post(`${b.sim.url}/helix/eventsub/subscriptions`,
        { type, version, condition, transport: { method: 'websocket', session_id: sessionId } },
        { headers: { Authorization: `Bearer ${accessToken}`, 'Client-Id': clientId }, validateStatus: () => true });
      const me = { broadcaster_user_id: channelId };
      expect((await create('channel.cheer', '1', me)).status).toBe(403);
      expect((await create('channel.subscribe', '1', me)).status).toBe(403);
      expect((await create('channel.follow', '2', { ...me, moderator_user_id: channelId })).status).toBe(403);
      expect((await create('channel.raid', '1', { to_broadcaster_user_id: channelId })).status).toBe(202);
      expect((await create('channel.update', '2', me)).status).toBe(202);
      expect((await create('channel.update', '1', me)).status).toBe(400); // the simulator serves v2
    } finally {
      ws.close();
    }
  });
});
