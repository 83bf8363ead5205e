/**
 * Issue 18: the platforms' batch reads, with their real parameter limits, on the simulator and through
 * the adapters — Helix /streams and /channels take up to 100 ids with an app access token (client
 * credentials, re-issued, never refreshed); YouTube videos.list and channels.list take up to 50 ids
 * for 1 unit. One id more is a 400, as on the platforms (and on YouTube it still costs its unit).
 */
import axios from 'axios';
import { TwitchService } from '../../platforms/twitch/twitch.adapter';
import { YouTubeService } from '../../platforms/youtube/youtube.adapter';
import { adapterFor } from '../../platforms/registry';
import { platformBench, Bench, simChannel } from './platform.fixture';

describe('batch forms (simulator + adapters)', () => {
  let b: Bench;
  let ytToken: string;
  const twitchIds = () => b.sim.world.channels.filter((c) => c.platform === 'twitch').map((c) => c.channelId);
  const ytIds = () => b.sim.world.channels.filter((c) => c.platform === 'youtube').map((c) => c.channelId);
  const appToken = async () => {
    const r = await axios.post(`${b.sim.url}/oauth2/token`, new URLSearchParams({ client_id: b.config.TWITCH_CLIENT_ID, client_secret: b.config.TWITCH_CLIENT_SECRET ?? 'simulator-secret', grant_type: 'client_credentials' }));
    return r.data as { access_token: string; expires_in: number; token_type: string; refresh_token?: string };
  };
  beforeAll(async () => {
    // 240 channels: 120 per platform, so a 100-id batch and a 101-id request both exist.
    b = await platformBench({ sim: { channels: 240 } });
    const yt = simChannel(b.sim, 'youtube', 0);
    const conn = await b.connect('youtube', 'u_batch', yt.login);
    ytToken = await b.w.tokens.getAccessToken(conn.connectionId);
  });
  afterAll(() => b.cleanup());

  it('issues a Twitch app access token by client credentials, without a refresh token', async () => {
    const t = await appToken();
    expect(t.access_token).toBeTruthy();
    expect(t.token_type).toBe('bearer');
    expect(t.refresh_token).toBeUndefined();
    expect(t.expires_in).toBeGreaterThan(0);
  });

  it('answers /helix/streams with 100 user_id (only the live ones) and 101 with 400', async () => {
    const { access_token } = await appToken();
    const ids = twitchIds();
    for (const id of ids.slice(0, 3)) b.sim.world.forceLive(id, true, Date.now() - 60_000);
    const headers = { Authorization: `Bearer ${access_token}`, 'Client-Id': b.config.TWITCH_CLIENT_ID };
    const ok = await axios.get(`${b.sim.url}/helix/streams`, { params: { user_id: ids.slice(0, 100), first: 100 }, paramsSerializer: { indexes: null }, headers });
    expect(ok.status).toBe(200);
    const live = (ok.data.data as Array<{ user_id: string }>).map((s) => s.user_id);
    expect(live).toEqual(expect.arrayContaining(ids.slice(0, 3)));
    for (const id of live) expect(ids.slice(0, 100)).toContain(id);
    const tooMany = await axios.get(`${b.sim.url}/helix/streams`, { params: { user_id: ids.slice(0, 101) }, paramsSerializer: { indexes: null }, headers, validateStatus: () => true });
    expect(tooMany.status).toBe(400);
    expect(tooMany.data).toMatchObject({ error: 'Bad Request', status: 400 });
  });

  it('answers /helix/channels with 100 broadcaster_id and 101 with 400', async () => {
    const { access_token } = await appToken();
    const ids = twitchIds();
    const headers = { Authorization: `Bearer ${access_token}`, 'Client-Id': b.config.TWITCH_CLIENT_ID };
    const ok = await axios.get(`${b.sim.url}/helix/channels`, { params: { broadcaster_id: ids.slice(0, 100) }, paramsSerializer: { indexes: null }, headers });
    expect(ok.data.data).toHaveLength(100);
    expect(ok.data.data[0]).toMatchObject({ broadcaster_id: ids[0], title: expect.any(String), game_name: expect.any(String) });
    const tooMany = await axios.get(`${b.sim.url}/helix/channels`, { params: { broadcaster_id: ids.slice(0, 101) }, paramsSerializer: { indexes: null }, headers, validateStatus: () => true });
    expect(tooMany.status).toBe(400);
    const none = await axios.get(`${b.sim.url}/helix/channels`, { headers, validateStatus: () => true });
    expect(none.status).toBe(400);
  });

  it('answers videos.list and channels.list with 50 ids for 1 unit each, and 51 ids with 400 (charged too)', async () => {
    const headers = { Authorization: `Bearer ${ytToken}` };
    const used = () => b.sim.state.quotaUsed(b.config.YOUTUBE_CLIENT_ID);
    const ids = ytIds();
    const before = used();
    const ch = await axios.get(`${b.sim.url}/youtube/v3/channels`, { params: { part: 'statistics', id: ids.slice(0, 50).join(',') }, headers });
    expect(ch.data.items).toHaveLength(50);
    expect(used()).toBe(before + 1);
    const ch51 = await axios.get(`${b.sim.url}/youtube/v3/channels`, { params: { part: 'statistics', id: ids.slice(0, 51).join(',') }, headers, validateStatus: () => true });
    expect(ch51.status).toBe(400);
    expect(used()).toBe(before + 2);
    const v51 = await axios.get(`${b.sim.url}/youtube/v3/videos`, { params: { part: 'liveStreamingDetails', id: Array.from({ length: 51 }, (_, i) => `v${i}`).join(',') }, headers, validateStatus: () => true });
    expect(v51.status).toBe(400);
    expect(v51.data.error.errors[0].reason).toBe('invalidValue');
    expect(used()).toBe(before + 3);
  });

  it('TwitchService.streamStates: 230 channels in 3 calls with one app token, live ones with viewers, the rest offline', async () => {
    const twitch = adapterFor('twitch', b.w.platforms) as TwitchService;
    const ids = twitchIds();
    const all = [...ids, ...ids.slice(0, 110)]; // 230 ids (duplicates are asked once)
    const before = b.sim.state.counters.requests['/helix/streams'] ?? 0;
    const tokenCalls = b.sim.state.counters.tokenCalls['twitch:client_credentials'] ?? 0;
    const states = await twitch.streamStates(all);
    expect(b.sim.state.counters.requests['/helix/streams']).toBe(before + 2); // 120 distinct ids → 2 calls
    expect(states.size).toBe(ids.length);
    for (const id of ids.slice(0, 3)) expect(states.get(id)).toMatchObject({ live: true, viewers: expect.any(Number), streamId: expect.any(String) });
    const truth = ids.filter((id) => b.sim.world.stateAt(id, Date.now()).live);
    expect([...states.values()].filter((s) => s.live).map((s) => s.channelId).sort()).toEqual(truth.sort());
    // The app token is cached: a second batch issues none.
    await twitch.streamStates(ids.slice(0, 5));
    expect((b.sim.state.counters.tokenCalls['twitch:client_credentials'] ?? 0) - tokenCalls).toBeLessThanOrEqual(1);
  });

  it('TwitchService re-issues (never refreshes) the app token when Helix answers 401', async () => {
    const twitch = adapterFor('twitch', b.w.platforms) as TwitchService;
    await twitch.streamStates(twitchIds().slice(0, 2));
    const issued = b.sim.state.counters.tokenCalls['twitch:client_credentials'] ?? 0;
    await axios.post(`${b.sim.url}/__sim/faults`, { route: '/helix/streams', kind: 'expired_token' });
    const states = await twitch.streamStates(twitchIds().slice(0, 2));
    expect(states.size).toBe(2);
    expect(b.sim.state.counters.tokenCalls['twitch:client_credentials']).toBe(issued + 1);
    expect(b.sim.state.counters.tokenCalls['twitch:refresh_token'] ?? 0).toBe(0);
  });

  it('YouTubeService.liveVideos: 60 videos in 2 calls (2 units), ended ones say so', async () => {
    const yt = adapterFor('youtube', b.w.platforms) as YouTubeService;
    const ids = ytIds().slice(0, 60);
    for (const id of ids) b.sim.world.forceLive(id, true, Date.now() - 120_000);
    const streamIds = ids.map((id) => b.sim.world.stateAt(id, Date.now()).streamId!);
    const before = b.sim.state.quotaUsed(b.config.YOUTUBE_CLIENT_ID);
    const calls = b.sim.state.counters.requests['/youtube/v3/videos'] ?? 0;
    const videos = await yt.liveVideos(ytToken, streamIds);
    expect(b.sim.state.counters.requests['/youtube/v3/videos']).toBe(calls + 2);
    expect(b.sim.state.quotaUsed(b.config.YOUTUBE_CLIENT_ID)).toBe(before + 2);
    expect(videos.size).toBe(60);
    expect(videos.get(streamIds[0]!)).toMatchObject({ channelId: ids[0], live: true, viewers: expect.any(Number), streamId: streamIds[0] });
  });
});
