import { parseConfig } from '../shared/config/config';
import { endpointsFromConfig, LIVE_ENDPOINTS } from './endpoints';

describe('platform endpoints: one place resolves base URLs', () => {
  it('simulator mode: every base is the simulator, EventSub on its /ws', () => {
    const e = endpointsFromConfig(parseConfig({ PLATFORMS_MODE: 'simulator', SIMULATOR_PORT: '8123' }));
    expect(e).toEqual({
      twitchAuth: 'http://127.0.0.1:8123',
      twitchApi: 'http://127.0.0.1:8123',
      googleAuth: 'http://127.0.0.1:8123',
      googleToken: 'http://127.0.0.1:8123',
      youtubeApi: 'http://127.0.0.1:8123',
      youtubeWebSubHub: 'http://127.0.0.1:8123/subscribe',
      twitchEventSub: 'ws://127.0.0.1:8123/ws',
    });
  });

  it('live mode: the real hosts', () => {
    expect(endpointsFromConfig(parseConfig({ PLATFORMS_MODE: 'live' }))).toEqual(LIVE_ENDPOINTS);
  });

  it('an explicit base URL wins in either mode (trailing slash dropped)', () => {
    const e = endpointsFromConfig(parseConfig({ PLATFORMS_MODE: 'live', TWITCH_API_BASE_URL: 'http://proxy.local/', TWITCH_EVENTSUB_WS_URL: 'ws://es.local/ws' }));
    expect(e.twitchApi).toBe('http://proxy.local');
    expect(e.twitchEventSub).toBe('ws://es.local/ws');
    expect(e.twitchAuth).toBe('https://id.twitch.tv');
    expect(e.youtubeWebSubHub).toBe('https://pubsubhubbub.appspot.com/subscribe');
    expect(endpointsFromConfig(parseConfig({ PLATFORMS_MODE: 'simulator', YOUTUBE_WEBSUB_HUB_URL: 'http://hub.local/subscribe' })).youtubeWebSubHub).toBe('http://hub.local/subscribe');
  });
});
