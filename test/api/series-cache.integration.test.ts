import type { Producer } from 'kafkajs';
import { createIdempotentProducer } from '../../shared/kafka/kafka.client';
import { channelKey } from '../../shared/kafka/topics';
import { DataVersions } from '../../shared/redis/data-version';
import { MetricsRepository, SeriesRow, windowSeriesQuery } from '../../api/metrics/metrics.repository';
import { SeriesCache } from '../../api/metrics/series.cache';
import type { TimeRange } from '../../api/schemas/common.schemas';
import { createProcessor } from '../../processors/processor.wiring';
import type { ProcessorService } from '../../processors/processor.service';
import { ProcessorClickHouseSink } from '../../processors/sink/clickhouse.sink';
import type { ClosedWindow } from '../../processors/state/window.accumulator';
import { backfillHistory } from '../../models/history';
import { createWorld } from '../../platforms/simulator/world';
import { FixtureEvent, produceEvents, T0 } from '../processors/processor-fixtures';
import { apiHarness, type ApiHarness } from '../support/api.harness';
import { eventually } from '../support/stack';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const sc1 = { platform: 'twitch', channelId: 'sc1', userId: 'alice' };

/** Snapshots of sc1 every 30 s over [fromMin, toMin) with `viewers`. */
const snapshots = (fromMin: number, toMin: number, viewers: number, tag: string): FixtureEvent[] =>
  Array.from({ length: (toMin - fromMin) * 2 }, (_, i) => {
    const t = T0 + fromMin * MIN + i * 30_000 + 5_000;
    return {
      topic: 'snapshots', key: channelKey(sc1.platform, sc1.channelId), t,
      value: { ...sc1, eventId: `${tag}-${i}`, observedAt: t, live: true, viewers, streamId: 'S', startedAt: T0, title: 'cache', category: null, language: null, source: 'poll' },
    };
  });

/** A window written straight into metrics_1m, as no writer of ours would: without bumping the version. */
const stray = (minute: number): ClosedWindow => ({
  platform: 'twitch', channelId: 'sc1', userId: 'alice', windowStart: T0 + minute * MIN, samples: 2, avgViewers: 9999, peakViewers: 9999, minViewers: 9999,
  viewerMinutes: 9999, followers: null, followerDelta: 0, chatMessages: 0, uniqueChatters: 0, engagementRate: 0, messagesPerViewerMinute: 0, live: true, streamId: 'S',
});

/**
 * The API's series cache (api/metrics/series.cache.ts) is never stale: a result is served from memory
 * only while the channel's data version in Redis is unchanged, and every writer — the processors' flush
 * writer (metrics_1m + rollup), the backfill — bumps it after its ClickHouse write. Proven here by
 * writing a row *without* a bump (the API keeps answering from its cache) and then writing through the
 * real writers (the next read has every row). Ownership is checked before the cache, per request.
 */
