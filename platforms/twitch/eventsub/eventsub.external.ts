/**
 * Raw EventSub payloads with Twitch's own field names (STYLE habit 11), for the subscription types
 * the push path uses. Source: dev.twitch.tv/docs/eventsub/eventsub-subscription-types and
 * eventsub-reference (event objects), "Handling WebSocket Events" (frames, close codes). The Twitch
 * CLI (`twitch event trigger … --transport=websocket`) sends these same shapes.
 */
import { z } from 'zod';

/** One subscription we ask for: type, version, how its condition names the channel, the scope it needs. */
export interface EventSubSpec {
  type: string;
  version: string;
  condition: (channelId: string) => Record<string, string>;
  /** The OAuth scope the broadcaster's token must carry (DESIGN.md §4); null = none. */
  scope: string | null;
}

const broadcaster = (id: string) => ({ broadcaster_user_id: id });

export const EVENTSUB_SPECS: readonly EventSubSpec[] = [
  { type: 'stream.online', version: '1', condition: broadcaster, scope: null },
  { type: 'stream.offline', version: '1', condition: broadcaster, scope: null },
  { type: 'channel.update', version: '2', condition: broadcaster, scope: null },
  // The broadcaster is their own moderator: their token carries moderator:read:followers.
  { type: 'channel.follow', version: '2', condition: (id) => ({ broadcaster_user_id: id, moderator_user_id: id }), scope: 'moderator:read:followers' },
  // Raids *into* the channel.
  { type: 'channel.raid', version: '1', condition: (id) => ({ to_broadcaster_user_id: id }), scope: null },
  { type: 'channel.subscribe', version: '1', condition: broadcaster, scope: 'channel:read:subscriptions' },
  { type: 'channel.subscription.message', version: '1', condition: broadcaster, scope: 'channel:read:subscriptions' },
  { type: 'channel.subscription.gift', version: '1', condition: broadcaster, scope: 'channel:read:subscriptions' },
  { type: 'channel.cheer', version: '1', condition: broadcaster, scope: 'bits:read' },
];

const nullableStr = z.string().nullable().optional().transform((v) => v ?? null);

export const streamOnlineEvent = z.object({ broadcaster_user_id: z.string(), id: z.string(), type: z.string().optional(), started_at: z.string() });
export const streamOfflineEvent = z.object({ broadcaster_user_id: z.string() });
export const channelUpdateEvent = z.object({ broadcaster_user_id: z.string(), title: z.string(), category_id: z.string().optional(), category_name: z.string().optional() });
export const channelFollowEvent = z.object({ broadcaster_user_id: z.string(), user_id: z.string(), user_login: z.string(), user_name: z.string(), followed_at: z.string() });
export const channelRaidEvent = z.object({
  from_broadcaster_user_id: z.string(), from_broadcaster_user_login: z.string(), from_broadcaster_user_name: z.string(),
  to_broadcaster_user_id: z.string(), viewers: z.number().int().nonnegative(),
});
export const channelSubscribeEvent = z.object({ broadcaster_user_id: z.string(), user_id: z.string(), user_login: z.string(), user_name: z.string(), tier: z.string(), is_gift: z.boolean() });
export const channelSubscriptionMessageEvent = z.object({
  broadcaster_user_id: z.string(), user_id: z.string(), user_login: z.string(), user_name: z.string(), tier: z.string(),
  cumulative_months: z.number().int().nonnegative(), streak_months: z.number().int().nullable().optional(), duration_months: z.number().int().optional(),
});
export const channelSubscriptionGiftEvent = z.object({
  broadcaster_user_id: z.string(), user_id: nullableStr, user_login: nullableStr, user_name: nullableStr, tier: z.string(),
  total: z.number().int().nonnegative(), is_anonymous: z.boolean(), cumulative_total: z.number().int().nullable().optional(),
});
export const channelCheerEvent = z.object({
  broadcaster_user_id: z.string(), user_id: nullableStr, user_login: nullableStr, user_name: nullableStr, is_anonymous: z.boolean(), bits: z.number().int().nonnegative(),
});

/** `payload.subscription` of a revocation: `status` says why (user_removed, authorization_revoked, version_removed…). */
export const eventSubRevokedSubscription = z.object({ id: z.string(), type: z.string(), status: z.string(), condition: z.record(z.string()).optional() });
