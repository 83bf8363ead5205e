/**
 * The seam between Space HUB and a streaming platform (DESIGN.md §2, STYLE: twurple). One adapter per
 * platform (`twitch.adapter.ts` = TwitchService, `youtube.adapter.ts` = YouTubeService) implements this;
 * StreamingService and the ingest workers talk only to this interface. A new platform is one adapter
 * file plus one line in platforms/registry.ts.
 */
export type PlatformId = 'twitch' | 'youtube' | (string & {});

export interface OAuthTokens {
  accessToken: string;
  refreshToken: string | null;
  /** Epoch ms; null when the platform did not say. */
  expiresAt: number | null;
  scopes: string[];
}

export interface ChannelIdentity {
  channelId: string;
  login: string;
  displayName: string;
}

export interface StreamState {
  channelId: string;
  observedAt: number;
  live: boolean;
  viewers: number | null;
  streamId: string | null;
  startedAt: number | null;
  title: string | null;
  category: string | null;
  language: string | null;
  /**
   * A scheduled broadcast not started yet (YouTube `liveBroadcastContent: upcoming`, only
   * `scheduledStartTime`): when it is due. Such a video is `live: false`; absent for everything else.
   */
  scheduledStartAt?: number | null;
}

export interface FollowerState {
  channelId: string;
  observedAt: number;
  followers: number;
}

/** Paid subscriptions of a channel (Twitch "Get Broadcaster Subscriptions": `total` and `points`). */
export interface PaidSubscriptions {
  channelId: string;
  observedAt: number;
  subscribers: number;
  points: number;
}

export interface ChatBatch {
  channelId: string;
  intervalStart: number;
  intervalEnd: number;
  messages: number;
  /** Pseudonymous chatter ids (hash of platform user id), for unique-chatter counts. */
  chatterIds: string[];
  /** Opaque cursor to resume from (e.g. YouTube nextPageToken); null when the platform has none. */
  cursor: string | null;
  /** How long the platform asks us to wait before the next poll (YouTube pollingIntervalMillis). */
  nextPollMs: number | null;
}

/**
 * Something the platform pushed about a channel (Twitch EventSub): go-live and end, a title or
 * category change, and the audience events creators' alert tools are for. `deliveryId` is the
 * platform's id of the delivery (EventSub `message_id`), the same when it is delivered again.
 */
export type ChannelPushKind = 'online' | 'offline' | 'update' | 'follow' | 'raid' | 'subscribe' | 'resubscribe' | 'gift' | 'cheer';

export interface ChannelPush {
  deliveryId: string;
  platform: PlatformId;
  channelId: string;
  kind: ChannelPushKind;
  /** The platform's instant of the event (started_at, followed_at, else the message timestamp). */
  occurredAt: number;
  /** When our client received it. */
  receivedAt: number;
  streamId: string | null;
  title: string | null;
  category: string | null;
  /** Who followed, raided, subscribed, gifted or cheered; null when anonymous or not applicable. */
  actor: { id: string; login: string; name: string } | null;
  /** Raid: the raiding channel's viewers. */
  viewers: number | null;
  /** Subscriptions: '1000' | '2000' | '3000'. */
  tier: string | null;
  gifted: boolean | null;
  /** Resubscription: cumulative months. */
  months: number | null;
  /** Gift: how many subscriptions were gifted at once. */
  count: number | null;
  bits: number | null;
}

/** What a push source tells about one watched channel. */
export interface PushWatchStatus {
  channelId: string;
  connected: boolean;
  sessionId: string | null;
  /** Subscription types enabled on the current session. */
  subscribed: string[];
  /** Types not asked for or refused, with why (missing scope, platform's answer, revocation). */
  missing: Record<string, string>;
}

export interface PushHandlers {
  /** Called in delivery order per channel, once per delivery id; a rejection is retried, then logged. */
  onEvent(e: ChannelPush): Promise<void>;
  /** A subscription the platform revoked (authorization_revoked, user_removed…). */
  onRevoked?(channelId: string, type: string, status: string): void;
}

/** Push delivery for a platform that has it (Twitch EventSub over WebSocket). */
export interface PushSource {
  /** Opens the channel's session and its subscriptions (those its scopes allow); keeps it open until unwatch. */
  watch(channelId: string, o: { withToken<T>(fn: (accessToken: string) => Promise<T>): Promise<T>; scopes: readonly string[] }): Promise<PushWatchStatus>;
  unwatch(channelId: string): Promise<void>;
  status(channelId: string): PushWatchStatus | null;
  watched(): string[];
  close(): Promise<void>;
}

/** A video a channel's feed announced (new or updated), as the platform's push tells it. */
export interface FeedEntry {
  videoId: string;
  channelId: string;
  published: number | null;
  updated: number | null;
}

