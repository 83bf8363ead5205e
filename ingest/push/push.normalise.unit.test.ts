import type { ChannelPush } from '../../platforms/platform.adapter';
import { channelEventId, liveStateFromPush, toAudienceAlert, toChannelEvent } from './push.normalise';

const subject = { platform: 'twitch', channelId: '42', userId: 'u1' };
const push = (p: Partial<ChannelPush>): ChannelPush => ({
  deliveryId: 'm-1', platform: 'twitch', channelId: '42', kind: 'follow', occurredAt: 1_000, receivedAt: 1_500,
  streamId: null, title: null, category: null, actor: null, viewers: null, tier: null, gifted: null, months: null, count: null, bits: null, ...p,
});

describe('push normalisation (pure)', () => {
  it('ids come from the delivery id: a redelivery is the same record and alert', () => {
    expect(channelEventId(push({}))).toBe('twitch:42:eventsub:m-1');
    const a = toChannelEvent(subject, push({ actor: { id: '7', login: 'fan', name: 'Fan' } }))!;
    const b = toChannelEvent(subject, push({ actor: { id: '7', login: 'fan', name: 'Fan' }, receivedAt: 9_999 }))!;
    expect(a.eventId).toBe(b.eventId);
    expect(toAudienceAlert(a).alertId).toBe('twitch:42:eventsub:m-1:alert');
  });

  it('each audience kind becomes its ChannelEvent and alert with the figures alert tools show', () => {
    const raid = toChannelEvent(subject, push({ kind: 'raid', viewers: 42, actor: { id: '9', login: 'raider', name: 'Raider' } }))!;
    expect(raid).toMatchObject({ type: 'raid', viewers: 42, actorId: '9', userId: 'u1', occurredAt: 1_000, receivedAt: 1_500 });
    expect(toAudienceAlert(raid)).toMatchObject({ type: 'raid', message: 'Raider raided with 42 viewers', severity: 'info' });
    const resub = toChannelEvent(subject, push({ kind: 'resubscribe', tier: '2000', months: 7, actor: { id: '3', login: 's', name: 'Sub' } }))!;
    expect(toAudienceAlert(resub)).toMatchObject({ type: 'new_subscriber', message: 'Sub resubscribed (tier 2, 7 months)' });
    const gift = toChannelEvent(subject, push({ kind: 'gift', tier: '1000', count: 5, gifted: true }))!;
    expect(toAudienceAlert(gift).message).toBe('Someone gifted 5 tier 1 subscriptions');
    const cheer = toChannelEvent(subject, push({ kind: 'cheer', bits: 500 }))!;
    expect(JSON.parse(toAudienceAlert(cheer).detailsJson)).toMatchObject({ kind: 'cheer', bits: 500, actor: null });
  });

  it('lifecycle kinds make no ChannelEvent', () => {
    for (const kind of ['online', 'offline', 'update'] as const) expect(toChannelEvent(subject, push({ kind }))).toBeNull();
  });

  it('online/offline/update imply the live state observed at receive time; an update of a channel not known live implies nothing', () => {
    const prev = { live: false, streamId: null, startedAt: null, title: 'old', category: 'Chess', observedAt: 500 };
    expect(liveStateFromPush(prev, push({ kind: 'online', streamId: 's1', occurredAt: 1_000 }))).toEqual({ live: true, streamId: 's1', startedAt: 1_000, title: 'old', category: 'Chess', observedAt: 1_500 });
    const live = { live: true, streamId: 's1', startedAt: 1_000, title: 'old', category: 'Chess', observedAt: 1_500 };
    expect(liveStateFromPush(live, push({ kind: 'update', title: 'new', category: 'Art', receivedAt: 2_000 }))).toEqual({ ...live, title: 'new', category: 'Art', observedAt: 2_000 });
    expect(liveStateFromPush(live, push({ kind: 'offline', receivedAt: 3_000 }))).toEqual({ live: false, streamId: null, startedAt: null, title: 'old', category: 'Chess', observedAt: 3_000 });
    expect(liveStateFromPush(prev, push({ kind: 'update', title: 'x' }))).toBeNull();
    expect(liveStateFromPush(null, push({ kind: 'online', streamId: null }))).toBeNull();
  });
});
