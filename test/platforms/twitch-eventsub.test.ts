import { TwitchService } from '../../platforms/twitch/twitch.adapter';
import { adapterFor } from '../../platforms/registry';
import { eventually } from '../support/stack';
import { platformBench, Bench } from './platform.fixture';

describe('Twitch chat over EventSub WebSocket (simulator)', () => {
  let b: Bench;
  let twitch: TwitchService;
  let token: string;
  let channelId: string;
  beforeAll(async () => {
    b = await platformBench({ sim: { channels: 16, chatScale: 20 } });
    twitch = adapterFor('twitch', b.w.platforms) as TwitchService;
    const ch = b.sim.world.channels.filter((c) => c.platform === 'twitch').sort((x, y) => y.baseViewers * y.chatRate - x.baseViewers * x.chatRate)[0]!;
    channelId = ch.channelId;
    b.sim.world.forceLive(channelId, true, Date.now() - 600_000);
    const conn = await b.connect('twitch', 'u_eventsub', ch.login);
    token = await b.w.tokens.getAccessToken(conn.connectionId);
  });
  afterAll(() => b.cleanup());

  it('de-duplicates at-least-once deliveries by message_id: every sent message is counted once', async () => {
    b.sim.eventSub.duplicateEvery = 1; // every notification is delivered twice
    await twitch.chat(token, channelId, null); // opens the session and subscribes
    expect(b.sim.eventSub.sessionCount()).toBe(1);
    const sentAtStart = b.sim.eventSub.sent;
    let counted = 0;
    await eventually(async () => (counted += (await twitch.chat(token, channelId, null)).messages), (n) => n >= 5, 30_000, 500);
    // Stop the world's chat, let in-flight frames land, then compare with what the simulator sent.
    b.sim.world.forceLive(channelId, false);
    await new Promise((r) => setTimeout(r, 1200));
    counted += (await twitch.chat(token, channelId, null)).messages;
    expect(counted).toBe(b.sim.eventSub.sent - sentAtStart);
    b.sim.eventSub.duplicateEvery = 0;
    b.sim.world.forceLive(channelId, true);
  });

  it('on session_reconnect opens the new URL before closing the old one, and chat keeps flowing', async () => {
    await twitch.chat(token, channelId, null);
    expect(b.sim.eventSub.reconnectAll()).toBe(1);
    await eventually(async () => b.sim.eventSub.sessionCount(), (n) => n === 1, 10_000, 100);
    await eventually(async () => (await twitch.chat(token, channelId, null)).messages, (n) => n > 0, 30_000, 500);
    const subscriptionsBefore = b.sim.state.counters.requests['/helix/eventsub/subscriptions'];
    await twitch.chat(token, channelId, null);
    expect(b.sim.state.counters.requests['/helix/eventsub/subscriptions']).toBe(subscriptionsBefore); // subscriptions moved with the session
  });
});
