import { ClickHouseRepository, migrate } from '../../shared/clickhouse/clickhouse.repository';
import { createLogger } from '../../shared/logging/logger';
import { createRuntime, Runtime } from '../../shared/runtime';
import { BUCKET_FROM_PARTS, PART_NAMES, resealHours, WINDOW_PARTS } from '../../shared/clickhouse/rollups';
import { MetricsRepository, readSeriesSealed, SeriesRow, seriesQuery } from '../../api/metrics/metrics.repository';
import { SealedHours } from '../../api/metrics/sealed-hours';
import type { TimeRange } from '../../api/schemas/common.schemas';
import { ProcessorClickHouseSink } from '../../processors/sink/clickhouse.sink';
import type { ClosedWindow } from '../../processors/state/window.accumulator';
import { dropTestDatabase, testConfig } from '../support/stack';
import { expectSameSeries, seriesFromWindows } from './series-fixtures';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const D0 = Date.UTC(2026, 10, 10);
const END = D0 + 2 * DAY + 5 * HOUR; // windows up to here (the open tail's last minute is END - 1 min)

/**
 * Whole hours with nothing known: hours 0–5 of a day offline (no samples: averages null), the last two
 * hours of a day and every hour ≡ 4 (mod 5) without a follower count, the last hour of a day and every
 * hour ≡ 3 (mod 7) without paid subscribers, so a day's last known values come from an earlier hour's
 * part, not from the newest part.
 */
function win(channelId: string, i: number, bump = 0): ClosedWindow {
  const hour = Math.floor(i / 60);
  const live = hour % 24 >= 6 && i % 13 !== 0;
  const samples = live ? 1 + (i % 3) : 0;
  const avg = live ? 80 + ((i * 29) % 70) + bump : 0;
  const paidKnown = hour % 24 !== 23 && hour % 7 !== 3 && i % 6 !== 0;
  return {
    platform: 'twitch', channelId, userId: 'u1', windowStart: D0 + i * MIN, samples, avgViewers: avg, peakViewers: live ? avg + (i % 7) : 0,
    minViewers: live ? avg - (i % 4) : 0, viewerMinutes: avg * 0.97, followers: hour % 24 >= 22 || hour % 5 === 4 || i % 3 === 0 ? null : 2000 + i + bump,
    followerDelta: i % 3 === 0 ? 0 : 1, chatMessages: (i % 6) + bump, uniqueChatters: (i * 7) % 9, engagementRate: live ? (i % 5) / avg : 0,
    messagesPerViewerMinute: 0, live, streamId: live ? 's1' : null, chatSamplingRate: bump ? 0.1 : i % 89 === 7 ? 0.5 : 1,
    paidSubscribers: paidKnown ? 300 + Math.floor(i / 45) + bump : null, paidSubscriberDelta: paidKnown && i % 45 === 0 ? 2 : 0,
    subscriptionPoints: paidKnown ? 400 + Math.floor(i / 45) + bump : null,
  };
}

/**
 * The JSON route's read (api/metrics/metrics.repository.ts `readSeries`): the rollup's parts and the
 * minute parts of metrics_1m read in one query, combined into buckets in TypeScript by
 * shared/clickhouse/rollups.ts `bucketFromParts` — rendered from the same table as the SQL combination
 * (BUCKET_FROM_PARTS) that the export's one query runs. Over duplicates (older and replayed versions,
 * resealed hours), partial hours at both edges and an open tail (inside the speculatively read last two
 * hours, or further back: the gap query; no rollup at all), the figures must be those from metrics_1m
 * alone, and the same as the one-SQL form's.
 */
