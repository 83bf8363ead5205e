import { TwitchService } from '../../platforms/twitch/twitch.adapter';
import { adapterFor } from '../../platforms/registry';
import { eventually } from '../support/stack';
import { platformBench, Bench } from './platform.fixture';

/**
 * The channel stays live for the whole file: the world gives a minute's chat to the session live at
 * the minute's start, so going offline and live again across a minute boundary would leave a whole
 * minute without chat (what made the reconnect test wait 30 s for nothing on a loaded box).
 * The world's chat never stops, so counts are compared when nothing is in flight: counted and sent
 * meet then; a message counted twice keeps `counted` above `sent` for good, a lost one below.
 */
describe('Twitch chat over EventSub WebSocket (simulator)', () => {
  let b: Bench;
  let twitch: TwitchService;
  let token: string;
  let channelId: string;
  /** What the simulator had sent before this file's session existed, and what our drains counted since. */
  let sentBefore = 0;
  let counted = 0;
  const drain = async () => {
    const batch = await twitch.chat(token, channelId, null);
    counted += batch.messages;
    return batch;
  };
  const sentSince = () => b.sim.eventSub.sent - sentBefore;
  const subscriptionRequests = () => b.sim.state.counters.requests['/helix/eventsub/subscriptions'];

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
    sentBefore = b.sim.eventSub.sent; // no session yet: nothing is sent to us before the next line
    await drain(); // opens the session and subscribes
    expect(b.sim.eventSub.sessionCount()).toBe(1);
    await eventually(async () => (await drain(), counted), (n) => n >= 5 && n === sentSince(), 60_000, 100);
    b.sim.eventSub.duplicateEvery = 0;
  });

  /**
   * Sends `frames` session_reconnect frames to the session before we read any (Twitch delivers control frames
   * at least once too), then waits until the session moved (its cursor names the new session id), the old
   * socket is gone, chat arrived on the new one and nothing sent was lost or counted twice on the way.
   */
  async function reconnectAndFollow(frames: number): Promise<void> {
    const before = (await drain()).cursor;
    const subscriptionsBefore = subscriptionRequests();
    const countedBefore = counted;
    for (let i = 0; i < frames; i++) expect(b.sim.eventSub.reconnectAll()).toBe(1);
    await eventually(
      async () => ({ cursor: (await drain()).cursor, sessions: b.sim.eventSub.sessionCount() }),
      (v) => v.cursor !== before && v.sessions === 1 && counted > countedBefore && counted === sentSince(),
      60_000,
      100,
    );
    expect(subscriptionRequests()).toBe(subscriptionsBefore); // subscriptions moved with the session
  }

  it('on session_reconnect opens the new URL before closing the old one, and every message sent across the hand-over is counted once', async () => {
    await reconnectAndFollow(1);
  });

  it('a session_reconnect repeated during the hand-over moves the session once: one socket, nothing lost, no new subscription', async () => {
    await reconnectAndFollow(2);
  });
});
