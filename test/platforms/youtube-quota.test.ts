import { adapterFor } from '../../platforms/registry';
import { msUntilPacificMidnight, pacificDay, YouTubeQuota } from '../../platforms/http/youtube-quota';
import type { YouTubeService } from '../../platforms/youtube/youtube.adapter';
import { platformBench, Bench, simChannel } from './platform.fixture';

const HOUR = 3_600_000;
// 2026-11-26 00:00:01 in Los Angeles (UTC-8 in November).
const DAY_START = Date.UTC(2026, 10, 26, 8, 0, 1);

describe('Pacific quota day (pure)', () => {
  it('names the Pacific date and counts down to Pacific midnight', () => {
    expect(pacificDay(DAY_START)).toBe('2026-11-26');
    expect(pacificDay(DAY_START - 2000)).toBe('2026-11-25');
    expect(msUntilPacificMidnight(DAY_START)).toBe(86_400_000 - 1000);
    expect(msUntilPacificMidnight(DAY_START + 12 * HOUR)).toBe(12 * HOUR - 1000);
  });
});

describe('YouTube quota budget over a simulated day (real Redis, simulator on the same clock)', () => {
  const BUDGET = 600;
  const K = 3;
  let clock = DAY_START;
  const now = () => clock;
  let b: Bench;
  beforeAll(async () => {
    b = await platformBench({
      now,
      sim: { clock: now, config: { accessTokenTtlSeconds: { twitch: 14_400, youtube: 3 * 86_400 } } },
      config: { YOUTUBE_DAILY_QUOTA_UNITS: String(BUDGET) },
    });
  });
  afterAll(() => b.cleanup());

  it(`${K} channels polled all day (state + chat, intervals stretched by the quota) stay within ${BUDGET} units`, async () => {
    const yt = adapterFor('youtube', b.w.platforms) as YouTubeService;
    const channels = Array.from({ length: K }, (_, i) => simChannel(b.sim, 'youtube', i));
    const conns = [];
    for (const ch of channels) {
      conns.push(await b.connect('youtube', 'u_quota', ch.login));
      b.sim.world.forceLive(ch.channelId, true, DAY_START - HOUR); // live all day: the worst case for quota
    }
    const spentOnConnect = await yt.quota.used();
    type Poll = { kind: 'state' | 'chat'; i: number; due: number; cursor: string | null };
    const polls: Poll[] = conns.flatMap((_, i) => [
      { kind: 'state' as const, i, due: DAY_START, cursor: null },
      { kind: 'chat' as const, i, due: DAY_START, cursor: null },
    ]);
    const dayEnd = DAY_START + 24 * HOUR - 2000;
    let done = 0;
    let refused = 0;
    let chatMessages = 0;
    for (;;) {
      polls.sort((a, b) => a.due - b.due);
      const p = polls[0]!;
      if (p.due >= dayEnd) break;
      clock = p.due;
      const token = await b.w.tokens.getAccessToken(conns[p.i]!.connectionId);
      try {
        if (p.kind === 'state') {
          await yt.streamState(token, channels[p.i]!.channelId);
          p.due = clock + (await yt.quota.pollIntervalMs({ baseMs: 30_000, unitsPerPoll: 2, pollers: K, share: 0.5 }));
        } else {
          const batch = await yt.chat(token, channels[p.i]!.channelId, p.cursor);
          chatMessages += batch.messages;
          p.cursor = batch.cursor;
          const stretched = await yt.quota.pollIntervalMs({ baseMs: 5_000, unitsPerPoll: 5, pollers: K, share: 0.5 });
          p.due = clock + Math.max(stretched, batch.nextPollMs ?? 0);
        }
        done++;
      } catch (err) {
        // What a scheduler does with a refused call: nothing more until the quota day turns.
        expect(err).toMatchObject({ code: 'QUOTA_EXCEEDED', retriable: false });
        refused++;
        p.due = clock + (err as { retryAfterMs: number }).retryAfterMs;
      }
    }
    const charged = b.sim.state.quotaUsed(b.config.YOUTUBE_CLIENT_ID);
    expect(charged).toBeLessThanOrEqual(BUDGET);
    expect(await yt.quota.used()).toBe(charged); // our ledger and the platform's agree
    expect(b.sim.state.counters.quotaRejected).toBe(0); // never asked beyond the budget
    expect(charged - spentOnConnect).toBeGreaterThan(BUDGET * 0.5); // stretched, not starved: most of the day's budget is used
    expect(chatMessages).toBeGreaterThan(0);
    expect(refused).toBeLessThanOrEqual(2 * K); // the stretch keeps refusals to the last polls of the day at most
    console.log(`simulated day: ${done} polls, ${refused} refused by the budget, ${charged}/${BUDGET} units, ${chatMessages} chat messages`);
  });

  it('refuses a call that would overspend, typed and not retriable until the Pacific midnight', async () => {
    const q = new YouTubeQuota(b.w.redis, { prefix: `${b.config.REDIS_KEY_PREFIX}:small`, clientId: 'x', dailyBudget: 6, now });
    await q.charge('liveChatMessages.list');
    await q.charge('videos.list');
    await expect(q.charge('videos.list')).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED', platform: 'youtube', retriable: false });
    expect(await q.used()).toBe(6);
    expect(await q.pollIntervalMs({ baseMs: 1000, unitsPerPoll: 1, pollers: 1 })).toBe(msUntilPacificMidnight(clock));
  });
});
