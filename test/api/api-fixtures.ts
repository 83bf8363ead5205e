import type { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import { chDateTime64 as ch } from '../../shared/clickhouse/tables';

/**
 * Rows with hand-computable numbers for the API's acceptance tests. Each helper documents the figures
 * the tests expect, so an assertion can be checked against the comment with pencil and paper.
 */
export const T0 = Date.UTC(2026, 10, 20, 10, 0, 0); // 2026-11-20T10:00:00Z
const MIN = 60_000;

export function window(platform: string, channelId: string, userId: string, startMs: number, v: Partial<Record<string, unknown>>) {
  return {
    platform, channel_id: channelId, user_id: userId, window_start: ch(startMs),
    samples: 2, avg_viewers: 0, peak_viewers: 0, min_viewers: 0, viewer_minutes: 0, followers: null,
    follower_delta: 0, chat_messages: 0, unique_chatters: 0, engagement_rate: 0, live: 0, version: 2,
    ...v,
  };
}

/**
 * twitch:1001 (alice), 2026-11-20 10:00–11:59, i = 0..119: live for i < 90 with avg 100+i, peak avg+10,
 * min avg-5, viewer-minutes = avg, 1 follower gained and 2 chat messages per live minute, unique
 * chatters 1 + i%3, engagement 0.05; followers 5000+i on every tenth minute. Offline after 11:30.
 * The 10:05 window also exists in an older version (1) with absurd numbers a reader must not see.
 *   1h 10:00 → liveMinutes 60, avg 129.5, peak 169, min 95, viewerMinutes 7770, followers 5050, delta 60, chat 120, unique 3, samples 120
 *   1h 11:00 → liveMinutes 30, samples 60, avg 174.5, peak 199, min 155, viewerMinutes 5235, followers 5110, delta 30, chat 60
 *   1d      → liveMinutes 90, avg 144.5, peak 199, viewerMinutes 13005, followers 5110, delta 90, chat 180
 * youtube:UCalice (alice), 10:00–10:29 live, avg 50, peak 70, viewer-minutes 50, 1 chat message a minute, followers 200.
 * twitch:2002 (bob), 10:00–10:09 live with avg 7.
 */
export function historyRows() {
  const rows: Array<ReturnType<typeof window>> = [];
  for (let i = 0; i < 120; i++) {
    const live = i < 90;
    const avg = live ? 100 + i : 0;
    rows.push(window('twitch', '1001', 'alice', T0 + i * MIN, {
      samples: live ? 2 : 0, avg_viewers: avg, peak_viewers: live ? avg + 10 : 0, min_viewers: live ? avg - 5 : 0, viewer_minutes: avg,
      followers: i % 10 === 0 ? 5000 + i : null, follower_delta: live ? 1 : 0, chat_messages: live ? 2 : 0,
      unique_chatters: live ? 1 + (i % 3) : 0, engagement_rate: live ? 0.05 : 0, live: live ? 1 : 0,
    }));
  }
  rows.push(window('twitch', '1001', 'alice', T0 + 5 * MIN, { avg_viewers: 999999, peak_viewers: 999999, min_viewers: 0, viewer_minutes: 999999, chat_messages: 999999, live: 1, version: 1 }));
  for (let i = 0; i < 30; i++) {
    rows.push(window('youtube', 'UCalice', 'alice', T0 + i * MIN, { avg_viewers: 50, peak_viewers: 70, min_viewers: 40, viewer_minutes: 50, chat_messages: 1, unique_chatters: 1, engagement_rate: 0.02, followers: i === 0 ? 200 : null, live: 1 }));
  }
  for (let i = 0; i < 10; i++) rows.push(window('twitch', '2002', 'bob', T0 + i * MIN, { avg_viewers: 7, peak_viewers: 7, viewer_minutes: 7, live: 1 }));
  return rows;
}

export function session(platform: string, channelId: string, userId: string, streamId: string, v: Partial<Record<string, unknown>>) {
  return {
    platform, channel_id: channelId, user_id: userId, stream_id: streamId, started_at: ch(T0), ended_at: null,
    duration_seconds: 0, peak_viewers: 0, avg_viewers: 0, hours_watched: 0, followers_gained: 0, chat_messages: 0,
    title: null, category: null, status: 'live', version: 1, ...v,
  };
}

/** s1 of twitch:1001: 10:00–11:30 (a live version 1, then the ended version 2); s0 two days earlier. */
export function sessionRows() {
  return [
    session('twitch', '1001', 'alice', 's1', { version: 1, title: 'Speedrun' }),
    session('twitch', '1001', 'alice', 's1', {
      version: 2, status: 'ended', ended_at: ch(T0 + 90 * MIN), duration_seconds: 5400, peak_viewers: 199, avg_viewers: 144.5,
      hours_watched: 216.75, followers_gained: 90, chat_messages: 180, title: 'Speedrun', category: 'Celeste',
    }),
    session('twitch', '1001', 'alice', 's0', {
      version: 3, status: 'ended', started_at: ch(T0 - 2 * 86400_000), ended_at: ch(T0 - 2 * 86400_000 + 3600_000), duration_seconds: 3600,
      peak_viewers: 50, avg_viewers: 40, hours_watched: 40, followers_gained: 3, chat_messages: 9, title: 'Older', category: 'Chess',
    }),
  ];
}

/**
 * twitch:1003 (alice) live now: 30 closed windows ending two minutes ago, avg 10·(j+1) (10…300), peak avg+5,
 * followers 1000+j, 1 follower and 3 messages a minute, 2 unique chatters; one offline window two days
 * ago with 7 followers gained; an open session "live-1" from the first window, its running row (as the
 * processors write it) carrying the figures of those 30 windows.
 *   → live, current 300, peak 305, average 155, followers 1029, growth 24h 30 / 7d 37, hours watched 77.5, chat 90
 */
export function liveNowRows(now: number) {
  const last = Math.floor(now / MIN) * MIN - 2 * MIN;
  const first = last - 29 * MIN;
  const windows = [];
  for (let j = 0; j < 30; j++) {
    const avg = 10 * (j + 1);
    windows.push(window('twitch', '1003', 'alice', first + j * MIN, {
      avg_viewers: avg, peak_viewers: avg + 5, min_viewers: avg - 5, viewer_minutes: avg, followers: 1000 + j, follower_delta: 1,
      chat_messages: 3, unique_chatters: 2, engagement_rate: 2 / avg, live: 1,
    }));
  }
  windows.push(window('twitch', '1003', 'alice', first - 2 * 86400_000, { samples: 0, follower_delta: 7, live: 0 }));
  // The running row the processors write at each flush: figures through the newest closed window.
  const sessions = [session('twitch', '1003', 'alice', 'live-1', {
    started_at: ch(first), title: 'Live now', category: 'Just Chatting', duration_seconds: 30 * 60, peak_viewers: 305, avg_viewers: 155,
    hours_watched: 77.5, followers_gained: 30, chat_messages: 90,
  })];
  return { windows, sessions, first, last };
}

/** The login and display name the fixtures' connections carry (apiHarness().connect's identity). */
export const fixtureIdentity = (platform: string, channelId: string) => ({ login: `l${channelId}`.toLowerCase(), displayName: `${platform} ${channelId}` });

export async function insertAll(repo: ClickHouseRepository, now: number) {
  const live = liveNowRows(now);
  await repo.insert('fixture metrics', 'metrics_1m', [...historyRows(), ...live.windows]);
  await repo.insert('fixture sessions', 'stream_sessions', [...sessionRows(), ...live.sessions]);
  return live;
}
