import type { Redis } from 'ioredis';
import type { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import type { Runtime } from '../../shared/runtime';
import type { DataVersions } from '../../shared/redis/data-version';
import { MetricsRepository } from '../../api/metrics/metrics.repository';
import { SealedHours } from '../../api/metrics/sealed-hours';
import type { TimeRange } from '../../api/schemas/common.schemas';
import type { ProcessorClickHouseSink } from '../../processors/sink/clickhouse.sink';
import { RollupWriter } from '../../processors/sink/rollup.writer';
import type { ClosedWindow } from '../../processors/state/window.accumulator';
import { sealAfterBatch } from '../../shared/clickhouse/rollups';
import { metricsRegistry } from '../../shared/metrics/metrics';
import { expectSameSeries, minuteWindows, seriesFromWindows, writersStack } from './series-fixtures';

const MIN = 60_000;
const HOUR = 3_600_000;
const D0 = Date.UTC(2026, 10, 12);

const minutes = (channelId: string, from: number, to: number, bump = 0) => minuteWindows(channelId, D0, from, to, bump);

/**
 * The API's open tail (api/README.md "Open tail"): the flush writer reports each window with its row
 * (processors/sink/clickhouse.sink.ts `windowReports`, in the same Lua script as the data and sealed
 * versions), and a series miss takes the minutes after the sealed end from those reports instead of
 * metrics_1m — with the figures metrics_1m gives, through replays, stale writers, hour boundaries,
 * backfills and lost or damaged reports (where it cannot know, it reads metrics_1m).
 */
describe('open tail: series misses served from the writers\' reports (real ClickHouse, Redis)', () => {
  const w = writersStack();
  let rt: Runtime;
  let repo: ClickHouseRepository;
  let redis: Redis;
  let sink: ProcessorClickHouseSink;
  let versions: DataVersions;
  beforeAll(() => ({ rt, repo, redis, sink, versions } = w));
  const channel = (channelId: string) => ({ platform: 'twitch', channelId });
  const tailKey = (id: string) => `${rt.config.REDIS_KEY_PREFIX}:open-tail:{twitch:${id}}`;
  afterEach(() => jest.restoreAllMocks());

  const flush = (rollups: RollupWriter, windows: ClosedWindow[], v?: number) => w.flush(rollups, windows, v);
  const newRepository = () => new MetricsRepository(repo, { sealed: new SealedHours({ maxRows: 100_000, maxAgeMs: 600_000 }), openTail: (c) => versions.readOpenTail(c) });
  /** The route's read, with the ClickHouse queries it made. */
  const read = async (metrics: MetricsRepository, id: string, range: TimeRange, step: number) => {
    const spy = jest.spyOn(repo, 'queryCompact');
    const rows = await metrics.series(channel(id), range, step, await versions.readVersions(channel(id)));
    const queries = spy.mock.calls.map((c) => c[0]);
    spy.mockRestore();
    return { rows, queries };
  };
  /** Both steps equal the series from metrics_1m alone; returns the ClickHouse queries the reads made. */
  const expectTrue = async (metrics: MetricsRepository, id: string, range: TimeRange) => {
    const queries: string[] = [];
    for (const step of [3600, 86400]) {
      const r = await read(metrics, id, range, step);
      expectSameSeries(r.rows, await seriesFromWindows(repo, channel(id), range, step));
      queries.push(...r.queries);
    }
    return queries;
  };

  it('a miss after a flush of the open hour reads nothing from ClickHouse, and gives the figures of metrics_1m', async () => {
    const metrics = newRepository();
    const rollups = new RollupWriter(repo);
    for (let m = 0; m < 30 * 60 + 20; m += 50) await flush(rollups, minutes('ot1', m, Math.min(m + 50, 30 * 60 + 20)));
    const range = (shift: number) => ({ fromMs: D0 + 7 * MIN + shift * MIN, toMs: D0 + 30 * HOUR + 20 * MIN });
    await expectTrue(metrics, 'ot1', range(0)); // the first read takes the sealed hours and the partial first hour
    const fromTail = async () => (await metricsRegistry.getSingleMetric('spacehub_api_series_minute_reads_total')!.get()).values.find((v) => v.labels.source === 'open_tail')?.value ?? 0;
    const before = await fromTail();
    expect(await expectTrue(metrics, 'ot1', range(1))).toEqual([]);
    expect((await fromTail()) - before).toBe(2); // counted, both steps

    // More minutes of the open hour: seen, still without a query.
    await flush(rollups, minutes('ot1', 30 * 60 + 20, 30 * 60 + 33));
    const later = { fromMs: D0 + 9 * MIN, toMs: D0 + 30 * HOUR + 33 * MIN };
    expect(await expectTrue(metrics, 'ot1', later)).toEqual([]);

    // A replay of open-hour minutes with other values (newer version) is seen; a stale writer's older rows are not (metrics_1m keeps the highest version too).
    await flush(rollups, minutes('ot1', 30 * 60 + 5, 30 * 60 + 15, 9));
    await flush(rollups, minutes('ot1', 30 * 60 + 10, 30 * 60 + 20, 4), 5);
    const after = { fromMs: D0 + 10 * MIN, toMs: later.toMs };
    expect(await expectTrue(metrics, 'ot1', after)).toEqual([]);
    const open = (await read(metrics, 'ot1', after, 3600)).rows.at(-1)!;
    expect(open.bucket).toBe('2026-11-13 06:00:00');

    // The hour boundary: the end moves on, the tail drops the hour now sealed, and the miss reads only that hour's rollup row.
    await flush(rollups, minutes('ot1', 30 * 60 + 33, 31 * 60 + 4));
    expect(await redis.hlen(tailKey('ot1'))).toBe(3 + 4); // end, sv, since + minutes 0–3 of hour 31
    const next = { fromMs: D0 + 11 * MIN, toMs: D0 + 31 * HOUR + 4 * MIN };
    expect(await expectTrue(metrics, 'ot1', next)).toEqual(['api.series-sealed-hours']);
    expect(await expectTrue(metrics, 'ot1', { ...next, fromMs: D0 + 12 * MIN })).toEqual([]);

    // A replay into a sealed hour (a reseal) changes the sealed version, and the tail goes with the new one: after the
    // sealed hours and the partial first hour are read again under it, misses read nothing again.
    await flush(rollups, minutes('ot1', 12 * 60, 12 * 60 + 30, 5));
    await expectTrue(metrics, 'ot1', { ...next, fromMs: D0 + 13 * MIN });
    expect(await expectTrue(metrics, 'ot1', { ...next, fromMs: D0 + 14 * MIN })).toEqual([]);
  });

  it('where the reports are not known to be complete, a miss reads metrics_1m, with the same figures', async () => {
    const metrics = newRepository();
    const rollups = new RollupWriter(repo);
    // A channel first reported mid-hour (a fresh Redis): minutes before its first report may be in metrics_1m.
    await sink.insertWindowsAndLate(minutes('ot2', 60, 70), [], w.nextVersion());
    await flush(rollups, minutes('ot2', 70, 90));
    const range = (m: number) => ({ fromMs: D0 + m * MIN, toMs: D0 + 2 * HOUR });
    expect(await expectTrue(metrics, 'ot2', range(0))).toContain('api.series-edge-windows');
    // Once its end moves past that hour, the reports are complete.
    await flush(rollups, minutes('ot2', 90, 125));
    const on = { fromMs: D0 + 2 * MIN, toMs: D0 + 2 * HOUR + 5 * MIN };
    await expectTrue(metrics, 'ot2', on);
    expect(await expectTrue(metrics, 'ot2', { ...on, fromMs: D0 + 3 * MIN })).toEqual([]);

    // A damaged report (not JSON, a column short, another minute's row), then lost reports: read from metrics_1m; after a loss, the next write cannot vouch for the minutes
    // already written in its hour.
    const row = (await redis.hget(tailKey('ot2'), String(D0 + 124 * MIN)))!;
    for (const damaged of ['7|{not json', row.replace(/,[^,]*\]$/, ']'), row.replace('2026-11-12 02:04:00', '2026-11-12 02:05:00')]) {
      await redis.hset(tailKey('ot2'), String(D0 + 124 * MIN), damaged);
      expect(await versions.readOpenTail(channel('ot2'))).toBeNull();
    }
    expect(await expectTrue(metrics, 'ot2', { ...on, fromMs: D0 + 4 * MIN })).toContain('api.series-edge-windows');
    await redis.del(tailKey('ot2'));
    expect(await expectTrue(metrics, 'ot2', { ...on, fromMs: D0 + 5 * MIN })).toContain('api.series-edge-windows');
    await flush(rollups, minutes('ot2', 125, 130));
    expect(await expectTrue(metrics, 'ot2', { fromMs: D0 + 6 * MIN, toMs: D0 + 2 * HOUR + 10 * MIN })).toContain('api.series-edge-windows');
  });

  it('a backfill reaching into the open hour (no rows reported) makes the tail incomplete until the end passes that hour', async () => {
    const metrics = newRepository();
    const rollups = new RollupWriter(repo);
    for (let m = 0; m < 2 * 60 + 20; m += 40) await flush(rollups, minutes('ot3', m, m + 40));
    const range = (m: number) => ({ fromMs: D0 + m * MIN, toMs: D0 + 2 * HOUR + 30 * MIN });
    await expectTrue(metrics, 'ot3', range(1));
    expect(await expectTrue(metrics, 'ot3', range(2))).toEqual([]);
    // The backfill's write (models/history.ts): windows with other values, then the rollup and the report of sealAfterBatch.
    await sink.insertWindowsAndLate(minutes('ot3', 60, 2 * 60 + 25, 6), [], w.nextVersion());
    await versions.bump(await sealAfterBatch(repo, [channel('ot3')], D0 + HOUR, D0 + 2 * HOUR + 25 * MIN));
    await expectTrue(metrics, 'ot3', range(3)); // a reseal: the sealed hours and the partial first hour are read again
    expect(await expectTrue(metrics, 'ot3', range(4))).toEqual(['api.series-edge-windows', 'api.series-edge-windows']);
    // The processors' flush of the next hour moves the end past it: complete again.
    await flush(rollups, minutes('ot3', 2 * 60 + 25, 3 * 60 + 5));
    const next = (m: number) => ({ fromMs: D0 + m * MIN, toMs: D0 + 3 * HOUR + 5 * MIN });
    await expectTrue(metrics, 'ot3', next(5));
    expect(await expectTrue(metrics, 'ot3', next(6))).toEqual([]);
  });
});