describe('series read as parts and combined in TypeScript (real ClickHouse)', () => {
  let rt: Runtime;
  let repo: ClickHouseRepository;
  let metrics: MetricsRepository;
  const channel = (channelId: string) => ({ platform: 'twitch', channelId });

  beforeAll(async () => {
    rt = createRuntime(testConfig(), createLogger('silent'));
    await migrate(rt.clickhouseSettings);
    repo = new ClickHouseRepository(rt.clickhouseSettings);
    metrics = new MetricsRepository(repo);
    await repo.command('stop merges', 'SYSTEM STOP MERGES metrics_1m');
    await repo.command('stop merges', 'SYSTEM STOP MERGES metrics_1h_rollup');
    const sink = new ProcessorClickHouseSink(repo);
    const all = (channelId: string, bump = 0) => Array.from({ length: (END - D0) / MIN }, (_, i) => win(channelId, i, bump));
    for (const id of ['810', '811', '812']) {
      // Older versions with other values first: every read must take the newest version of a window.
      await sink.insertWindowsAndLate(all(id, 9).filter((_, i) => i % 11 === 0), [], 1);
      await sink.insertWindowsAndLate(all(id), [], 2);
    }
    // 810: sealed up to 2 h before the end (an open tail of two hours), hours sealed twice (duplicate rollup rows).
    await resealHours(repo, [channel('810')], D0, END - 2 * HOUR);
    await resealHours(repo, [channel('810')], D0 + DAY, END - 2 * HOUR);
    // 811: sealed only through the first day (processors far behind: the tail is longer than the speculative read).
    await resealHours(repo, [channel('811')], D0, D0 + DAY);
    // 812: no rollup rows at all.
    // Replays after the seal: same values, newer version, in the tail and in sealed hours.
    for (const id of ['810', '811']) await sink.insertWindowsAndLate(all(id).filter((w) => w.windowStart % (17 * MIN) === 0), [], 3);
  });
  afterAll(async () => {
    if (rt) await dropTestDatabase(rt);
    await repo?.close();
  });

  const fromWindows = (channelId: string, range: TimeRange, step: number) => seriesFromWindows(repo, channel(channelId), range, step);
  const oneSql = (channelId: string, range: TimeRange, step: number) => {
    const q = seriesQuery(channel(channelId), range, step);
    return repo.query<SeriesRow>('series in one SQL', q.query, q.params);
  };

  const ranges: Array<[string, TimeRange]> = [
    ['mid-hour edges, open tail within the last two hours', { fromMs: D0 + 7 * MIN, toMs: END - 29 * MIN }],
    ['mid-hour start, up to the open tail\'s end', { fromMs: D0 + 3 * HOUR + 41 * MIN, toMs: END }],
    ['aligned, sealed hours only', { fromMs: D0 + 2 * HOUR, toMs: D0 + DAY + 9 * HOUR }],
    ['inside one hour', { fromMs: D0 + 30 * HOUR + 5 * MIN, toMs: D0 + 30 * HOUR + 50 * MIN }],
  ];

  test.each(ranges)('%s: 1h and 1d equal the series from metrics_1m alone and the one-SQL form, whatever the rollup holds', async (_name, range) => {
    for (const id of ['810', '811', '812']) {
      for (const step of [3600, 86400]) {
        const expected = await fromWindows(id, range, step);
        expect(expected.length).toBeGreaterThan(0);
        const read = await metrics.series(channel(id), range, step);
        expectSameSeries(read, expected);
        expectSameSeries(read, await oneSql(id, range, step));
      }
    }
  });

  test.each(ranges)('%s: read with kept sealed hours (readSeriesSealed), first from ClickHouse then from memory, equals metrics_1m alone — also with the sealed end behind the rollup', async (_name, range) => {
    const run = <T extends unknown[]>(name: string, query: string, params: Record<string, unknown>) => repo.queryCompact<T>(name, query, params);
    // As the writers report them: 810 sealed to 2 h before the end, 811 through the first day; 810 also told an older end (a report lost).
    const states: Array<[string, number]> = [['810', END - 2 * HOUR], ['811', D0 + DAY], ['810', D0 + DAY + 3 * HOUR], ['811', D0 + 7 * HOUR]];
    for (const [id, endMs] of states) {
      const cache = new SealedHours({ maxRows: 100_000, maxAgeMs: 60_000 });
      for (const step of [3600, 86400]) {
        const expected = await fromWindows(id, range, step);
        for (let pass = 0; pass < 2; pass++) expectSameSeries(await readSeriesSealed(run, channel(id), range, step, { version: 'v1', endMs }, cache), expected);
      }
    }
  });

  test('the fixture has what the combination must get right: days whose last hour knew no followers or subscribers, hours without samples', async () => {
    const hours = await fromWindows('810', { fromMs: D0, toMs: END }, 3600);
    expect(hours.filter((h) => h.lastFollowers === null).length).toBeGreaterThan(5);
    expect(hours.filter((h) => h.lastPaidSubscribers === null).length).toBeGreaterThan(3);
    expect(hours.filter((h) => h.avgViewers === null).length).toBeGreaterThan(5);
    expect(hours.filter((h) => h.chatSamplingRate < 1).length).toBeGreaterThan(3);
    const lastHours = hours.filter((h) => h.bucket.endsWith(' 23:00:00'));
    expect(lastHours).toHaveLength(2);
    expect(lastHours.every((h) => h.lastFollowers === null && h.lastPaidSubscribers === null)).toBe(true);
    const days = await metrics.series(channel('810'), { fromMs: D0, toMs: D0 + 2 * DAY }, 86400);
    expect(days).toHaveLength(2);
    expect(days.every((d) => d.lastFollowers !== null && d.lastPaidSubscribers !== null && d.lastSubscriptionPoints !== null && d.avgViewers !== null)).toBe(true);
  });

  test('the parts are listed in one order by every reader and writer (they are read by position)', () => {
    expect([...WINDOW_PARTS.matchAll(/ AS c_(\w+)/g)].map((m) => m[1])).toEqual(PART_NAMES);
    expect(BUCKET_FROM_PARTS).toContain('argMaxIf(c_last_subscription_points, c_last_paid_subscribers_at, isNotNull(c_last_paid_subscribers)) AS lastSubscriptionPoints');
  });
});
