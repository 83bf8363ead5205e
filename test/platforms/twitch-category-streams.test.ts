/**
 * Issue 22.3: a category's directory on Helix — `GET /helix/streams?game_id=…` (up to 100 game_id,
 * `first` ≤ 100, cursor pages, one point a page from the app token's bucket) — on the simulator with
 * competition on, and through TwitchService (`categoryStreams`, `channelCategories`).
 */
import axios from 'axios';
import { TwitchService } from '../../platforms/twitch/twitch.adapter';
import { adapterFor } from '../../platforms/registry';
import { CATEGORIES } from '../../platforms/simulator/world';
import { platformBench, Bench } from './platform.fixture';

// A fixed simulator clock: one market hour for the whole test (Saturday evening UTC).
const NOW = Date.UTC(2026, 10, 28, 19, 30);

describe('Helix category directory (simulator + TwitchService)', () => {
  let b: Bench;
  let twitch: TwitchService;
  const appToken = async () => {
    const r = await axios.post(`${b.sim.url}/oauth2/token`, new URLSearchParams({ client_id: b.config.TWITCH_CLIENT_ID, client_secret: b.config.TWITCH_CLIENT_SECRET ?? 'simulator-secret', grant_type: 'client_credentials' }));
    return r.data.access_token as string;
  };
  /** What the directory of `ids` holds now: the world's live Twitch channels in them plus each market. */
  const expected = (ids: string[]) => {
    const own = b.sim.world.channels.filter((c) => c.platform === 'twitch' && ids.includes(c.categoryId)).map((c) => b.sim.world.stateAt(c.channelId, NOW)).filter((s) => s.live);
    const market = ids.map((id) => b.sim.world.competition!.marketAt(id, NOW)!);
    return { channels: own.length + market.reduce((s, m) => s + m.liveChannels, 0), viewers: own.reduce((s, x) => s + x.viewers, 0) + market.reduce((s, m) => s + m.viewers, 0) };
  };
  beforeAll(async () => {
    b = await platformBench({ sim: { channels: 60, competition: true, clock: () => NOW } });
    twitch = adapterFor('twitch', b.w.platforms) as TwitchService;
  });
  afterAll(() => b.cleanup());

  it('pages a category directory 100 at a time, biggest first, one point a page; 101 game_id or first=101 is a 400', async () => {
    const token = await appToken();
    const headers = { Authorization: `Bearer ${token}`, 'Client-Id': b.config.TWITCH_CLIENT_ID };
    const games = CATEGORIES.slice(0, 2).map(([, id]) => id);
    const seen: Array<{ user_id: string; game_id: string; viewer_count: number }> = [];
    let cursor: string | undefined;
    let pages = 0;
    let remaining: number | null = null;
    do {
      const r = await axios.get(`${b.sim.url}/helix/streams`, { params: { game_id: games, first: 100, after: cursor }, paramsSerializer: { indexes: null }, headers });
      const left = Number(r.headers['ratelimit-remaining']);
      if (remaining !== null) expect(left).toBe(remaining - 1);
      remaining = left;
      pages++;
      expect(r.data.data.length).toBeLessThanOrEqual(100);
      seen.push(...r.data.data);
      cursor = r.data.pagination.cursor;
    } while (cursor);
    const e = expected(games);
    expect(seen).toHaveLength(e.channels);
    expect(new Set(seen.map((s) => s.user_id)).size).toBe(e.channels);
    expect(pages).toBe(Math.ceil(e.channels / 100));
    expect(seen.every((s) => games.includes(s.game_id))).toBe(true);
    expect(seen.map((s) => s.viewer_count)).toEqual([...seen.map((s) => s.viewer_count)].sort((x, y) => y - x));
    expect(seen.reduce((s, x) => s + x.viewer_count, 0)).toBeGreaterThan(0.98 * e.viewers);

    const tooMany = await axios.get(`${b.sim.url}/helix/streams`, { params: { game_id: Array.from({ length: 101 }, (_, i) => String(i + 1)) }, paramsSerializer: { indexes: null }, headers, validateStatus: () => true });
    expect(tooMany.status).toBe(400);
    const bigPage = await axios.get(`${b.sim.url}/helix/streams`, { params: { game_id: games, first: 101 }, paramsSerializer: { indexes: null }, headers, validateStatus: () => true });
    expect(bigPage.status).toBe(400);
  });

  it('TwitchService.categoryStreams reads every page of all the world\'s categories with the app token, and stops at maxCalls', async () => {
    const games = CATEGORIES.map(([, id]) => id);
    const before = b.sim.state.counters.requests['/helix/streams'] ?? 0;
    const all = await twitch.categoryStreams(games);
    const e = expected(games);
    expect(all.complete).toBe(true);
    expect(all.streams).toHaveLength(e.channels);
    expect(all.calls).toBe(Math.ceil(e.channels / 100));
    expect(b.sim.state.counters.requests['/helix/streams']).toBe(before + all.calls);
    for (const id of games) {
      const m = b.sim.world.competition!.marketAt(id, NOW)!;
      expect(all.streams.filter((s) => s.categoryId === id).length).toBeGreaterThanOrEqual(m.liveChannels);
    }
    const capped = await twitch.categoryStreams(games, { maxCalls: 2 });
    expect(capped).toMatchObject({ complete: false, calls: 2 });
    expect(capped.streams).toHaveLength(200);
    await expect(twitch.categoryStreams(Array.from({ length: 101 }, (_, i) => String(i + 1)))).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('TwitchService.channelCategories gives each Twitch channel\'s game id, 100 channels a call', async () => {
    const twitchChannels = b.sim.world.channels.filter((c) => c.platform === 'twitch');
    const before = b.sim.state.counters.requests['/helix/channels'] ?? 0;
    const got = await twitch.channelCategories(twitchChannels.map((c) => c.channelId));
    expect(b.sim.state.counters.requests['/helix/channels']).toBe(before + 1);
    for (const c of twitchChannels) expect(got.get(c.channelId)).toEqual({ categoryId: c.categoryId, category: c.category });
  });
});
