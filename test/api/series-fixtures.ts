import type { Redis } from 'ioredis';
import { ClickHouseRepository, migrate } from '../../shared/clickhouse/clickhouse.repository';
import { createLogger } from '../../shared/logging/logger';
import { createRedis } from '../../shared/redis/redis';
import { DataVersions } from '../../shared/redis/data-version';
import { createRuntime, type Runtime } from '../../shared/runtime';
import { ProcessorClickHouseSink, windowReports } from '../../processors/sink/clickhouse.sink';
import type { RollupWriter } from '../../processors/sink/rollup.writer';
import { deleteRedisKeys, dropTestDatabase, testConfig } from '../support/stack';
import { type ChannelKey, type SeriesRow, windowSeriesQuery } from '../../api/metrics/metrics.repository';
import type { TimeRange } from '../../api/schemas/common.schemas';
import type { ClosedWindow } from '../../processors/state/window.accumulator';

/** The reference series: the figures computed from metrics_1m alone (windowSeriesQuery, every step). */
export function seriesFromWindows(repo: ClickHouseRepository, c: ChannelKey, range: TimeRange, step: number): Promise<SeriesRow[]> {
  const q = windowSeriesQuery(c, range, step);
  return repo.query<SeriesRow>('series from windows', q.query, q.params);
}

/** Same buckets, same figures: counts and last-known values exactly, averages and sums to floating-point noise. */
export function expectSameSeries(actual: SeriesRow[], expected: SeriesRow[]): void {
  expect(actual.map((r) => r.bucket)).toEqual(expected.map((r) => r.bucket));
  actual.forEach((a, i) => {
    const e = expected[i]!;
    const exact = (r: SeriesRow) => ({ ...r, avgViewers: r.avgViewers === null, engagementRate: r.engagementRate === null, viewerMinutes: 0 });
    expect(exact(a)).toEqual(exact(e));
    expect(a.avgViewers ?? 0).toBeCloseTo(e.avgViewers ?? 0, 9);
    expect(a.engagementRate ?? 0).toBeCloseTo(e.engagementRate ?? 0, 9);
    expect(a.viewerMinutes).toBeCloseTo(e.viewerMinutes, 6);
  });
}

const MINUTE_MS = 60_000;

/**
 * Minute i after `d0` of a channel as the processors close it: live from 04:00 of each day, with
 * unknown followers and paid subscribers in some minutes, a sampled-chat minute now and then, and
 * fractional averages; `bump` changes every figure (a replay with other values).
 */
export function minuteWindow(channelId: string, d0: number, i: number, bump = 0): ClosedWindow {
  const hour = Math.floor(i / 60);
  const live = hour % 24 >= 4 && i % 11 !== 0;
  const avg = live ? 50 + ((i * 31) % 60) + bump + 0.123456789 : 0;
  const peak = Math.floor(avg);
  const paidKnown = hour % 5 !== 2 && i % 4 !== 0;
  return {
    platform: 'twitch', channelId, userId: 'u1', windowStart: d0 + i * MINUTE_MS, samples: live ? 2 : 0, avgViewers: avg, peakViewers: live ? peak + (i % 5) : 0,
    minViewers: live ? peak - (i % 3) : 0, viewerMinutes: avg, followers: hour % 6 === 5 || i % 4 === 0 ? null : 900 + i + bump, followerDelta: i % 4 === 0 ? 0 : 1,
    chatMessages: (i % 4) + bump, uniqueChatters: (i * 5) % 7, engagementRate: live ? (i % 3) / avg : 0, messagesPerViewerMinute: 0, live, streamId: live ? 's' : null,
    chatSamplingRate: i % 71 === 3 ? 0.5 : 1, paidSubscribers: paidKnown ? 100 + Math.floor(i / 30) + bump : null, paidSubscriberDelta: paidKnown && i % 30 === 0 ? 1 : 0,
    subscriptionPoints: paidKnown ? 150 + Math.floor(i / 30) + bump : null,
  };
}

/** Minutes [from, to) after `d0` (minuteWindow). */
export const minuteWindows = (channelId: string, d0: number, from: number, to: number, bump = 0): ClosedWindow[] =>
  Array.from({ length: to - from }, (_, k) => minuteWindow(channelId, d0, from + k, bump));

/** The real services and the processors' writers, as suites of the API's series reads against them use them. */
export interface WritersStack {
  rt: Runtime;
  repo: ClickHouseRepository;
  redis: Redis;
  sink: ProcessorClickHouseSink;
  versions: DataVersions;
  /** One flush as processors/sink/flush.writer.ts writes it: the windows, the hourly rollup, then the report with the rows. */
  flush(rollups: RollupWriter, windows: ClosedWindow[], version?: number): Promise<void>;
  /** The next write version (ascending). */
  nextVersion(): number;
}

/**
 * Real ClickHouse (a database of the suite's own, migrated) and Redis with the processors' writers;
 * registers its own beforeAll/afterAll, so its fields are set once the suite's tests run.
 */
export function writersStack(): WritersStack {
  let version = 1_000;
  const s = {
    nextVersion: () => version++,
    flush: async (rollups: RollupWriter, windows: ClosedWindow[], v = version++) => {
      await s.sink.insertWindowsAndLate(windows, [], v);
      await rollups.afterWindows(windows);
      await s.versions.bump(windowReports(windows, v));
    },
  } as WritersStack;
  beforeAll(async () => {
    s.rt = createRuntime(testConfig(), createLogger('silent'));
    await migrate(s.rt.clickhouseSettings);
    s.repo = new ClickHouseRepository(s.rt.clickhouseSettings);
    s.redis = createRedis(s.rt.config.REDIS_URL);
    s.sink = new ProcessorClickHouseSink(s.repo);
    s.versions = new DataVersions(s.redis, s.rt.config.REDIS_KEY_PREFIX);
  });
  afterAll(async () => {
    if (s.rt) await dropTestDatabase(s.rt);
    await s.repo?.close();
    if (s.redis) await deleteRedisKeys(s.redis, s.rt.config.REDIS_KEY_PREFIX);
    s.redis?.disconnect();
  });
  return s;
}