export interface FeedNotification {
  /** The channel of the feed the notification is about (its `rel="self"` topic), when it says. */
  topicChannelId: string | null;
  entries: FeedEntry[];
  deletedVideoIds: string[];
}

export interface FeedHubRequest {
  mode: 'subscribe' | 'unsubscribe';
  topic: string;
  /** Our public callback URL for this topic. */
  callback: string;
  /** HMAC key the hub signs notifications with. */
  secret?: string;
  leaseSeconds?: number;
}

/**
 * Feed push (YouTube WebSub / PubSubHubbub): the platform's hub announces a channel's new and updated
 * videos to a public callback. It says *that* something changed, never the live state or viewers, and
 * it is not guaranteed: the receiver checks each announced video with the API, and polling stays.
 */
export interface FeedPush {
  topicOf(channelId: string): string;
  /** The channel a topic URL is the feed of, or null when it is not one of ours. */
  channelOfTopic(topic: string): string | null;
  /** Asks the hub; it verifies intent later with a GET challenge to the callback. */
  request(r: FeedHubRequest): Promise<void>;
  /** A notification body, parsed; throws a non-retriable MALFORMED_RESPONSE PlatformError when it is not a feed. */
  parse(body: string): FeedNotification;
  /** Whether the hub's signature header matches the body under the subscription's secret (constant time). */
  signatureMatches(secret: string, body: Buffer, header: string | undefined): boolean;
}

export interface AuthorizationRequest {
  url: string;
  state: string;
  /** PKCE verifier, kept server-side; never sent to the browser. */
  codeVerifier?: string;
}

export interface PlatformAdapter {
  readonly platform: PlatformId;
  /** Whether the platform supports PKCE (Google does; Twitch's confidential flow does not need it). */
  readonly supportsPkce: boolean;
  authorizationUrl(params: { state: string; redirectUri: string; codeChallenge?: string }): string;
  exchangeCode(params: { code: string; redirectUri: string; codeVerifier?: string }): Promise<OAuthTokens>;
  refresh(refreshToken: string): Promise<OAuthTokens>;
  /** Validates a token (Twitch: hourly /oauth2/validate); false when the platform says it is invalid. */
  validate(accessToken: string): Promise<boolean>;
  revoke(token: string): Promise<void>;
  /**
   * Whether revoking one token ends the account's whole grant to our client (Google: every token
   * of that account and client id), so other users' connections to the same channel would die too.
   */
  readonly revocationEndsGrant: boolean;
  identity(accessToken: string): Promise<ChannelIdentity>;
  streamState(accessToken: string, channelId: string): Promise<StreamState>;
  followers(accessToken: string, channelId: string): Promise<FollowerState>;
  /**
   * Paid subscribers and points with the broadcaster's own token (Twitch); null when the token lacks the
   * scope the platform requires (platforms/scope-figures.ts, figure `subscribers`). Absent for platforms without them.
   */
  subscriptions?(accessToken: string, channelId: string): Promise<PaidSubscriptions | null>;
  chat(accessToken: string, channelId: string, cursor: string | null): Promise<ChatBatch>;
  /**
   * For push-fed chat (a subscription that delivers while it is open): stop it and return what arrived
   * since the last read, up to the moment the platform stopped sending — null when nothing is open.
   * Poll-fed chat has nothing to stop and omits it.
   */
  endChat?(channelId: string): Promise<ChatBatch | null>;
  /** Push delivery (Twitch EventSub); absent for platforms that are only polled. Polling stays the reconciler. */
  createPushSource?(handlers: PushHandlers): PushSource;
  /**
   * Batch form of `streamState` with the platform's app credentials (Twitch: /helix/streams, 100 ids a
   * call, app access token): the state of every channel asked about, keyed by channel id.
   */
  streamStates?(channelIds: readonly string[]): Promise<Map<string, StreamState>>;
  /** What `streamStates` costs (Twitch: 100 ids a call, 800 points a minute): ingest plans its batch runs inside it. */
  readonly streamStatesBudget?: { idsPerCall: number; pointsPerMinute: number };
  /**
   * Batch refresh of live streams by their stream (video) ids with any connection's token (YouTube:
   * videos.list, 50 ids for 1 unit), keyed by stream id; an id the platform no longer returns is absent.
   */
  liveVideos?(accessToken: string, streamIds: readonly string[]): Promise<Map<string, StreamState>>;
  /** Feed push (YouTube WebSub); absent for platforms without one. */
  readonly feed?: FeedPush;
  /** Batch form of `followers` with any connection's token (YouTube: channels.list, 50 ids for 1 unit), keyed by channel id. */
  subscriberCounts?(accessToken: string, channelIds: readonly string[]): Promise<Map<string, FollowerState>>;
  /** OAuth scopes the adapter asks for. */
  readonly scopes?: string[];
  /** Releases sockets and timers (EventSub sessions, rate-limit timers). */
  close?(): Promise<void>;
}
