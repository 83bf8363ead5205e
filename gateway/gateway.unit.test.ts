import { LruSet } from '../shared/collections/lru-set';
import { chooseOwnedChannel } from './channel-ownership';
import { alertToFeed, windowToFeed, type FeedMessage } from './feed.mapper';
import { FeedRouter } from './feed.router';
import { ClientSession, GatewayHandlers, toLifecycle } from './gateway.handlers';
import { createLogger } from '../shared/logging/logger';
import type { StreamLifecycle } from '../shared/events/events';
import { MessageRateLimiter } from './rate-limiter';
import { backpressureAction } from './slow-consumer.policy';
import { extractUpgradeToken } from './upgrade-token';

describe('MessageRateLimiter', () => {
  it('allows a burst of `rate` messages, then refuses, and refills at `rate` per second', () => {
    let t = 0;
    const rl = new MessageRateLimiter(10, () => t);
    for (let i = 0; i < 10; i++) expect(rl.take()).toBe('ok');
    expect(rl.take()).toBe('limited');
    t += 100; // one token back
    expect(rl.take()).toBe('ok');
    expect(rl.take()).toBe('limited');
  });

  it('calls a sustained 1,000 msg/s stream a flood after the burst and the tolerance are spent', () => {
    let t = 0;
    const rl = new MessageRateLimiter(20, () => t);
    const verdicts: string[] = [];
    for (let i = 0; i < 60; i++) {
      verdicts.push(rl.take());
      t += 1;
    }
    expect(verdicts.slice(0, 20).every((v) => v === 'ok')).toBe(true);
    expect(verdicts).toContain('limited');
    expect(verdicts.indexOf('flood')).toBeGreaterThan(20);
    expect(verdicts.indexOf('flood')).toBeLessThan(45);
  });

  it('a client slightly over the rate (1.5×) is limited but never called a flood', () => {
    let t = 0;
    const rl = new MessageRateLimiter(10, () => t);
    const seen = new Set<string>();
    for (let i = 0; i < 600; i++) {
      seen.add(rl.take());
      t += 1000 / 15;
    }
    expect(seen.has('limited')).toBe(true);
    expect(seen.has('flood')).toBe(false);
  });

  it('reports one error per episode of refusals', () => {
    let t = 0;
    const rl = new MessageRateLimiter(1, () => t);
    rl.take();
    expect(rl.take()).toBe('limited');
    expect(rl.firstOfEpisode()).toBe(true);
    expect(rl.firstOfEpisode()).toBe(false);
    t += 2000;
    expect(rl.take()).toBe('ok');
    expect(rl.firstOfEpisode()).toBe(true);
  });
});

describe('LruSet (alert de-duplication)', () => {
  it('reports repeats and forgets the least recently seen beyond its capacity', () => {
    const s = new LruSet(2);
    expect(s.seen('a')).toBe(false);
    expect(s.seen('b')).toBe(false);
    expect(s.seen('a')).toBe(true); // a is now most recent
    expect(s.seen('c')).toBe(false); // evicts b
    expect(s.size).toBe(2);
    expect(s.seen('a')).toBe(true);
    expect(s.seen('b')).toBe(false);
    s.forget('a'); // its handling failed: the next delivery is new again
    expect(s.seen('a')).toBe(false);
  });
});

describe('extractUpgradeToken', () => {
  it('prefers the Authorization header', () => {
    expect(extractUpgradeToken({ authorization: 'Bearer shub_abc', protocol: 'bearer, shub_zzz', query: 'token=shub_q' })).toEqual({ token: 'shub_abc', via: 'header', protocol: 'bearer' });
  });
  it('reads "bearer, <token>" from Sec-WebSocket-Protocol and answers with "bearer", never the token', () => {
    expect(extractUpgradeToken({ authorization: '', protocol: 'bearer, shub_abc', query: '' })).toEqual({ token: 'shub_abc', via: 'subprotocol', protocol: 'bearer' });
  });
  it('falls back to ?token= and reports nothing when no token is present', () => {
    expect(extractUpgradeToken({ authorization: '', protocol: '', query: 'a=1&token=shub_q' })).toEqual({ token: 'shub_q', via: 'query', protocol: '' });
    expect(extractUpgradeToken({ authorization: 'Basic xyz', protocol: '', query: '' })).toEqual({ token: null, via: null, protocol: '' });
  });
});

describe('backpressureAction', () => {
  it('sends under the limit and applies the policy over it', () => {
    expect(backpressureAction(100, 1000, 'close')).toBe('send');
    expect(backpressureAction(1001, 1000, 'drop')).toBe('drop');
    expect(backpressureAction(1001, 1000, 'close')).toBe('close');
  });
});

