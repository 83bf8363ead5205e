import type { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import { type ChannelKey, type SeriesRow, windowSeriesQuery } from '../../api/metrics/metrics.repository';
import type { TimeRange } from '../../api/schemas/common.schemas';

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
