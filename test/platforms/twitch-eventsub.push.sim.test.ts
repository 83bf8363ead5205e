/**
 * The simulator's EventSub push (issue 18.4): stream.online / stream.offline when the world's live
 * state changes, channel.follow for the world's follower growth — through the real OAuth connection,
 * the adapter's push source, at-least-once duplicates and a session_reconnect.
 */
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
});
