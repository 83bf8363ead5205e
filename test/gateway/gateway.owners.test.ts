import { eventually } from '../support/stack';
import { GatewayFixture, PlainClient } from './gateway.fixture';

/**
 * Issue 16.4: a channel two users connected. Its alerts and windows reach both owners' dashboards
 * (each copy naming its recipient), whichever user the record names; once one owner disconnects,
 * the other keeps receiving everything and the one who left receives nothing more of it.
 */
describe('gateway: a channel with two owners (real Kafka, Schema Registry, Redis)', () => {
  let f: GatewayFixture;
  const clients: PlainClient[] = [];

  beforeAll(async () => {
    f = await GatewayFixture.create();
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await f?.close();
  });

  it('both owners get the same alerts and metrics_update; after one leaves, only the other', async () => {
    // Bob connects alice's channel too (a manager, a team account).
    const bobConn = await f.connections.upsert(
      { userId: f.bob.userId, platform: 'twitch', channelId: f.alice.channelId, login: f.alice.channelId, displayName: f.alice.channelId, scopes: [] },
      { accessToken: 'sim-access-2', refreshToken: 'sim-refresh-2', expiresAt: null, scopes: [] },
    );
    const alice = await PlainClient.connect(f.wsUrl, { token: f.alice.token });
    const bob = await PlainClient.connect(f.wsUrl, { token: f.bob.token });
    clients.push(alice, bob);
    expect(await alice.request('join_stream_channel', {})).toMatchObject({ ok: true });
    expect(await bob.request('join_stream_channel', {})).toMatchObject({ ok: true });

    // The records name alice (her connection polled the channel); both owners receive them.
    const s = f.session(f.alice, Date.UTC(2026, 10, 27, 3, 0));
    await f.produceAlert(s.start);
    for (const w of s.windows) await f.produceWindow(w);
    for (const c of [alice, bob]) {
      await c.waitFor('stream_notification', (d) => d.alertId === s.start.alertId);
      await eventually(async () => c.of('metrics_update').length, (n) => n === 2);
    }
    const bobStart = bob.of('stream_notification')[0]!;
    expect(bobStart).toMatchObject({ type: 'start', platform: 'twitch', channelId: f.alice.channelId, userId: f.bob.userId });
    expect(JSON.stringify(bob.received)).not.toContain(f.alice.userId); // nobody learns a co-owner's id
    expect(bob.of('metrics_update')).toEqual(alice.of('metrics_update').map((w) => ({ ...w, userId: f.bob.userId })));

    // Alice leaves. The end of the stream (still naming her) reaches bob only. Bob's own channel then
    // gets an alert keyed like hers (same partition, later offset): once alice would have had it…
    await f.connections.setStatus((await f.connections.listActiveByChannel('twitch', f.alice.channelId)).find((c) => c.userId === f.alice.userId)!.connectionId, 'revoked');
    await f.produceAlert(s.end);
    const marker = { alertId: `marker-${Date.now()}`, type: 'viewer_spike', userId: f.alice.userId, platform: 'twitch', channelId: f.bob.channelId, occurredAt: Date.now(), message: 'marker' };
    await f.produceAlert(marker);
    const end = await bob.waitFor('stream_notification', (d) => d.type === 'end');
    expect(end).toMatchObject({ userId: f.bob.userId, summary: s.summary });
    await bob.waitFor('alert', (d) => d.alertId === marker.alertId);
    expect(alice.of('stream_notification').map((n) => n.type)).toEqual(['start']);
    expect(alice.of('alert')).toEqual([]);

    // Bob leaves too: a record of the channel now reaches nobody.
    await f.connections.setStatus(bobConn.connectionId, 'revoked');
    await f.produceWindow({ ...s.windows[1]!, windowStart: s.windows[1]!.windowStart + 60_000 });
    const marker2 = { ...marker, alertId: `marker2-${Date.now()}`, channelId: f.bob.channelId };
    await f.produceAlert(marker2);
    await bob.waitFor('alert', (d) => d.alertId === marker2.alertId);
    await new Promise((r) => setTimeout(r, 500)); // windows are another topic: give a stray one the chance to show
    expect(bob.of('metrics_update')).toHaveLength(2);
    expect(alice.of('metrics_update')).toHaveLength(2);
  });
});
