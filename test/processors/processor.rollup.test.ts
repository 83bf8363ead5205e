import { ClickHouseRepository, createClickHouse, migrate } from '../../shared/clickhouse/clickhouse.repository';
import { createLogger } from '../../shared/logging/logger';
import { createRuntime, Runtime } from '../../shared/runtime';
import { ProcessorClickHouseSink } from '../../processors/sink/clickhouse.sink';
import { RollupWriter } from '../../processors/sink/rollup.writer';
import type { ClosedWindow } from '../../processors/state/window.accumulator';
import { backfillHistory } from '../../models/history';
import { createWorld } from '../../platforms/simulator/world';
import { testConfig } from '../support/stack';

const MIN = 60_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);

/** A window with figures that vary by minute: offline minutes, minutes without a follower count. */
function win(channelId: string, i: number): ClosedWindow {
  const live = i % 7 !== 0;
  const samples = live ? 1 + (i % 4) : 0;
  const avg = live ? 100 + ((i * 37) % 50) : 0;
  return {
    platform: 'twitch', channelId, userId: 'u1', windowStart: T0 + i * MIN, samples, avgViewers: avg, peakViewers: live ? avg + 5 : 0,
    minViewers: live ? avg - 5 : 0, viewerMinutes: avg, followers: i % 3 === 0 ? null : 1000 + i, followerDelta: i % 3 === 0 ? 0 : 1,
    chatMessages: i % 5, uniqueChatters: i % 4, engagementRate: live ? (i % 4) / avg : 0, messagesPerViewerMinute: 0, live, streamId: live ? 's1' : null,
  };
}

interface HourFigures {
  hour: number;
  windows: number;
  liveWindows: number;
  avgViewers: number;
  peak: number;
  min: number | null;
  viewerMinutes: number;
  followers: number | null;
  followerDelta: number;
  chat: number;
  uniqueChatters: number;
}

/**
 * metrics_1h_rollup (shared/clickhouse/rollups.ts), written by the processors' flush writer and by the
 * backfill: its hours equal the aggregate over the de-duplicated metrics_1m (the processors' query-time
 * metrics_1h view) — after duplicates from a replay, after a backfill — and no hour is counted twice.
 */
