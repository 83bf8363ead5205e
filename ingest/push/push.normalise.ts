/**
 * Pushed platform events → our records (pure). Ids are deterministic from the platform's delivery id
 * (EventSub `message_id`), so a redelivery is the same record; lifecycle ids are the poll path's
 * (`<platform>:<channelId>:<streamId>:started|ended`), so a push and a later poll of one transition
 * are one record.
 */
import type { ChannelPush } from '../../platforms/platform.adapter';
import type { Alert, AlertType, ChannelEvent, ChannelEventType } from '../../shared/events/events';
import type { ChannelLiveState } from '../lifecycle/lifecycle.derive';
import type { PollSubject } from '../output/normalise';

export const channelEventId = (p: Pick<ChannelPush, 'platform' | 'channelId' | 'deliveryId'>) => `${p.platform}:${p.channelId}:eventsub:${p.deliveryId}`;

const EVENT_TYPE: Partial<Record<ChannelPush['kind'], ChannelEventType>> = {
  follow: 'follow', raid: 'raid', subscribe: 'subscribe', resubscribe: 'resubscribe', gift: 'gift', cheer: 'cheer',
};

export function toChannelEvent(s: PollSubject, p: ChannelPush): ChannelEvent | null {
  const type = EVENT_TYPE[p.kind];
  if (!type) return null;
  return {
    eventId: channelEventId(p), type, platform: s.platform, channelId: s.channelId, userId: s.userId,
    occurredAt: p.occurredAt, receivedAt: p.receivedAt,
    actorId: p.actor?.id ?? null, actorLogin: p.actor?.login ?? null, actorName: p.actor?.name ?? null,
    viewers: p.viewers, tier: p.tier, gifted: p.gifted, months: p.months, count: p.count, bits: p.bits,
  };
}

const ALERT_OF: Record<ChannelEventType, AlertType> = {
  follow: 'new_follower', raid: 'raid', subscribe: 'new_subscriber', resubscribe: 'new_subscriber', gift: 'new_subscriber', cheer: 'cheer',
};

const tierName = (t: string | null) => (t === '2000' ? 'tier 2' : t === '3000' ? 'tier 3' : 'tier 1');

function messageOf(e: ChannelEvent): string {

  const who = e.actorName ?? 'Someone';
  switch (e.type) {
    case 'follow': return `${who} followed`;
    case 'raid': return `${who} raided with ${e.viewers ?? 0} viewers`;
    case 'subscribe': return `${who} subscribed (${tierName(e.tier)}${e.gifted ? ', gifted' : ''})`;
    case 'resubscribe': return `${who} resubscribed (${tierName(e.tier)}, ${e.months ?? 0} months)`;
    case 'gift': return `${who} gifted ${e.count ?? 1} ${tierName(e.tier)} subscription${e.count === 1 ? '' : 's'}`;
    case 'cheer': return `${who} cheered ${e.bits ?? 0} bits`;
    default: return `${who}: ${e.type}`;
  }
}

/** The creator's alert for a ChannelEvent (id `<eventId>:alert`); details carry the figures alert tools show. */
export function toAudienceAlert(e: ChannelEvent): Alert {
  const details = {
    eventId: e.eventId, kind: e.type, actor: e.actorId ? { id: e.actorId, login: e.actorLogin, name: e.actorName } : null,
    viewers: e.viewers, tier: e.tier, gifted: e.gifted, months: e.months, count: e.count, bits: e.bits, receivedAt: e.receivedAt,
  };
  return {
    alertId: `${e.eventId}:alert`, type: ALERT_OF[e.type as ChannelEventType], userId: e.userId, platform: e.platform, channelId: e.channelId,
    occurredAt: e.occurredAt, severity: 'info', message: messageOf(e), detailsJson: JSON.stringify(details),
  };
}

/**
 * The live state a lifecycle push implies, from the last-known one: online = live with the pushed
 * stream id and start; offline = not live; update = new title/category of the live stream (null when
 * the channel is not known live: the next poll reads it). Observed at receive time, so a poll that
 * read the platform before the push cannot move the state back (deriveLifecycle's rule).
 */
export function liveStateFromPush(prev: ChannelLiveState | null, p: ChannelPush): ChannelLiveState | null {
  const keep = { title: prev?.title ?? null, category: prev?.category ?? null };
  if (p.kind === 'online' && p.streamId) return { live: true, streamId: p.streamId, startedAt: p.occurredAt, ...keep, observedAt: p.receivedAt };
  if (p.kind === 'offline') return { live: false, streamId: null, startedAt: null, ...keep, observedAt: p.receivedAt };
  if (p.kind === 'update' && prev?.live) return { ...prev, title: p.title, category: p.category, observedAt: p.receivedAt };
  return null;
}
