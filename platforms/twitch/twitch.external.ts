/**
 * Raw Twitch payloads, with Twitch's own field names (STYLE habit 11). Declared once as zod schemas,
 * used by the adapter to validate what it receives and by the simulator to build what it serves.
 * Unknown fields are tolerated (stripped); a missing required field is a malformed response.
 *
 * Sources (dev.twitch.tv/docs): "Getting OAuth Access Tokens" (authorization code grant flow),
 * "Refreshing Access Tokens", "Validating Tokens", "Revoking Access Tokens", API reference
 * "Get Users", "Get Streams", "Get Channel Followers", "Twitch API → Rate limits" (Ratelimit-* headers),
 * EventSub "Handling WebSocket Events" and the `channel.chat.message` subscription type.
 */
import { z } from 'zod';

/** POST id.twitch.tv/oauth2/token (grant_type=authorization_code | refresh_token). */
export const twitchTokenResponse = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  expires_in: z.number().int().nonnegative(),
  scope: z.array(z.string()).default([]),
  token_type: z.string(),
});
export type TwitchTokenResponse = z.infer<typeof twitchTokenResponse>;

/**
 * POST id.twitch.tv/oauth2/token (grant_type=client_credentials): an app access token. It carries no
 * refresh token — when it expires (or Helix answers 401) a new one is issued ("Getting OAuth Access
 * Tokens → Client credentials grant flow").
 */
export const twitchAppTokenResponse = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().int().nonnegative(),
  token_type: z.string(),
});
export type TwitchAppTokenResponse = z.infer<typeof twitchAppTokenResponse>;

/** Helix batch reads take at most this many ids (`user_id` of Get Streams, `broadcaster_id` of Get Channel Information); one more is a 400. */
export const TWITCH_MAX_IDS_PER_CALL = 100;
/** Helix's bucket: 800 points a minute per client id and token (one point a call), over it a 429. */
export const TWITCH_POINTS_PER_MINUTE = 800;

/** GET id.twitch.tv/oauth2/validate (Authorization: OAuth <token>). */
export const twitchValidateResponse = z.object({
  client_id: z.string(),
  login: z.string(),
  scopes: z.array(z.string()).nullable().default([]),
  user_id: z.string(),
  expires_in: z.number().int(),
});
export type TwitchValidateResponse = z.infer<typeof twitchValidateResponse>;

/** Error body of id.twitch.tv and Helix: { "error": "Bad Request", "status": 400, "message": "Invalid refresh token" }. */
export const twitchErrorBody = z.object({
  error: z.string().optional(),
  status: z.number().int(),
  message: z.string(),
});
export type TwitchErrorBody = z.infer<typeof twitchErrorBody>;

export const twitchPagination = z.object({ cursor: z.string().optional() }).default({});

/** GET api.twitch.tv/helix/users */
export const twitchUser = z.object({
  id: z.string(),
  login: z.string(),
  display_name: z.string(),
  type: z.string(),
  broadcaster_type: z.string(),
  description: z.string(),
  profile_image_url: z.string(),
  offline_image_url: z.string(),
  view_count: z.number().optional(),
  created_at: z.string(),
});
export const twitchUsersResponse = z.object({ data: z.array(twitchUser) });
export type TwitchUser = z.infer<typeof twitchUser>;

/** GET api.twitch.tv/helix/streams — only live streams are listed; an empty `data` means offline. */
export const twitchStream = z.object({
  id: z.string(),
  user_id: z.string(),
  user_login: z.string(),
  user_name: z.string(),
  game_id: z.string(),
  game_name: z.string(),
  type: z.string(),
  title: z.string(),
  tags: z.array(z.string()).default([]),
  viewer_count: z.number().int().nonnegative(),
  started_at: z.string(),
  language: z.string(),
  thumbnail_url: z.string(),
  is_mature: z.boolean(),
});
export const twitchStreamsResponse = z.object({ data: z.array(twitchStream), pagination: twitchPagination });
export type TwitchStream = z.infer<typeof twitchStream>;

