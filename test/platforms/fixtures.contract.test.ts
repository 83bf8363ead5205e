/**
 * The adapters against recorded platform payloads (STYLE habit 15: the contract also runs against
 * fixtures, not only against our own simulator). The fixtures follow the example responses on the
 * platforms' reference pages, including fields we do not model, so a schema that is too strict — or
 * a mapping that reads the wrong field — fails here even if the simulator agrees with it.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Redis } from 'ioredis';
import { createRedis } from '../../shared/redis/redis';
import { YouTubeQuota } from '../../platforms/http/youtube-quota';
import { TwitchService } from '../../platforms/twitch/twitch.adapter';
import { twitchEventSubFrame } from '../../platforms/twitch/twitch.external';
import { YouTubeService } from '../../platforms/youtube/youtube.adapter';
import { testConfig } from '../support/stack';

const fixture = (platform: string, name: string) => fs.readFileSync(path.join(__dirname, '../../platforms', platform, 'fixtures', `${name}.json`), 'utf8');

describe('adapters against recorded platform payloads', () => {
  let server: http.Server;
  let url: string;
  let redis: Redis;
  const config = testConfig();
  const routes: Record<string, { platform: string; name: string; status?: number }> = {
    '/oauth2/token': { platform: 'twitch', name: 'oauth-token' },
    '/oauth2/validate': { platform: 'twitch', name: 'oauth-validate' },
    '/helix/users': { platform: 'twitch', name: 'get-users' },
    '/helix/streams': { platform: 'twitch', name: 'get-streams' },
    '/helix/channels/followers': { platform: 'twitch', name: 'get-channel-followers' },
    '/token': { platform: 'youtube', name: 'oauth-token' },
    '/youtube/v3/channels': { platform: 'youtube', name: 'channels-list' },
    '/youtube/v3/liveBroadcasts': { platform: 'youtube', name: 'live-broadcasts-list' },
    '/youtube/v3/videos': { platform: 'youtube', name: 'videos-list' },
    '/youtube/v3/liveChat/messages': { platform: 'youtube', name: 'live-chat-messages-list' },
  };

  beforeAll(async () => {
    const app = express();
    app.use((req, res) => {
      const r = routes[req.path];
      if (!r) return res.status(404).end();
      if (req.path.startsWith('/helix')) res.set({ 'Ratelimit-Limit': '800', 'Ratelimit-Remaining': '799', 'Ratelimit-Reset': String(Math.ceil(Date.now() / 1000) + 60) });
      res.status(r.status ?? 200).type('application/json').send(fixture(r.platform, r.name));
    });
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    redis = createRedis(config.REDIS_URL);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${config.REDIS_KEY_PREFIX}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await new Promise((r) => server.close(r));
  });

  it('twitch: token, validate, users, streams and followers map to our types', async () => {
    const t = new TwitchService({ clientId: 'c', clientSecret: 's', authBaseUrl: url, apiBaseUrl: url, eventSubUrl: 'ws://127.0.0.1:9/ws', timeoutMs: 3000 });
    try {
      const tokens = await t.exchangeCode({ code: 'x', redirectUri: 'http://cb' });
      expect(tokens).toMatchObject({ accessToken: 'rfx2uswqe8l4g1mkagrvg5tv0ks3', refreshToken: '5b93chm6hdve3mycz05zfzatkfdenfspp1h1ar2xxdalen01', scopes: ['channel:moderate', 'chat:edit', 'chat:read'] });
      expect(tokens.expiresAt! - Date.now()).toBeGreaterThan(14_000_000);
      expect(await t.validate('tok')).toBe(true);
      expect(await t.identity('tok')).toEqual({ channelId: '141981764', login: 'twitchdev', displayName: 'TwitchDev' });
      expect(await t.streamState('tok', '101051819')).toMatchObject({
        channelId: '101051819',
        live: true,
        viewers: 1490,
        streamId: '40952121085',
        startedAt: Date.parse('2021-03-10T03:18:11Z'),
        category: 'Grand Theft Auto V',
        language: 'en',
      });
      expect((await t.followers('tok', '101051819')).followers).toBe(8);
    } finally {
      await t.close();
    }
  });

  it('twitch: the documented EventSub welcome frame parses', () => {
    const f = twitchEventSubFrame.parse(JSON.parse(fixture('twitch', 'eventsub-welcome')));
    expect(f.payload.session).toMatchObject({ id: 'AQoQILE98gtqShGmLD7AM6yJThAB', keepalive_timeout_seconds: 10 });
  });

  it('youtube: token, channels, liveBroadcasts + videos, subscribers and live chat map to our types', async () => {
    const quota = new YouTubeQuota(redis, { prefix: config.REDIS_KEY_PREFIX, clientId: 'c', dailyBudget: 10_000 });
    const y = new YouTubeService({ clientId: 'c', clientSecret: 's', authBaseUrl: url, tokenBaseUrl: url, apiBaseUrl: url, timeoutMs: 3000, quota });
    const tokens = await y.exchangeCode({ code: 'x', redirectUri: 'http://cb', codeVerifier: 'v' });
    expect(tokens).toMatchObject({ accessToken: '1/fFAGRNJru1FTz70BzhT3Zg', refreshToken: '1//xEoDL4iW3cxlI7yDbSRFYNG01kVKM2C-259HOF2aQbI', scopes: ['https://www.googleapis.com/auth/youtube.readonly'] });
    expect(await y.identity('tok')).toEqual({ channelId: 'UC_x5XG1OV2P6uZZ5FSM9Ttw', login: 'googledevelopers', displayName: 'Google for Developers' });
    expect(await y.streamState('tok', 'UCSJ4gkVC6NrvII8umztf0Ow')).toMatchObject({
      live: true,
      viewers: 28493,
      streamId: 'jfKfPfyJRdk',
      startedAt: Date.parse('2022-07-12T16:00:44Z'),
      category: 'Music',
      language: 'en',
    });
    expect((await y.followers('tok', 'UC_x5XG1OV2P6uZZ5FSM9Ttw')).followers).toBe(2_380_000);
    const chat = await y.chat('tok', 'UCSJ4gkVC6NrvII8umztf0Ow', null);
    expect(chat).toMatchObject({ messages: 2, nextPollMs: 2129 });
    expect(chat.chatterIds).toHaveLength(2);
    expect(JSON.parse(chat.cursor!)).toMatchObject({ p: 'GO6H-qD7yfkCIKq4_ZL7yfkC' });
    // 1 (channels) + 1 + 1 (broadcasts, videos) + 1 (channels) + 1 + 5 (broadcasts, chat)
    expect(await quota.used()).toBe(10);
  });

  it('youtube: the documented quotaExceeded error becomes QUOTA_EXCEEDED', async () => {
    routes['/youtube/v3/videos'] = { platform: 'youtube', name: 'error-quota-exceeded', status: 403 };
    const quota = new YouTubeQuota(redis, { prefix: `${config.REDIS_KEY_PREFIX}:q2`, clientId: 'c', dailyBudget: 10_000 });
    const y = new YouTubeService({ clientId: 'c', clientSecret: 's', authBaseUrl: url, tokenBaseUrl: url, apiBaseUrl: url, timeoutMs: 3000, quota });
    await expect(y.streamState('tok', 'UCSJ4gkVC6NrvII8umztf0Ow')).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED', platform: 'youtube', endpoint: 'videos.list', status: 403, reason: 'quotaExceeded' });
  });
});
