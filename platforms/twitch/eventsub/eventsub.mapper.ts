/**
 * EventSub notification → ChannelPush (our domain shape), in one place. A notification whose event
 * does not match its type's documented shape is dropped (null), like a malformed poll answer.
 */
import type { ChannelPush } from '../../platform.adapter';
import type { TwitchEventSubFrame } from '../twitch.external';
import {
  channelCheerEvent, channelFollowEvent, channelRaidEvent, channelSubscribeEvent, channelSubscriptionGiftEvent,
  channelSubscriptionMessageEvent, channelUpdateEvent, streamOfflineEvent, streamOnlineEvent,
} from './eventsub.external';

const at = (iso: string | undefined, fallback: number) => {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? t : fallback;
};

const actorOf = (id: string | null, login: string | null, name: string | null) => (id ? { id, login: login ?? id, name: name ?? login ?? id } : null);

export function toChannelPush(f: TwitchEventSubFrame, receivedAt: number): ChannelPush | null {
  const type = f.metadata.subscription_type ?? f.payload.subscription?.type;
  const e = f.payload.event;
  if (!type || !e) return null;
  const sent = at(f.metadata.message_timestamp, receivedAt);
  const base = {
    deliveryId: f.metadata.message_id, platform: 'twitch', receivedAt, occurredAt: sent,
    streamId: null, title: null, category: null, actor: null, viewers: null, tier: null, gifted: null, months: null, count: null, bits: null,
  } satisfies Omit<ChannelPush, 'kind' | 'channelId'>;
  switch (type) {
    case 'stream.online': {
      const r = streamOnlineEvent.safeParse(e);
      return r.success ? { ...base, kind: 'online', channelId: r.data.broadcaster_user_id, streamId: r.data.id, occurredAt: at(r.data.started_at, sent) } : null;
    }
    case 'stream.offline': {
      const r = streamOfflineEvent.safeParse(e);
      return r.success ? { ...base, kind: 'offline', channelId: r.data.broadcaster_user_id } : null;
    }
    case 'channel.update': {
      const r = channelUpdateEvent.safeParse(e);
      return r.success ? { ...base, kind: 'update', channelId: r.data.broadcaster_user_id, title: r.data.title, category: r.data.category_name || null } : null;
    }
    case 'channel.follow': {
      const r = channelFollowEvent.safeParse(e);
      return r.success ? { ...base, kind: 'follow', channelId: r.data.broadcaster_user_id, occurredAt: at(r.data.followed_at, sent), actor: actorOf(r.data.user_id, r.data.user_login, r.data.user_name) } : null;
    }
    case 'channel.raid': {
      const r = channelRaidEvent.safeParse(e);
      return r.success
        ? { ...base, kind: 'raid', channelId: r.data.to_broadcaster_user_id, viewers: r.data.viewers, actor: actorOf(r.data.from_broadcaster_user_id, r.data.from_broadcaster_user_login, r.data.from_broadcaster_user_name) }
        : null;
    }
    case 'channel.subscribe': {
      const r = channelSubscribeEvent.safeParse(e);
      return r.success ? { ...base, kind: 'subscribe', channelId: r.data.broadcaster_user_id, tier: r.data.tier, gifted: r.data.is_gift, actor: actorOf(r.data.user_id, r.data.user_login, r.data.user_name) } : null;
    }
    case 'channel.subscription.message': {
      const r = channelSubscriptionMessageEvent.safeParse(e);
      return r.success
        ? { ...base, kind: 'resubscribe', channelId: r.data.broadcaster_user_id, tier: r.data.tier, gifted: false, months: r.data.cumulative_months, actor: actorOf(r.data.user_id, r.data.user_login, r.data.user_name) }
        : null;
    }
    case 'channel.subscription.gift': {
      const r = channelSubscriptionGiftEvent.safeParse(e);
      return r.success
        ? { ...base, kind: 'gift', channelId: r.data.broadcaster_user_id, tier: r.data.tier, gifted: true, count: r.data.total, actor: r.data.is_anonymous ? null : actorOf(r.data.user_id, r.data.user_login, r.data.user_name) }
        : null;
    }
    case 'channel.cheer': {
      const r = channelCheerEvent.safeParse(e);
      return r.success ? { ...base, kind: 'cheer', channelId: r.data.broadcaster_user_id, bits: r.data.bits, actor: r.data.is_anonymous ? null : actorOf(r.data.user_id, r.data.user_login, r.data.user_name) } : null;
    }
    default:
      return null;
  }
}
