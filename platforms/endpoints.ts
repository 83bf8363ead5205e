/**
 * Where each platform lives. The one place that resolves base URLs: explicit TWITCH_*_BASE_URL /
 * GOOGLE_* / YOUTUBE_API_BASE_URL settings win; otherwise, in PLATFORMS_MODE=simulator every base is
 * the simulator (which serves all platforms' paths on one host), and in live mode the real hosts.
 */
import type { Config } from '../shared/config/config';

export interface PlatformEndpoints {
  twitchAuth: string; // id.twitch.tv: /oauth2/authorize, /oauth2/token, /oauth2/validate, /oauth2/revoke
  twitchApi: string; // api.twitch.tv: /helix/…
  googleAuth: string; // accounts.google.com: /o/oauth2/v2/auth
  googleToken: string; // oauth2.googleapis.com: /token, /revoke
  youtubeApi: string; // www.googleapis.com: /youtube/v3/…
  /** YouTube's WebSub hub (pubsubhubbub.appspot.com/subscribe); absent = Google's. */
  youtubeWebSubHub?: string;
  twitchEventSub: string; // wss://eventsub.wss.twitch.tv/ws
  /** Where `/eventsub/subscriptions` lives when not under the Helix root (the Twitch CLI's EventSub server). */
  twitchEventSubApi?: string;
}

export const LIVE_ENDPOINTS: PlatformEndpoints = {
  twitchAuth: 'https://id.twitch.tv',
  twitchApi: 'https://api.twitch.tv',
  googleAuth: 'https://accounts.google.com',
  googleToken: 'https://oauth2.googleapis.com',
  youtubeApi: 'https://www.googleapis.com',
  youtubeWebSubHub: 'https://pubsubhubbub.appspot.com/subscribe',
  twitchEventSub: 'wss://eventsub.wss.twitch.tv/ws',
};

export const simulatorUrl = (c: Pick<Config, 'SIMULATOR_PORT'>) => `http://127.0.0.1:${c.SIMULATOR_PORT}`;

export function endpointsFromConfig(
  c: Pick<Config, 'PLATFORMS_MODE' | 'SIMULATOR_PORT' | 'TWITCH_AUTH_BASE_URL' | 'TWITCH_API_BASE_URL' | 'GOOGLE_AUTH_BASE_URL' | 'GOOGLE_TOKEN_BASE_URL' | 'YOUTUBE_API_BASE_URL' | 'TWITCH_EVENTSUB_WS_URL' | 'YOUTUBE_WEBSUB_HUB_URL'>,
): PlatformEndpoints {
  const base = c.PLATFORMS_MODE === 'simulator' ? simulatorUrl(c) : undefined;
  const pick = (explicit: string | undefined, live: string) => (explicit ?? base ?? live).replace(/\/+$/, '');
  return {
    twitchAuth: pick(c.TWITCH_AUTH_BASE_URL, LIVE_ENDPOINTS.twitchAuth),
    twitchApi: pick(c.TWITCH_API_BASE_URL, LIVE_ENDPOINTS.twitchApi),
    googleAuth: pick(c.GOOGLE_AUTH_BASE_URL, LIVE_ENDPOINTS.googleAuth),
    googleToken: pick(c.GOOGLE_TOKEN_BASE_URL, LIVE_ENDPOINTS.googleToken),
    youtubeApi: pick(c.YOUTUBE_API_BASE_URL, LIVE_ENDPOINTS.youtubeApi),
    youtubeWebSubHub: c.YOUTUBE_WEBSUB_HUB_URL ?? (base ? `${base}/subscribe` : LIVE_ENDPOINTS.youtubeWebSubHub),
    twitchEventSub: c.TWITCH_EVENTSUB_WS_URL ?? (base ? `${base.replace(/^http/, 'ws')}/ws` : LIVE_ENDPOINTS.twitchEventSub),
  };
}

/** Every base at one URL: how tests point adapters at an in-process simulator. */
export const endpointsAt = (url: string): PlatformEndpoints => ({
  twitchAuth: url,
  twitchApi: url,
  googleAuth: url,
  googleToken: url,
  youtubeApi: url,
  youtubeWebSubHub: `${url}/subscribe`,
  twitchEventSub: `${url.replace(/^http/, 'ws')}/ws`,
});
