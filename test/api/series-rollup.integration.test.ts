import { ClickHouseRepository, migrate } from '../../shared/clickhouse/clickhouse.repository';
import { createLogger } from '../../shared/logging/logger';
import { createRuntime, Runtime } from '../../shared/runtime';
import { resealHours } from '../../shared/clickhouse/rollups';
import { MetricsRepository } from '../../api/metrics/metrics.repository';
import type { TimeRange } from '../../api/schemas/common.schemas';
import { ProcessorClickHouseSink } from '../../processors/sink/clickhouse.sink';
import type { ClosedWindow } from '../../processors/state/window.accumulator';
import { dropTestDatabase, testConfig } from '../support/stack';
import { expectSameSeries, seriesFromWindows } from './series-fixtures';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const D0 = Date.UTC(2026, 10, 20);

function win(channelId: string, i: number, bump = 0): ClosedWindow {
  const live = i % 1440 > 600 && i % 11 !== 0;
  const samples = live ? 1 + (i % 4) : 0;
  const avg = live ? 100 + ((i * 37) % 50) + bump : 0;
  return {
    platform: 'twitch', channelId, userId: 'u1', windowStart: D0 + i * MIN, samples, avgViewers: avg, peakViewers: live ? avg + (i % 9) : 0,
    minViewers: live ? avg - (i % 5) : 0, viewerMinutes: avg, followers: i % 3 === 0 ? null : 1000 + i + bump, followerDelta: i % 3 === 0 ? 0 : 1,
    chatMessages: (i % 5) + bump, uniqueChatters: i % 4, engagementRate: live ? (i % 4) / avg : 0, messagesPerViewerMinute: 0, live, streamId: live ? 's1' : null,
    // Some minutes of sampled chat (YouTube under the quota planner); older versions 0.1, which a read must not pick.
    chatSamplingRate: bump ? 0.1 : i % 97 === 5 ? 0.25 : 1,
    // Twitch paid subscribers (issue 18.3), unknown in some minutes: the rollup's parts must give the same last total, change and points.
    paidSubscribers: i % 7 === 0 ? null : 500 + Math.floor(i / 30) + bump, paidSubscriberDelta: i % 7 === 0 ? 0 : i % 30 === 0 ? 1 : 0,
    subscriptionPoints: i % 7 === 0 ? null : 600 + Math.floor(i / 30) + bump,
  };
}

/**
 * The 1h and 1d series read complete hours from metrics_1h_rollup and the rest from metrics_1m
 * (api/metrics/metrics.repository.ts): the open tail after the newest rollup hour, and the partial
 * hours at the range's edges. Whatever the split, the figures are those computed from metrics_1m alone.
 */
describe('series over the hourly rollup + the open tail (real ClickHouse)', () => {
  let rt: Runtime;
  let repo: ClickHouseRepository;
  let metrics: MetricsRepository;
  const sealedTo = D0 + 2 * DAY + 13 * HOUR;

  beforeAll(async () => {
    rt = createRuntime(testConfig(), createLogger('silent'));
    await migrate(rt.clickhouseSettings);
    repo = new ClickHouseRepository(rt.clickhouseSettings);
    metrics = new MetricsRepository(repo);
    await repo.command('stop merges', 'SYSTEM STOP MERGES metrics_1m');
    await repo.command('stop merges', 'SYSTEM STOP MERGES metrics_1h_rollup');
    const sink = new ProcessorClickHouseSink(repo);
    const all = (bump = 0) => Array.from({ length: 3 * 1440 }, (_, i) => win('700', i, bump));
    // Older versions with other values, then the current ones: reads must pick the newest of each window.
    await sink.insertWindowsAndLate(all(7).filter((_, i) => i % 13 === 0), [], 1);
    await sink.insertWindowsAndLate(all(), [], 2);
    await resealHours(repo, [{ platform: 'twitch', channelId: '700' }], D0, sealedTo);
    // The tail gets replayed duplicates (same values, newer version) after the seal.
    await sink.insertWindowsAndLate(all().filter((w) => w.windowStart >= sealedTo - 30 * MIN && w.windowStart % (7 * MIN) === 0), [], 3);
    // The same windows on a channel without any rollup row.
    await sink.insertWindowsAndLate(all().map((w) => ({ ...w, channelId: '701' })), [], 2);
  });
  afterAll(async () => {
    if (rt) await dropTestDatabase(rt);
    await repo?.close();
  });

  const fromWindows = (channelId: string, range: TimeRange, step: number) => seriesFromWindows(repo, { platform: 'twitch', channelId }, range, step);

  const ranges: Array<[string, TimeRange]> = [
    ['aligned, rollup then tail', { fromMs: D0, toMs: D0 + 3 * DAY }],
    ['edges mid-hour on both sides', { fromMs: D0 + 17 * MIN, toMs: sealedTo - 2 * HOUR + 29 * MIN }],
    ['starts in the rollup, ends in the tail mid-hour', { fromMs: D0 + DAY + 5 * HOUR + 1 * MIN, toMs: sealedTo + 3 * HOUR + 44 * MIN }],
    ['inside the tail only', { fromMs: sealedTo + 10 * MIN, toMs: D0 + 3 * DAY }],
    ['within one hour', { fromMs: D0 + 11 * HOUR + 5 * MIN, toMs: D0 + 11 * HOUR + 50 * MIN }],
  ];

  test.each(ranges)('1h and 1d: %s — the figures computed from metrics_1m alone', async (_name, range) => {
    for (const step of [3600, 86400]) {
      const expected = await fromWindows('700', range, step);
      expect(expected.length).toBeGreaterThan(0);
      expectSameSeries(await metrics.series({ platform: 'twitch', channelId: '700' }, range, step), expected);
    }
  });

  test('the chat sampling rate of a bucket is the lowest of its windows, through the rollup as from metrics_1m (flagged, not scaled)', async () => {
    const range = { fromMs: D0, toMs: D0 + 3 * DAY };
    const hours = await metrics.series({ platform: 'twitch', channelId: '700' }, range, 3600);
    // i % 97 === 5 lands in about one hour in four (97 minutes apart).
    expect(hours.filter((r) => r.chatSamplingRate === 0.25).length).toBeGreaterThan(10);
    expect(hours.filter((r) => r.chatSamplingRate === 1).length).toBeGreaterThan(10);
    expect(hours.every((r) => r.chatSamplingRate === 0.25 || r.chatSamplingRate === 1)).toBe(true);
    const days = await metrics.series({ platform: 'twitch', channelId: '700' }, range, 86400);
    expect(days.map((r) => r.chatSamplingRate)).toEqual([0.25, 0.25, 0.25]);
  });

  test('a channel without rollup rows is read from metrics_1m entirely, with the same figures', async () => {
    const range = { fromMs: D0, toMs: D0 + 3 * DAY };
    for (const step of [3600, 86400]) expectSameSeries(await metrics.series({ platform: 'twitch', channelId: '701' }, range, step), await fromWindows('700', range, step));
  });
});
