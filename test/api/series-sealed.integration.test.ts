import type { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import type { DataVersions } from '../../shared/redis/data-version';
import { MetricsRepository, READ_AHEAD_QUERY, SeriesRow, windowSeriesQuery } from '../../api/metrics/metrics.repository';
import { SealedHours } from '../../api/metrics/sealed-hours';
import type { TimeRange } from '../../api/schemas/common.schemas';
import { RollupWriter } from '../../processors/sink/rollup.writer';
import type { ClosedWindow } from '../../processors/state/window.accumulator';
import { backfillHistory, channelHistoryRows } from '../../models/history';
import { createWorld } from '../../platforms/simulator/world';
import { expectSameSeries, minuteWindows, seriesFromWindows, writersStack } from './series-fixtures';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const D0 = Date.UTC(2026, 10, 10);

const minutes = (channelId: string, from: number, to: number, bump = 0) => minuteWindows(channelId, D0, from, to, bump);

/**
 * The API's sealed hours (api/metrics/sealed-hours.ts) against the real writers: the processors'
 * flush path (metrics_1m, then RollupWriter, then DataVersions.bump with the flush's windows — the
 * order of processors/sink/flush.writer.ts; this suite's API keeps no open tail) and the backfill (models/history.ts). A miss reads only
 * what is not sealed or not yet kept; the result must equal the series from metrics_1m alone after
 * contiguous sealing (new hours seen, sealed version unchanged), after a replay into a sealed hour and
 * after a backfill over sealed days (both change the sealed version, and the kept hours are read
 * again), and from an empty cache (a restart).
 */
describe('sealed hours kept by the API, against the writers (real ClickHouse, Redis)', () => {
  const w = writersStack();
  let repo: ClickHouseRepository;
  let versions: DataVersions;
  beforeAll(() => ({ repo, versions } = w));
  const channel = (channelId: string) => ({ platform: 'twitch', channelId });
  const flush = (rollups: RollupWriter, windows: ClosedWindow[]) => w.flush(rollups, windows);
  const fromWindows = (channelId: string, range: TimeRange, step: number) => seriesFromWindows(repo, channel(channelId), range, step);
  /** The route's read: versions from Redis first, then the repository with the kept sealed hours. */
  const read = async (metrics: MetricsRepository, channelId: string, range: TimeRange, step: number) =>
    metrics.series(channel(channelId), range, step, await versions.readVersions(channel(channelId)));

  const expectSeriesOfWindows = async (metrics: MetricsRepository, id: string, range: TimeRange) => {
    for (const step of [3600, 86400]) expectSameSeries(await read(metrics, id, range, step), await fromWindows(id, range, step));
  };

  it('contiguous sealing: new hours are seen (read alone), the sealed version stays; a replay into a sealed hour changes it and is seen', async () => {
    const sealed = new SealedHours({ maxRows: 100_000, maxAgeMs: 600_000 });
    const metrics = new MetricsRepository(repo, { sealed });
    const rollups = new RollupWriter(repo);
    // 30 hours in flushes of 90 minutes (each seals the hours before its newest window's).
    for (let m = 0; m < 30 * 60; m += 90) await flush(rollups, minutes('ss1', m, m + 90));
    const v1 = await versions.readVersions(channel('ss1'));
    expect(v1.sealed?.endMs).toBe(D0 + 29 * HOUR);
    const range = { fromMs: D0 + 7 * MIN, toMs: D0 + 30 * HOUR };
    await expectSeriesOfWindows(metrics, 'ss1', range);
    expect(sealed.stats.rowsRead).toBe(29 - 1); // hours 1..28 (hour 0 is the range's partial first hour)

    // Three more hours, sealed contiguously: the sealed version is unchanged, the end moved, only the new hours are read.
    for (let m = 30 * 60; m < 33 * 60; m += 45) await flush(rollups, minutes('ss1', m, m + 45));
    const v2 = await versions.readVersions(channel('ss1'));
    expect(v2.sealed?.version).toBe(v1.sealed?.version);
    expect(v2.sealed?.endMs).toBe(D0 + 32 * HOUR);
    expect(v2.data).not.toBe(v1.data);
    const longer = { fromMs: range.fromMs, toMs: D0 + 33 * HOUR };
    const before = sealed.stats.rowsRead;
    await expectSeriesOfWindows(metrics, 'ss1', longer);
    expect(sealed.stats.rowsRead - before).toBe(3); // hours 29..31, once for both steps

    // A replay of hour 5 with other values (newer version), through the same flush path: a reseal.
    const old = (await read(metrics, 'ss1', longer, 3600)).find((r) => r.bucket === '2026-11-10 05:00:00')!;
    await flush(rollups, minutes('ss1', 5 * 60, 6 * 60, 7));
    const v3 = await versions.readVersions(channel('ss1'));
    expect(v3.sealed?.version).not.toBe(v2.sealed?.version);
    expect(v3.sealed?.endMs).toBe(v2.sealed?.endMs);
    const now = (await read(metrics, 'ss1', longer, 3600)).find((r) => r.bucket === '2026-11-10 05:00:00')!;
    expect(now.chatMessages).toBeGreaterThan(old.chatMessages); // the replay changed the figures, and they are seen
    await expectSeriesOfWindows(metrics, 'ss1', longer);
    // A replay into the range's partial first hour, whose minute rows are kept with the sealed hours: seen too.
    const head = (await read(metrics, 'ss1', longer, 3600))[0]!;
    await flush(rollups, minutes('ss1', 0, 60, 3));
    expect((await read(metrics, 'ss1', longer, 3600))[0]!.chatMessages).toBeGreaterThan(head.chatMessages);
    await expectSeriesOfWindows(metrics, 'ss1', longer);

    // A restart: an empty cache is a full read, same figures.
    const fresh = new MetricsRepository(repo, { sealed: new SealedHours({ maxRows: 100_000, maxAgeMs: 600_000 }) });
    await expectSeriesOfWindows(fresh, 'ss1', longer);
    await expectSeriesOfWindows(fresh, 'ss1', { fromMs: D0 + 2 * HOUR + 30 * MIN, toMs: D0 + 31 * HOUR + 10 * MIN });
  });

  it('a range ending in the past: its sealed partial last hour is read whole once and kept, so the next misses read no ClickHouse; a replay into it is seen', async () => {
    const metrics = new MetricsRepository(repo, { sealed: new SealedHours({ maxRows: 100_000, maxAgeMs: 600_000 }) });
    const rollups = new RollupWriter(repo);
    for (let m = 0; m < 12 * 60; m += 100) await flush(rollups, minutes('ss3', m, Math.min(m + 100, 12 * 60)));
    const range = (k: number) => ({ fromMs: D0 + 10 * MIN + k * MIN, toMs: D0 + 8 * HOUR + 20 * MIN + k * MIN });
    const queries = async (k: number) => {
      const spy = jest.spyOn(repo, 'queryCompact');
      await expectSeriesOfWindows(metrics, 'ss3', range(k));
      const names = spy.mock.calls.map((c) => c[0]);
      spy.mockRestore();
      return names;
    };
    expect(await queries(0)).toContain('api.series-edge-windows'); // the partial first and last hours, read whole
    expect(await queries(1)).toEqual([]);
    expect(await queries(7)).toEqual([]);
    // A replay into hour 8 (the range's partial last hour): a reseal, so the kept minutes are read again, with the new figures.
    await flush(rollups, minutes('ss3', 8 * 60, 8 * 60 + 40, 11));
    expect(await queries(8)).toContain('api.series-edge-windows');
    expect(await queries(9)).toEqual([]);

    // Concurrent misses whose new edge hours are the same share one read of them.
    const spy = jest.spyOn(repo, 'queryCompact');
    const step = 3600;
    const both = await Promise.all([range(70), range(75)].map(async (r) => ({ r, rows: await read(metrics, 'ss3', r, step) })));
    expect(spy.mock.calls.filter((c) => c[0] === 'api.series-edge-windows')).toHaveLength(1);
    spy.mockRestore();
    for (const { r, rows } of both) expectSameSeries(rows, await fromWindows('ss3', r, step));
  });

  it('a range panned back a minute at a time: once its direction shows, the next edge hours are read ahead, so later crossings read no ClickHouse on the request path', async () => {
    const sealed = new SealedHours({ maxRows: 100_000, maxAgeMs: 600_000 });
    const metrics = new MetricsRepository(repo, { sealed });
    const rollups = new RollupWriter(repo);
    for (let m = 0; m < 12 * 60; m += 100) await flush(rollups, minutes('ss5', m, Math.min(m + 100, 12 * 60)));
    // Edges in hours 6 and 10 at k = 0; the range crosses into hours 5 and 9 at k = 31, 4 and 8 at k = 91, 3 and 7 at k = 151.
    const range = (k: number) => ({ fromMs: D0 + 6 * HOUR + 30 * MIN - k * MIN, toMs: D0 + 10 * HOUR + 30 * MIN - k * MIN });
    const queries = async (k: number) => {
      const spy = jest.spyOn(repo, 'queryCompact');
      await expectSeriesOfWindows(metrics, 'ss5', range(k));
      const names = spy.mock.calls.map((c) => c[0]);
      spy.mockRestore();
      await sealed.settled();
      return { request: names.filter((n) => n !== READ_AHEAD_QUERY).sort(), ahead: names.filter((n) => n === READ_AHEAD_QUERY).length };
    };
    const first = ['api.series-edge-windows', 'api.series-sealed-hours'];
    expect(await queries(0)).toEqual({ request: first, ahead: 0 }); // hours 6 and 10 read whole, 7–9 sealed; no direction yet
    expect(await queries(1)).toEqual({ request: [], ahead: 0 });
    // The first crossing reads hours 5 and 9 and sealed hour 6 itself; hours 6 and 10 kept say the range moves back:
    // the minutes of 4 and 8 and sealed hour 5 are read ahead (two reads).
    expect(await queries(31)).toEqual({ request: first, ahead: 2 });
    expect(await queries(60)).toEqual({ request: [], ahead: 0 });
    for (const k of [91, 151]) expect(await queries(k)).toEqual({ request: [], ahead: 2 });
    // Moving on again: hour 4 and 8 (kept, read ahead before) and the next ones on that side.
    expect((await queries(100)).request).toEqual([]);
    // A replay into hour 3 (read ahead, kept): a reseal, so nothing kept is used and the figures are the new ones.
    await flush(rollups, minutes('ss5', 3 * 60, 3 * 60 + 40, 5));
    expect((await queries(152)).request).toContain('api.series-edge-windows');
  });

  it("a replay by a writer whose sealed end is behind (another process sealed further): the hour it recomputes only with the channel's next write is seen then", async () => {
    const sealed = new SealedHours({ maxRows: 100_000, maxAgeMs: 600_000 });
    const metrics = new MetricsRepository(repo, { sealed });
    const a = new RollupWriter(repo);
    await flush(a, minutes('ss2', 0, 3 * 60 + 10)); // a: sealed to hour 3
    await flush(new RollupWriter(repo), minutes('ss2', 3 * 60 + 10, 8 * 60 + 5)); // b: sealed to hour 8
    const range = { fromMs: D0, toMs: D0 + 9 * HOUR };
    await expectSeriesOfWindows(metrics, 'ss2', range);
    // a, still believing the rollup ends at hour 3, gets a replay of hour 5 with other values: it recomputes hours 3–4 only.
    await flush(a, minutes('ss2', 5 * 60, 6 * 60, 7));
    await read(metrics, 'ss2', range, 3600); // the API keeps hour 5 as the rollup has it now
    // a's next write (newer windows) recomputes hour 5: the sealed version changes again, so the kept hour is read again.
    await flush(a, minutes('ss2', 8 * 60 + 5, 8 * 60 + 30));
    await expectSeriesOfWindows(metrics, 'ss2', range);
  });

  it('a backfill over sealed days changes the sealed version and is seen; the kept hours serve the ranges of other steps and lengths', async () => {
    const sealed = new SealedHours({ maxRows: 100_000, maxAgeMs: 600_000 });
    const metrics = new MetricsRepository(repo, { sealed });
    const world = createWorld({ seed: 7, channels: 8 });
    // A fixed day, and a channel that streamed on both of its days (a backfill of a day without streams writes nothing).
    const to = D0 + 20 * DAY;
    const rowsIn = (id: string, fromMs: number, toMs: number) => channelHistoryRows(world, id, { fromMs, toMs }).metrics.length;
    const ch = world.channels.find((x) => rowsIn(x.channelId, to - 2 * DAY, to - DAY) > 0 && rowsIn(x.channelId, to - DAY, to) > 0)!;
    await backfillHistory(repo, world, { fromMs: to - 2 * DAY, toMs: to, channelIds: [ch.channelId], seed: 1, version: 10, dataVersions: versions });
    const v1 = await versions.readVersions(ch);
    expect(v1.sealed?.endMs).toBe(to);
    const range = { fromMs: to - 2 * DAY + 13 * MIN, toMs: to + 20 * MIN };
    const readIt = async (r: TimeRange, step: number) => metrics.series(ch, r, step, await versions.readVersions(ch));
    const expectSame = async (r: TimeRange) => {
      for (const step of [3600, 86400]) {
        const q = windowSeriesQuery(ch, r, step);
        expectSameSeries(await readIt(r, step), await repo.query<SeriesRow>('series from windows', q.query, q.params));
      }
    };
    await expectSame(range);
    const first = await readIt(range, 3600);
    // The first day again, with other noise: a reseal of sealed hours.
    await backfillHistory(repo, world, { fromMs: to - 2 * DAY, toMs: to - DAY, channelIds: [ch.channelId], seed: 2, sessionNoise: 0.3, version: 20, dataVersions: versions });
    const v2 = await versions.readVersions(ch);
    expect(v2.sealed?.version).not.toBe(v1.sealed?.version);
    expect(v2.sealed?.endMs).toBe(to);
    expect(await readIt(range, 3600)).not.toEqual(first);
    await expectSame(range);
    await expectSame({ fromMs: to - DAY - 5 * HOUR - 1 * MIN, toMs: to - 3 * HOUR + 59 * MIN });
  }, 120_000);
});