describe('feed mapping', () => {
  const alert = { alertId: 'a1', userId: 'u1', platform: 'twitch', channelId: 'c1', occurredAt: 1764100000000, severity: 'info', message: 'm' };
  it('stream_started → stream_notification start; stream_ended carries the session summary', () => {
    expect(alertToFeed({ ...alert, type: 'stream_started', detailsJson: '{"streamId":"s1"}' })).toEqual({
      userId: 'u1', event: 'stream_notification',
      data: { type: 'start', alertId: 'a1', userId: 'u1', platform: 'twitch', channelId: 'c1', occurredAt: 1764100000000, message: 'm', details: { streamId: 's1' } },
      audience: { type: 'stream_started', userId: 'u1', platform: 'twitch', channelId: 'c1' },
    });
    expect(alertToFeed({ ...alert, type: 'stream_ended', detailsJson: '{"peakViewers":7}' }).data).toMatchObject({ summary: { peakViewers: 7 } });
  });
  it('other alert types → alert; unparsable details become {}', () => {
    const m = alertToFeed({ ...alert, type: 'viewer_spike', detailsJson: 'not json' });
    expect(m.event).toBe('alert');
    expect(m.data).toMatchObject({ type: 'viewer_spike', severity: 'info', details: {} });
  });
  it('a MetricWindow → metrics_update with windowEnd', () => {
    const w = { platform: 'twitch', channelId: 'c1', userId: 'u1', windowStart: 1764100020000, samples: 2, avgViewers: 10, peakViewers: 12, minViewers: 8, viewerMinutes: 10, followers: null, followerDelta: 0, chatMessages: 3, uniqueChatters: 2, engagementRate: 0.2, live: true, session: null, provisional: false, chatSamplingRate: 1, paidSubscribers: null, paidSubscriberDelta: null, subscriptionPoints: null };
    expect(windowToFeed(w)).toEqual({ userId: 'u1', event: 'metrics_update', data: { ...w, windowEnd: 1764100080000 }, audience: { userId: 'u1', platform: 'twitch', channelId: 'c1' } });
  });
});

describe('feed routing to a channel\'s owners (issue 16)', () => {
  const owners = { activeOwners: async (platform: string, channelId: string) => (platform === 'twitch' && channelId === 'shared' ? ['alice', 'bob'] : []) };
  const route = async (msg: FeedMessage) => {
    const out: FeedMessage[] = [];
    const n = await new FeedRouter(owners, (m) => out.push(m)).deliver(msg);
    return { n, out };
  };
  const alert = { alertId: 'a1', platform: 'twitch', channelId: 'shared', occurredAt: 1, severity: 'info', message: 'm', detailsJson: '{}' };
  it('every active owner gets a copy naming them, whoever the record names', async () => {
    const { n, out } = await route(alertToFeed({ ...alert, type: 'stream_started', userId: 'alice' }));
    expect(n).toBe(2);
    expect(out.map((m) => [m.userId, (m.data as { userId: string }).userId])).toEqual([['alice', 'alice'], ['bob', 'bob']]);
    // The record names a user who left: still the owners now, and only them.
    expect((await route(alertToFeed({ ...alert, type: 'viewer_spike', userId: 'carol' }))).out.map((m) => m.userId)).toEqual(['alice', 'bob']);
  });
  it('a channel nobody owns any more reaches nobody; a reauth alert only its connection\'s user; no audience → its user', async () => {
    expect((await route(alertToFeed({ ...alert, channelId: 'gone', type: 'stream_started', userId: 'alice' }))).n).toBe(0);
    expect((await route(alertToFeed({ ...alert, type: 'reauth_required', userId: 'bob' }))).out.map((m) => m.userId)).toEqual(['bob']);
    expect((await route({ userId: 'dave', event: 'recommendation', data: {} })).out).toEqual([{ userId: 'dave', event: 'recommendation', data: {} }]);
  });
});

describe('chooseOwnedChannel', () => {
  const conns = [
    { platform: 'twitch', channelId: 't1', status: 'active' },
    { platform: 'youtube', channelId: 'y1', status: 'reauth_required' },
    { platform: 'youtube', channelId: 'y2', status: 'active' },
    { platform: 'youtube', channelId: 'y3', status: 'active' },
  ];
  it('finds the one active channel, refuses unknown, inactive and ambiguous ones', () => {
    expect(chooseOwnedChannel(conns, 'twitch')).toEqual({ ok: true, channel: { platform: 'twitch', channelId: 't1' } });
    expect(chooseOwnedChannel(conns, 'twitch', 'other')).toEqual({ ok: false, reason: 'not_connected' });
    expect(chooseOwnedChannel(conns, 'youtube', 'y1')).toEqual({ ok: false, reason: 'not_active' });
    expect(chooseOwnedChannel(conns, 'youtube')).toEqual({ ok: false, reason: 'ambiguous' });
    expect(chooseOwnedChannel(conns, 'youtube', 'y3')).toEqual({ ok: true, channel: { platform: 'youtube', channelId: 'y3' } });
    expect(chooseOwnedChannel(conns, 'kick')).toEqual({ ok: false, reason: 'not_connected' });
  });
});