describe('series cache, invalidated by the writers (real Kafka, Registry, ClickHouse, Redis)', () => {
  let h: ApiHarness;
  let processor: ProcessorService;
  let producer: Producer;
  let versions: DataVersions;

  const get = async (path: string, user: string) => {
    const res = await fetch(`${h.api.url}${path}`, { headers: { authorization: `Bearer ${h.tokenOf[user]}` } });
    return { status: res.status, body: (await res.json()) as { points: Array<{ start: string; avgViewers: number | null; peakViewers: number; liveMinutes: number }> } };
  };
  /** The same series computed directly from metrics_1m, no cache. */
  const direct = async (channelId: string, r: TimeRange, step: number) => {
    const q = windowSeriesQuery({ platform: 'twitch', channelId }, r, step);
    return (await h.repo.query<SeriesRow>('test direct series', q.query, q.params)).map((x) => ({ avgViewers: x.avgViewers, peakViewers: x.peakViewers, liveMinutes: x.liveMinutes }));
  };
  const figures = (b: Awaited<ReturnType<typeof get>>['body']) => b.points.map((p) => ({ avgViewers: p.avgViewers, peakViewers: p.peakViewers, liveMinutes: p.liveMinutes }));
  const windowsOf = async (channelId: string) =>
    Number((await h.repo.query<{ n: number }>('test count', 'SELECT count() AS n FROM (SELECT DISTINCT window_start FROM metrics_1m WHERE channel_id = {c:String})', { c: channelId }))[0]!.n);

  beforeAll(async () => {
    h = await apiHarness({ users: { alice: 'Alice', bob: 'Bob' }, env: { PROCESSOR_ALLOWED_LATENESS_SECONDS: '60', PROCESSOR_FLUSH_INTERVAL_MS: '100' } });
    await h.connect('alice', 'twitch', 'sc1');
    await h.connect('bob', 'twitch', 'sc2');
    versions = new DataVersions(h.redis, h.stack.rt.config.REDIS_KEY_PREFIX);
    processor = createProcessor(h.stack.rt);
    await processor.start();
    producer = createIdempotentProducer(h.stack.rt.kafka);
    await producer.connect();
    await h.start();
  }, 120_000);
  afterAll(async () => {
    await producer?.disconnect();
    await processor?.close();
    await h?.close();
  });

  it('a processors write after a cached read: the next read has the new windows (a write without a bump is not seen)', async () => {
    const range = { fromMs: T0, toMs: T0 + HOUR };
    const path = `/v1/channels/twitch/sc1/metrics?from=${new Date(range.fromMs).toISOString()}&to=${new Date(range.toMs).toISOString()}&granularity=1m`;
    await produceEvents(h.stack.rt, producer, snapshots(0, 6, 100, 'a'));
    await eventually(() => windowsOf('sc1'), (n) => n >= 3, 60_000);
    // Flushes may still be under way: read until two reads agree with ClickHouse (the second from the cache).
    await eventually(async () => JSON.stringify(figures((await get(path, 'alice')).body)) === JSON.stringify(await direct('sc1', range, 60)), (ok) => ok, 30_000);
    const cached = await get(path, 'alice');
    expect(cached.status).toBe(200);
    expect(cached.body.points.length).toBeGreaterThanOrEqual(3);

    // Minute 30 written straight into ClickHouse, no version bump: the API answers from its cache.
    await new ProcessorClickHouseSink(h.repo).insertWindowsAndLate([stray(30)], [], Date.now());
    expect((await direct('sc1', range, 60)).length).toBe(cached.body.points.length + 1);
    expect((await get(path, 'alice')).body).toEqual(cached.body);

    // The processors close more windows of sc1 (and bump its version): the next read has all of them.
    const before = await windowsOf('sc1');
    await produceEvents(h.stack.rt, producer, snapshots(6, 12, 500, 'b'));
    await eventually(() => windowsOf('sc1'), (n) => n >= before + 4, 60_000);
    const after = await eventually(async () => (await get(path, 'alice')).body, (b) => b.points.some((p) => p.avgViewers === 500) && b.points.some((p) => p.avgViewers === 9999), 30_000);
    // Settled: the figures equal those computed from metrics_1m directly, the stray minute included.
    await eventually(async () => JSON.stringify(figures((await get(path, 'alice')).body)) === JSON.stringify(await direct('sc1', range, 60)), (ok) => ok, 30_000);
    expect(after.points.length).toBeGreaterThan(cached.body.points.length + 1);
  }, 180_000);

  it('ownership is checked per request before the cache: bob gets 403 for alice\'s cached series, alice 403 for bob\'s', async () => {
    const q = `from=${new Date(T0).toISOString()}&to=${new Date(T0 + HOUR).toISOString()}&granularity=1m`;
    expect((await get(`/v1/channels/twitch/sc1/metrics?${q}`, 'alice')).status).toBe(200);
    expect((await get(`/v1/channels/twitch/sc1/metrics?${q}`, 'bob')).status).toBe(403);
    expect((await get(`/v1/channels/twitch/sc2/metrics?${q}`, 'bob')).status).toBe(200);
    expect((await get(`/v1/channels/twitch/sc2/metrics?${q}`, 'alice')).status).toBe(403);
  });

  it('a backfill after a cached read: the next read has the backfilled history (hourly, over the rollup)', async () => {
    const world = createWorld({ seed: 5, channels: 2 });
    const ch = world.channels[0]!;
    await h.connect('alice', ch.platform, ch.channelId);
    const to = Math.floor(Date.now() / HOUR) * HOUR - DAY;
    const range = { fromMs: to - 3 * DAY, toMs: to };
    const path = `/v1/channels/${ch.platform}/${ch.channelId}/metrics?from=${new Date(range.fromMs).toISOString()}&to=${new Date(range.toMs).toISOString()}&granularity=1h`;
    const dataVersions = new DataVersions(h.redis, h.stack.rt.config.REDIS_KEY_PREFIX);
    await backfillHistory(h.repo, world, { fromMs: to - DAY, toMs: to, channelIds: [ch.channelId], seed: 1, version: 10, dataVersions });
    const first = await get(path, 'alice');
    expect(first.status).toBe(200);
    expect((await get(path, 'alice')).body).toEqual(first.body);
    const v = await versions.read(ch);
    // Two more days before it, rewritten with other noise: a backfill bumps the channel's version.
    await backfillHistory(h.repo, world, { fromMs: to - 3 * DAY, toMs: to, channelIds: [ch.channelId], seed: 2, sessionNoise: 0.3, version: 20, dataVersions });
    expect(Number(await versions.read(ch))).toBe(Number(v) + 1);
    const second = await get(path, 'alice');
    expect(second.body).not.toEqual(first.body);
    const q = windowSeriesQuery({ platform: ch.platform, channelId: ch.channelId }, range, 3600);
    const expected = (await h.repo.query<SeriesRow>('test direct', q.query, q.params)).map((x) => ({ start: new Date(x.bucket.replace(' ', 'T') + 'Z').toISOString(), peakViewers: x.peakViewers, liveMinutes: x.liveMinutes }));
    expect(second.body.points.map((p) => ({ start: p.start, peakViewers: p.peakViewers, liveMinutes: p.liveMinutes }))).toEqual(expected);
  }, 120_000);

  it('the cache holds at most maxRows rows (+1 per entry), least recently used out first; ranges equal to the minute share an entry', async () => {
    const metrics = new MetricsRepository(h.repo);
    const cache = new SeriesCache(metrics, versions, { maxRows: 40, maxAgeMs: 60_000 });
    const c = { platform: 'twitch', channelId: 'sc1' };
    const r = (fromMin: number, toMin: number): TimeRange => ({ fromMs: T0 + fromMin * MIN, toMs: T0 + toMin * MIN });
    const a = await cache.series(c, r(0, 12), 60); // ~12 rows
    await cache.series(c, r(0, 11), 60);
    await cache.series(c, r(0, 10), 60);
    expect(cache.size.rows).toBeLessThanOrEqual(40);
    expect(cache.size.entries).toBe(3);
    // Same windows to the minute (from/to inside the same minute): one entry, a hit.
    const hits = cache.stats.hits;
    expect(await cache.series(c, { fromMs: r(0, 10).fromMs - 59_000, toMs: r(0, 10).toMs - 1 }, 60)).toEqual(await cache.series(c, r(0, 10), 60));
    expect(cache.stats.hits).toBe(hits + 2);
    await cache.series(c, r(1, 12), 60);
    expect(cache.size.rows).toBeLessThanOrEqual(40);
    expect(cache.size.entries).toBe(3);
    // r(0, 12) was the least recently used: evicted, so reading it again queries (a miss), same figures.
    const misses = cache.stats.misses;
    expect(await cache.series(c, r(0, 12), 60)).toEqual(a);
    expect(cache.stats.misses).toBe(misses + 1);
    // A result larger than the bound is not cached at all.
    await cache.series(c, r(0, 60 * 24), 60);
    expect(cache.size.rows).toBeLessThanOrEqual(40);
  });
});
