/**
 * Issue 18.3: Twitch paid subscribers and points are polled with the followers (one record per slot,
 * the followers' cadence, the owner's user token). A connection made before we asked for
 * channel:read:subscriptions keeps being polled: its records carry null (not 0) subscribers and points.
 */
import type { FollowerCount } from '../../shared/events/events';
import { authorizeViaRedirect } from '../../platforms/simulator/demo-seed';
import { eventually } from '../support/stack';
import { ingestHarness, type IngestHarness } from './ingest.harness';

describe('ingest: Twitch paid subscribers beside followers (real Redis, Kafka, Schema Registry; simulator)', () => {
  let h: IngestHarness;
  beforeAll(async () => {
    h = await ingestHarness({ channels: 4, topics: ['followers'] });
  });
  afterAll(async () => h?.close());

  it('a grant with channel:read:subscriptions yields subscribers and points; an older grant yields null and is not failed', async () => {
    const { sim, platform, connect } = h.platforms;
    const [scoped, old] = sim.world.channels.filter((c) => c.platform === 'twitch');
    const [conn] = await connect('creator-new', 1); // the first Twitch channel, with every scope we ask for today
    expect(conn!.channelId).toBe(scoped!.channelId);
    expect(conn!.scopes).toContain('channel:read:subscriptions');

    // The second channel connects the way a creator did before issue 18.3: without the scope.
    const redirectUri = 'http://127.0.0.1/callback';
    const { url } = await platform.streaming.getAuthorizationUrl('twitch', { userId: 'creator-old', redirectUri });
    const u = new URL(url);
    u.searchParams.set('scope', (u.searchParams.get('scope') ?? '').split(' ').filter((s) => s !== 'channel:read:subscriptions').join(' '));
    const { code, state } = await authorizeViaRedirect(u.toString(), old!.login);
    const oldConn = await platform.streaming.connectPlatform('twitch', code, { userId: 'creator-old', redirectUri, state });
    expect(oldConn.scopes).not.toContain('channel:read:subscriptions');

    await h.startIngest({ metricsPort: 0 });
    const of = (channelId: string) => h.collector.of<FollowerCount>('followers').filter((e) => e.value.channelId === channelId).map((e) => e.value);
    // Two polls of each: the older grant's channel keeps being polled (its run did not fail).
    await eventually(async () => of(scoped!.channelId).length >= 2 && of(old!.channelId).length >= 2, Boolean, 30_000);

    for (const f of of(scoped!.channelId)) {
      expect(f.paidSubscribers).toBeGreaterThan(0);
      expect(f.subscriptionPoints).toBeGreaterThanOrEqual(f.paidSubscribers!);
      expect(f.paidSubscribers).toBeLessThan(f.followers);
      expect(f.eventId).toMatch(new RegExp(`^twitch:${scoped!.channelId}:followers:\\d+$`));
    }
    for (const f of of(old!.channelId)) {
      expect(f.followers).toBe(sim.world.followersAt(old!.channelId, f.observedAt));
      expect(f.paidSubscribers).toBeNull();
      expect(f.subscriptionPoints).toBeNull();
    }
  });
});