describe('GatewayHandlers (pure rules; Kafka is exercised by the integration tests)', () => {
  const published: StreamLifecycle[] = [];
  const handlers = new GatewayHandlers({
    ownership: { ownedChannel: async (_u, platform) => (platform === 'twitch' ? { ok: true, channel: { platform, channelId: 't1' } } : { ok: false, reason: 'not_connected' }) },
    lifecycle: { publish: async (e) => void published.push(e) },
    logger: createLogger('silent'),
    now: () => 1764100000000,
  });
  const joined: string[] = [];
  const session: ClientSession = { protocol: 'ws', principal: { userId: 'u1', tokenId: 't' }, joinFeed: (u) => void joined.push(u), leaveFeed: () => undefined };

  it('joins the caller\'s own feed (userId given or omitted) and refuses another user\'s without subscribing', async () => {
    expect(await handlers.handle(session, 'join_stream_channel', { userId: 'u1' })).toEqual({ ok: true, userId: 'u1' });
    expect(await handlers.handle(session, 'join_stream_channel', undefined)).toEqual({ ok: true, userId: 'u1' });
    expect(await handlers.handle(session, 'join_stream_channel', { userId: 'u2' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(joined).toEqual(['u1', 'u1']);
  });

  it('answers validation errors with the field path, unknown events with UNKNOWN_EVENT', async () => {
    expect(await handlers.handle(session, 'join_stream_channel', { userId: 42 })).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('userId') } });
    expect(await handlers.handle(session, 'stream_event', { type: 'explode', platform: 'twitch', userId: 'u1' })).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('type') } });
    expect(await handlers.handle(session, 'drop_tables', {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_EVENT' } });
  });

  it('publishes a stream_event for the caller\'s connected channel only', async () => {
    const ok = await handlers.handle(session, 'stream_event', { type: 'start', platform: 'twitch', userId: 'u1', streamData: { streamId: 's9', title: 'Hi', viewers: 3 } });
    expect(ok).toEqual({ ok: true, eventId: 'twitch:t1:s9:started', type: 'started', channelId: 't1', streamId: 's9', occurredAt: 1764100000000 });
    expect(published[0]).toEqual({ eventId: 'twitch:t1:s9:started', type: 'started', platform: 'twitch', channelId: 't1', userId: 'u1', streamId: 's9', occurredAt: 1764100000000, title: 'Hi', category: null, source: 'creator_tool', reportedAt: null });
    expect(await handlers.handle(session, 'stream_event', { type: 'start', platform: 'twitch', userId: 'u2', streamData: {} })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await handlers.handle(session, 'stream_event', { type: 'start', platform: 'youtube', userId: 'u1', streamData: {} })).toMatchObject({ ok: false, error: { code: 'CHANNEL_NOT_CONNECTED' } });
    expect(published).toHaveLength(1);
    published.length = 0;
  });

  it('uses the receive time as event time; keeps the tool\'s occurredAt (as reportedAt) only within the skew', async () => {
    const now = 1764100000000;
    const sent = async (occurredAt: number | string) => {
      const reply = await handlers.handle(session, 'stream_event', { type: 'update', platform: 'twitch', userId: 'u1', streamData: { streamId: 's9', occurredAt } });
      expect(reply).toMatchObject({ ok: true, occurredAt: now });
      return { reply, record: published[published.length - 1]! };
    };
    for (const hostile of [now + 5 * 60_000, now + 86_400_000, Date.UTC(2099, 0, 1), 1, '1970-01-01T00:00:00Z']) {
      const { reply, record } = await sent(hostile);
      expect(record).toMatchObject({ occurredAt: now, reportedAt: null, eventId: `twitch:t1:s9:updated:${now}` });
      expect(reply).toMatchObject({ note: expect.stringContaining('receive time is used') });
    }
    const { reply, record } = await sent(now - 3000); // a tool's clock 3 s behind: within the default 5 s
    expect(record).toMatchObject({ occurredAt: now, reportedAt: now - 3000 });
    expect(reply).not.toHaveProperty('note');
  });

  it('ping answers a timestamp', async () => {
    expect(await handlers.handle(session, 'ping', undefined)).toEqual({ ok: true, ts: 1764100000000 });
  });
});

describe('toLifecycle', () => {
  it('derives deterministic ids for started/ended and distinct ones for updates', () => {
    const input = { type: 'end' as const, platform: 'twitch', userId: 'u1', streamData: { startedAt: 1000 } };
    expect(toLifecycle(input, 'c1', 5000)).toMatchObject({ eventId: 'twitch:c1:creator_tool:1000:ended', streamId: 'creator_tool:1000', type: 'ended' });
    expect(toLifecycle({ ...input, type: 'update', streamData: { streamId: 's' } }, 'c1', 5000).eventId).toBe('twitch:c1:s:updated:5000');
  });
});
