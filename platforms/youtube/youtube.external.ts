/**
 * Raw Google OAuth and YouTube Data API v3 payloads, with Google's own field names (STYLE habit 11).
 * Counts such as `subscriberCount` and `concurrentViewers` are strings in the API (uint64 as JSON strings).
 *
 * Sources (developers.google.com): "Using OAuth 2.0 for Web Server Applications" (PKCE, /token, /revoke),
 * YouTube Data API reference "Channels: list", "Videos: list" (liveStreamingDetails), "LiveBroadcasts: list",
 * "LiveChatMessages: list" (nextPageToken, pollingIntervalMillis, offlineAt), "Quota Calculator" and
 * "Errors" (quotaExceeded, liveChatEnded, authError).
 */
import { z } from 'zod';

/** POST oauth2.googleapis.com/token (grant_type=authorization_code | refresh_token). */
export const googleTokenResponse = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().int().nonnegative(),
  /** Only on the first exchange (access_type=offline); a refresh answer omits it. */
  refresh_token: z.string().min(1).optional(),
  scope: z.string().default(''),
  token_type: z.string(),
  id_token: z.string().optional(),
});
export type GoogleTokenResponse = z.infer<typeof googleTokenResponse>;

/** Error body of the OAuth endpoints: { "error": "invalid_grant", "error_description": "Token has been expired or revoked." } */
export const googleOAuthError = z.object({ error: z.string(), error_description: z.string().optional() });

/** Error body of the Data API: { error: { code, message, errors: [{ domain, reason, message }] } } */
export const youtubeApiError = z.object({
  error: z.object({
    code: z.number().int(),
    message: z.string(),
    status: z.string().optional(),
    errors: z.array(z.object({ domain: z.string().optional(), reason: z.string(), message: z.string().optional() })).default([]),
  }),
});
export type YouTubeApiError = z.infer<typeof youtubeApiError>;

const pageInfo = z.object({ totalResults: z.number().int(), resultsPerPage: z.number().int() });
const thumbnails = z.record(z.object({ url: z.string(), width: z.number().optional(), height: z.number().optional() }));

/** GET /youtube/v3/channels?part=snippet,statistics&mine=true — 1 unit. */
export const youtubeChannel = z.object({
  kind: z.literal('youtube#channel'),
  etag: z.string(),
  id: z.string(),
  snippet: z
    .object({ title: z.string(), description: z.string(), customUrl: z.string().optional(), publishedAt: z.string(), thumbnails: thumbnails.optional() })
    .optional(),
  statistics: z
    .object({
      viewCount: z.string(),
      subscriberCount: z.string().optional(),
      hiddenSubscriberCount: z.boolean(),
      videoCount: z.string(),
    })
    .optional(),
});
export const youtubeChannelListResponse = z.object({
  kind: z.literal('youtube#channelListResponse'),
  etag: z.string(),
  pageInfo,
  items: z.array(youtubeChannel).default([]),
});
export type YouTubeChannel = z.infer<typeof youtubeChannel>;

/** GET /youtube/v3/liveBroadcasts?part=snippet,status&broadcastStatus=active — 1 unit (the token's own broadcasts). */
export const youtubeLiveBroadcast = z.object({
  kind: z.literal('youtube#liveBroadcast'),
  etag: z.string(),
  id: z.string(),
  snippet: z.object({
    publishedAt: z.string(),
    channelId: z.string(),
    title: z.string(),
    description: z.string(),
    scheduledStartTime: z.string().optional(),
    actualStartTime: z.string().optional(),
    actualEndTime: z.string().optional(),
    liveChatId: z.string().optional(),
  }),
  status: z.object({ lifeCycleStatus: z.string(), privacyStatus: z.string() }).optional(),
});
export const youtubeLiveBroadcastListResponse = z.object({
  kind: z.literal('youtube#liveBroadcastListResponse'),
  etag: z.string(),
  nextPageToken: z.string().optional(),
  pageInfo,
  // An empty list can come without `items` at all.
  items: z.array(youtubeLiveBroadcast).default([]),
});
export type YouTubeLiveBroadcast = z.infer<typeof youtubeLiveBroadcast>;

/** GET /youtube/v3/videos?part=snippet,liveStreamingDetails&id=… — 1 unit. */
export const youtubeVideo = z.object({
  kind: z.literal('youtube#video'),
  etag: z.string(),
  id: z.string(),
  snippet: z
    .object({
      publishedAt: z.string(),
      channelId: z.string(),
      title: z.string(),
      categoryId: z.string(),
      liveBroadcastContent: z.string(),
      defaultAudioLanguage: z.string().optional(),
    })
    .optional(),
  liveStreamingDetails: z
    .object({
      actualStartTime: z.string().optional(),
      actualEndTime: z.string().optional(),
      scheduledStartTime: z.string().optional(),
      concurrentViewers: z.string().optional(),
      activeLiveChatId: z.string().optional(),
    })
    .optional(),
});
export const youtubeVideoListResponse = z.object({
  kind: z.literal('youtube#videoListResponse'),
  etag: z.string(),
  pageInfo,
  items: z.array(youtubeVideo).default([]),
});
export type YouTubeVideo = z.infer<typeof youtubeVideo>;

/** GET /youtube/v3/liveChat/messages?liveChatId=…&part=snippet,authorDetails — 5 units. */
export const youtubeLiveChatMessage = z.object({
  kind: z.literal('youtube#liveChatMessage'),
  etag: z.string(),
  id: z.string(),
  snippet: z.object({
    type: z.string(),
    liveChatId: z.string(),
    authorChannelId: z.string(),
    publishedAt: z.string(),
    hasDisplayContent: z.boolean(),
    displayMessage: z.string().optional(),
    textMessageDetails: z.object({ messageText: z.string() }).optional(),
  }),
  authorDetails: z.object({ channelId: z.string(), displayName: z.string() }).optional(),
});
export const youtubeLiveChatMessageListResponse = z.object({
  kind: z.literal('youtube#liveChatMessageListResponse'),
  etag: z.string(),
  nextPageToken: z.string(),
  pollingIntervalMillis: z.number().int().nonnegative(),
  offlineAt: z.string().optional(),
  pageInfo,
  items: z.array(youtubeLiveChatMessage).default([]),
});
export type YouTubeLiveChatMessage = z.infer<typeof youtubeLiveChatMessage>;

/** Quota cost of each method we call (YouTube Data API "Quota Calculator"); invalid requests cost too. */
export const YOUTUBE_QUOTA_COST = {
  'channels.list': 1,
  'videos.list': 1,
  'liveBroadcasts.list': 1,
  'liveChatMessages.list': 5,
  'search.list': 100,
} as const;
export type YouTubeMethod = keyof typeof YOUTUBE_QUOTA_COST;

/** videos.list and channels.list take up to this many comma-separated ids for one unit; one more is a 400 (invalidValue). */
export const YOUTUBE_MAX_IDS_PER_CALL = 50;

export const YOUTUBE_SCOPES = ['https://www.googleapis.com/auth/youtube.readonly'];
