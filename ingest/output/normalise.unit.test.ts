import { toChatActivity, toFollowerCount, toStreamSnapshot } from './normalise';
import { MalformedPlatformDataError } from '../ingest.errors';
import { channelSlug, parseSchedulerId, schedulerId, slotOf } from '../jobs/ingest-job';

const s = { platform: 'youtube', channelId: 'UCabc', userId: 'u7' };
const state = { channelId: 'UCabc', observedAt: 1_000_500, live: true, viewers: 12.4, streamId: 'v1', startedAt: 900_000, title: 'Live', category: 'Music', language: 'en' };

describe('normalisation of adapter results into events', () => {
  it('a snapshot carries the connection identity and an id from platform, channel and poll slot', () => {
    const e = toStreamSnapshot(s, state, 1_000_000);
    expect(e).toEqual({ eventId: 'youtube:UCabc:1000000', platform: 'youtube', channelId: 'UCabc', userId: 'u7', observedAt: 1_000_500, live: true, viewers: 12, streamId: 'v1', startedAt: 900_000, title: 'Live', category: 'Music', language: 'en', source: 'poll' });
    expect(toStreamSnapshot(s, { ...state, observedAt: 1_002_000 }, 1_000_000).eventId).toBe(e.eventId); // a retry of the slot
  });

  it('an offline snapshot has no viewers, stream id or start', () => {
    expect(toStreamSnapshot(s, { ...state, live: false }, 1)).toMatchObject({ live: false, viewers: null, streamId: null, startedAt: null });
  });

  it('bad adapter output is a typed, retriable error naming the field, not a broken event', () => {
    expect(() => toStreamSnapshot(s, { ...state, viewers: -1 }, 1)).toThrow(MalformedPlatformDataError);
    expect(() => toStreamSnapshot(s, { ...state, viewers: Number.NaN }, 1)).toThrow(/viewers/);
    expect(() => toFollowerCount(s, { channelId: 'UCabc', observedAt: 5, followers: Number.POSITIVE_INFINITY }, 1)).toThrow(/followers/);
    expect(() => toChatActivity(s, { channelId: 'UCabc', intervalStart: 10, intervalEnd: 5, messages: 1, chatterIds: [], cursor: null, nextPollMs: null })).toThrow(/interval/);
  });

  it('follower and chat events have deterministic ids, one per observation; chatter ids are de-duplicated', () => {
    expect(toFollowerCount(s, { channelId: 'UCabc', observedAt: 5, followers: 10 }, 3).eventId).toBe('youtube:UCabc:followers:3');
    const c = toChatActivity(s, { channelId: 'UCabc', intervalStart: 100, intervalEnd: 200, messages: 3, chatterIds: ['a', 'b', 'a'], cursor: 'n', nextPollMs: 5000 });
    expect(c).toMatchObject({ eventId: 'youtube:UCabc:chat:100-200', messages: 3, chatterIds: ['a', 'b'] });
    // A first read at t (zero-length, with a backlog) and the next read from t are two observations, two ids.
    const first = toChatActivity(s, { channelId: 'UCabc', intervalStart: 100, intervalEnd: 100, messages: 4, chatterIds: [], cursor: 'n', nextPollMs: null });
    expect(first.eventId).not.toBe(c.eventId);
  });

  it('a chat record carries the share of the chat its source read: 1 by default, the given rate when sampled, nothing outside (0, 1]', () => {
    const b = { channelId: 'UCabc', intervalStart: 100, intervalEnd: 200, messages: 3, chatterIds: ['a'], cursor: null, nextPollMs: null };
    expect(toChatActivity(s, b).samplingRate).toBe(1);
    // Sampled chat is flagged with its rate, its figures are not scaled up.
    expect(toChatActivity(s, b, 0.25)).toMatchObject({ samplingRate: 0.25, messages: 3 });
    expect(() => toChatActivity(s, b, 0)).toThrow(/sampling rate/);
    expect(() => toChatActivity(s, b, 1.5)).toThrow(/sampling rate/);
  });

  it('a follower count carries Twitch paid subscribers and points when read, and null (not 0) when not', () => {
    const tw = { platform: 'twitch', channelId: '42', userId: 'u7' };
    const f = { channelId: '42', observedAt: 5, followers: 10 };
    expect(toFollowerCount(tw, f, 3, { channelId: '42', observedAt: 6, subscribers: 7.2, points: 9 })).toEqual({
      eventId: 'twitch:42:followers:3', platform: 'twitch', channelId: '42', userId: 'u7', observedAt: 5, followers: 10, paidSubscribers: 7, subscriptionPoints: 9,
    });
    // No scope (a connection made before we asked for it), or a platform without paid subscriptions.
    expect(toFollowerCount(tw, f, 3, null)).toMatchObject({ followers: 10, paidSubscribers: null, subscriptionPoints: null });
    expect(toFollowerCount(s, { channelId: 'UCabc', observedAt: 5, followers: 10 }, 3)).toMatchObject({ paidSubscribers: null, subscriptionPoints: null });
    expect(() => toFollowerCount(tw, f, 3, { channelId: '42', observedAt: 6, subscribers: -1, points: 0 })).toThrow(/subscribers/);
    expect(() => toFollowerCount(tw, f, 3, { channelId: '42', observedAt: 6, subscribers: 1, points: Number.NaN })).toThrow(/points/);
  });

  it('scheduler ids round-trip and the slot comes from the scheduler iteration', () => {
    const id = schedulerId({ platform: 'youtube', channelId: 'UC.with:odd.chars' }, 'chat');
    expect(id).toMatch(/^ch_[A-Za-z0-9_-]{22}\.chat$/); // no ':' (BullMQ) and one '.' (ours)
    expect(parseSchedulerId(id)).toEqual({ slug: channelSlug({ platform: 'youtube', channelId: 'UC.with:odd.chars' }), resource: 'chat' });
    expect(schedulerId({ platform: 'twitch', channelId: '1' }, 'chat')).not.toBe(schedulerId({ platform: 'youtube', channelId: '1' }, 'chat'));
    expect(parseSchedulerId('nonsense')).toBeNull();
    expect(slotOf({ id: 'repeat:c_1.snapshot:1795666462000', opts: {}, timestamp: 7 })).toBe(1795666462000);
    expect(slotOf({ opts: { prevMillis: 42 }, timestamp: 7 })).toBe(42);
    expect(slotOf({ opts: {}, timestamp: 7 })).toBe(7);
  });
});