/** GET api.twitch.tv/helix/channels?broadcaster_id=… (1–100 ids): any token, app tokens included. */
export const twitchChannelInfo = z.object({
  broadcaster_id: z.string(),
  broadcaster_login: z.string(),
  broadcaster_name: z.string(),
  broadcaster_language: z.string(),
  game_id: z.string(),
  game_name: z.string(),
  title: z.string(),
  delay: z.number().int().default(0),
  tags: z.array(z.string()).default([]),
  content_classification_labels: z.array(z.string()).default([]),
  is_branded_content: z.boolean().default(false),
});
export const twitchChannelsResponse = z.object({ data: z.array(twitchChannelInfo) });
export type TwitchChannelInfo = z.input<typeof twitchChannelInfo>;

/**
 * GET api.twitch.tv/helix/subscriptions?broadcaster_id= ("Get Broadcaster Subscriptions"): the
 * broadcaster's own user token with channel:read:subscriptions; `total` subscribers and `points`
 * (tier 1 = 1, tier 2 = 2, tier 3 = 6) come with every page.
 */
export const twitchSubscription = z.object({
  broadcaster_id: z.string(),
  broadcaster_login: z.string(),
  broadcaster_name: z.string(),
  gifter_id: z.string(),
  gifter_login: z.string(),
  gifter_name: z.string(),
  is_gift: z.boolean(),
  tier: z.string(),
  plan_name: z.string(),
  user_id: z.string(),
  user_name: z.string(),
  user_login: z.string(),
});
export const twitchSubscriptionsResponse = z.object({
  data: z.array(twitchSubscription),
  pagination: twitchPagination,
  total: z.number().int().nonnegative(),
  points: z.number().int().nonnegative(),
});
export type TwitchSubscription = z.infer<typeof twitchSubscription>;
export type TwitchSubscriptionsResponse = z.input<typeof twitchSubscriptionsResponse>;

/** GET api.twitch.tv/helix/channels/followers — `total` is visible without moderator:read:followers. */
export const twitchFollower = z.object({
  user_id: z.string(),
  user_login: z.string(),
  user_name: z.string(),
  followed_at: z.string(),
});
export const twitchFollowersResponse = z.object({
  total: z.number().int().nonnegative(),
  data: z.array(twitchFollower),
  pagination: twitchPagination,
});
export type TwitchFollower = z.infer<typeof twitchFollower>;

/** POST api.twitch.tv/helix/eventsub/subscriptions (transport.method = websocket). */
export const twitchEventSubSubscription = z.object({
  id: z.string(),
  status: z.string(),
  type: z.string(),
  version: z.string(),
  condition: z.record(z.string()),
  created_at: z.string(),
  transport: z.object({ method: z.string(), session_id: z.string().optional() }),
  cost: z.number().int(),
});
export const twitchEventSubCreateResponse = z.object({
  data: z.array(twitchEventSubSubscription),
  total: z.number().int(),
  total_cost: z.number().int(),
  max_total_cost: z.number().int(),
});

/** EventSub WebSocket frames: { metadata: { message_id, message_type, message_timestamp, … }, payload }. */
export const twitchEventSubFrame = z.object({
  metadata: z.object({
    message_id: z.string(),
    message_type: z.enum(['session_welcome', 'session_keepalive', 'notification', 'session_reconnect', 'revocation']),
    message_timestamp: z.string(),
    subscription_type: z.string().optional(),
  }),
  payload: z.object({
    session: z
      .object({
        id: z.string(),
        status: z.string(),
        keepalive_timeout_seconds: z.number().int().nullable(),
        reconnect_url: z.string().nullable(),
        connected_at: z.string(),
      })
      .optional(),
    subscription: twitchEventSubSubscription.partial().optional(),
    event: z.record(z.unknown()).optional(),
  }),
});
export type TwitchEventSubFrame = z.infer<typeof twitchEventSubFrame>;

/** The `event` of a `channel.chat.message` notification (the fields we read). */
export const twitchChatMessageEvent = z.object({
  broadcaster_user_id: z.string(),
  chatter_user_id: z.string(),
  chatter_user_login: z.string(),
  message_id: z.string(),
  message: z.object({ text: z.string() }),
});

/** What we ask creators for; connections made before `channel:read:subscriptions` and `bits:read` keep working without those figures (platforms/scope-figures.ts). */
export const TWITCH_SCOPES = ['user:read:email', 'moderator:read:followers', 'user:read:chat', 'channel:read:subscriptions', 'bits:read'];