describe('hourly rollup (real ClickHouse)', () => {
  let rt: Runtime;
  let repo: ClickHouseRepository;
  let sink: ProcessorClickHouseSink;

  beforeAll(async () => {
    const config = testConfig();
    rt = createRuntime(config, createLogger('silent'));
    await migrate(rt.clickhouseSettings);
    repo = new ClickHouseRepository(rt.clickhouseSettings);
    sink = new ProcessorClickHouseSink(repo);
    // Duplicates stay visible (no background merge collapses them): reads must de-duplicate themselves.
    await repo.command('stop merges', 'SYSTEM STOP MERGES metrics_1m');
    await repo.command('stop merges', 'SYSTEM STOP MERGES metrics_1h_rollup');
  });
  afterAll(async () => {
    const admin = createClickHouse(rt.clickhouseSettings, undefined);
    await admin.command({ query: 'DROP DATABASE IF EXISTS {db:Identifier}', query_params: { db: rt.config.CLICKHOUSE_DATABASE } }).catch(() => undefined);
    await admin.close();
    await repo?.close();
  });

  const fromRollup = (channelId: string, platform = 'twitch') =>
    repo.query<HourFigures>(
      'rollup figures',
      `SELECT toUnixTimestamp(bucket_start) * 1000 AS hour, windows, live_windows AS liveWindows,
              if(sampled_windows = 0, 0, sum_avg_viewers / sampled_windows) AS avgViewers, peak_viewers AS peak, ifNull(min_viewers, 0) AS min,
              viewer_minutes AS viewerMinutes, last_followers AS followers, follower_delta AS followerDelta, chat_messages AS chat,
              max_unique_chatters AS uniqueChatters
       FROM (SELECT * FROM metrics_1h_rollup WHERE platform = {p:String} AND channel_id = {c:String}
             ORDER BY bucket_start, version DESC LIMIT 1 BY bucket_start)
       ORDER BY hour`,
      { p: platform, c: channelId },
    );
  /** The same figures at query time over metrics_1m_latest (the metrics_1h view), hours before `beforeMs`. */
  const fromWindows = (channelId: string, beforeMs: number, platform = 'twitch') =>
    repo.query<HourFigures>(
      'view figures',
      `SELECT toUnixTimestamp(bucket_start) * 1000 AS hour, windows, live_windows AS liveWindows, avg_viewers AS avgViewers,
              peak_viewers AS peak, min_viewers AS min,
              viewer_minutes AS viewerMinutes, followers, follower_delta AS followerDelta, chat_messages AS chat,
              max_unique_chatters_1m AS uniqueChatters
       FROM (SELECT * FROM metrics_1h WHERE platform = {p:String} AND channel_id = {c:String}
             AND bucket_start < {before:DateTime('UTC')})
       ORDER BY hour`,
      { p: platform, c: channelId, before: Math.floor(beforeMs / 1000) },
    );
  const rawRows = async (channelId: string) =>
    Number((await repo.query<{ n: number }>('raw rows', 'SELECT count() AS n FROM metrics_1m WHERE channel_id = {c:String}', { c: channelId }))[0]!.n);

  function expectSameHours(actual: HourFigures[], expected: HourFigures[]) {
    expect(actual.map((h) => h.hour)).toEqual(expected.map((h) => h.hour));
    actual.forEach((a, i) => {
      const e = expected[i]!;
      expect({ ...a, avgViewers: 0 }).toEqual({ ...e, avgViewers: 0 });
      expect(a.avgViewers).toBeCloseTo(e.avgViewers, 9);
    });
  }

  test('flushes seal each hour once the channel has a window in the next; a replay (duplicates, a restarted writer) rewrites the same figures', async () => {
    const writer = new RollupWriter(repo);
    const windows = Array.from({ length: 150 }, (_, i) => win('500', i)); // 10:00 → 12:29
    for (let i = 0; i < windows.length; i += 20) {
      const batch = windows.slice(i, i + 20);
      await sink.insertWindowsAndLate(batch, [], 1000 + i);
      await writer.afterWindows(batch);
    }
    const sealed = await fromRollup('500');
    // 10:00 and 11:00 are complete; 12:00 is still open, so it is not in the rollup.
    expect(sealed.map((h) => h.hour)).toEqual([T0, T0 + HOUR]);
    expect(sealed.map((h) => h.windows)).toEqual([60, 60]);
    expectSameHours(sealed, await fromWindows('500', T0 + 2 * HOUR));

    // A crash and replay: a new writer (empty cache) and the windows of 11:30–12:29 written again with
    // higher versions, twice; then the channel moves on into 13:00.
    const replayed = new RollupWriter(repo);
    for (const v of [5000, 5001]) {
      const batch = windows.slice(90);
      await sink.insertWindowsAndLate(batch, [], v);
      await replayed.afterWindows(batch);
    }
    const next = Array.from({ length: 40 }, (_, i) => win('500', 150 + i)); // 12:30 → 13:09
    await sink.insertWindowsAndLate(next, [], 6000);
    await replayed.afterWindows(next);
    expect(await rawRows('500')).toBe(190 + 2 * 60); // the duplicates are really in metrics_1m
    const after = await fromRollup('500');
    expect(after.map((h) => h.hour)).toEqual([T0, T0 + HOUR, T0 + 2 * HOUR]);
    expect(after.map((h) => h.windows)).toEqual([60, 60, 60]);
    expectSameHours(after, await fromWindows('500', T0 + 3 * HOUR));
  });

  test('a channel first seen by a writer gets its earlier hours sealed too (no gap below a sealed hour)', async () => {
    // Windows written by someone before this writer existed (e.g. before the rollup table), 10:00 → 11:59.
    const older = Array.from({ length: 120 }, (_, i) => win('501', i));
    await sink.insertWindowsAndLate(older, [], 1);
    const writer = new RollupWriter(repo);
    const batch = [win('501', 125)];
    await sink.insertWindowsAndLate(batch, [], 2);
    await writer.afterWindows(batch);
    expectSameHours(await fromRollup('501'), await fromWindows('501', T0 + 2 * HOUR));
    expect((await fromRollup('501')).map((h) => h.windows)).toEqual([60, 60]);
  });

  test('a backfill seals every complete hour it wrote, also over hours the rollup had before', async () => {
    const world = createWorld({ seed: 7, channels: 3 });
    const to = Math.floor(Date.now() / HOUR) * HOUR - 2 * 86_400_000 + 30 * MIN; // ends mid-hour
    const from = to - 3 * 86_400_000;
    const channelIds = world.channels.map((c) => c.channelId);
    await backfillHistory(repo, world, { fromMs: from, toMs: to, channelIds, seed: 3, version: 10 });
    // Written again over the last day with other noise (and a newer version): the rollup follows.
    await backfillHistory(repo, world, { fromMs: to - 86_400_000, toMs: to, channelIds, seed: 4, sessionNoise: 0.3, version: 20 });
    let hours = 0;
    for (const c of world.channels) {
      const rolled = await fromRollup(c.channelId, c.platform);
      const expected = await fromWindows(c.channelId, Math.floor(to / HOUR) * HOUR, c.platform);
      expectSameHours(rolled, expected);
      hours += rolled.length;
    }
    expect(hours).toBeGreaterThan(10);
  });
});
