/**
 * REST API benchmark (issues 6, 19.2): `npx tsx bench/api.bench.ts [--channels 120] [--days 6] [--history-days 400]
 * [--connections 8] [--seconds 30] [--rounds 5] [--keep]` against the native stack (`bash infra/stack.sh up`).
 *
 *  1. A bench database of its own gets metrics_1m rows up to the current minute: the measured channel
 *     (twitch 1000) HISTORY_DAYS × 1440 windows, CHANNELS − 1 others DAYS × 1440 each, plus 5 % older
 *     duplicate versions that reads must de-duplicate (defaults: 1.68M rows over 120 channels), generated
 *     by INSERT … SELECT FROM numbers(); then metrics_1h_rollup is sealed as the processors would have
 *     left it: every hour before the current one (shared/clickhouse/rollups.ts), and reported as the
 *     flushes report it (the channels' sealed state and open tails in Redis, shared/redis/data-version.ts).
 *  2. Measured through the whole API — auth, rate limit, ownership, validation, ClickHouse, JSON — with
 *     autocannon (load generated in a worker thread), CONNECTIONS concurrent connections:
 *       - GET /v1/channels/twitch/1000/metrics?granularity=1h over the last 30 days (720 buckets, the
 *         current hour and the partial first hour from metrics_1m, the rest from the rollup);
 *       - the same with granularity=1d over the last 400 days.
 *     Each four times: warm — the same range again and again, answered from the API's series cache
 *     (valid until the channel is written: api/metrics/series.cache.ts) —; miss after a write — the same
 *     range up to now while the channel's newest window is re-reported about every millisecond (a flush
 *     of its open hour: data version bumped, the row to its open tail), so nearly every request finds a
 *     newer version than it cached (the share is printed), the sealed hours kept (api/metrics/sealed-hours.ts)
 *     and the minutes after them from the open tail (api/README.md "Open tail"): the common case of a live
 *     channel —; misses of ranges ending in the past — every request one minute further back (a new
 *     cache key), its partial first and last hours sealed: read whole from metrics_1m when new (every
 *     60th request) and kept —; fully cold — those misses
 *     on a second API that keeps no sealed hours (API_SERIES_SEALED_MAX_ROWS=0: every miss reads all of
 *     its range, as the first miss after a start, a reseal or the entry's age does).
 *  3. Baselines, same run, same concurrency, done directly with @clickhouse/client: the reads of a miss
 *     after a write (`readSeriesSealed` with the sealed hours kept and the open tail), of a fully cold
 *     one (`readSeriesSealed`, nothing kept), the full read (`readSeries`, the route's reads before the
 *     sealed hours; what the fully cold API runs), the one-SQL form (`seriesQuery`, what the CSV/Parquet
 *     export runs), and the "before": the 30-day hourly series computed from metrics_1m alone
 *     (windowSeriesQuery, what the route ran before the rollup). Sides alternate in ROUNDS rounds
 *     (SECONDS in total per side, half that for the one-SQL form, the before, the fully cold sides and the ranges ending in the past) and the figures are
 *     medians over rounds, so a change of machine load hits all alike. Wall time ≈ 12.5 × SECONDS measured
 *     + warm-ups + the data (≈ 6 s on a quiet box) + tsx start: under two minutes at report.ts's
 *     `--seconds 6 --rounds 3`.
 * Server, load generator and ClickHouse share this machine's cores; absolute figures are a floor.
 */
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { ApiTokenStore } from '../shared/auth/api-tokens';
import { ClickHouseRepository, createClickHouse } from '../shared/clickhouse/clickhouse.repository';
import { createLogger } from '../shared/logging/logger';
import { DataVersions } from '../shared/redis/data-version';
import { createRedis } from '../shared/redis/redis';
import { bootstrap, createRuntime } from '../shared/runtime';
import { parseArgs } from '../shared/lifecycle/process.contract';
import { startApi } from '../api/api.service';
import { ConnectionRepository } from '../platforms/connections/connection.repository';
import { TokenCipher } from '../platforms/tokens/token-cipher';
import { type ChannelKey, readSeries, readSeriesSealed, seriesQuery, windowSeriesQuery } from '../api/metrics/metrics.repository';
import { SealedHours } from '../api/metrics/sealed-hours';
import type { TimeRange } from '../api/schemas/common.schemas';
import { floorHour, type PartRow, resealHours, WINDOW_COLUMNS } from '../shared/clickhouse/rollups';
import { chDateTime } from '../shared/clickhouse/tables';
import { testConfig } from '../test/support/stack';
import { emitBenchResult, figure } from './bench-result';

const args = parseArgs(process.argv.slice(2));
const CHANNELS = Number(args.flags.channels ?? 120);
const DAYS = Number(args.flags.days ?? 6);
const HISTORY_DAYS = Number(args.flags['history-days'] ?? 400);
const CONNECTIONS = Number(args.flags.connections ?? 8);
const SECONDS = Number(args.flags.seconds ?? 30);
const ROUNDS = Number(args.flags.rounds ?? 5);
/** Each measured side (warm, cold, direct) of a series gets SECONDS in all, SECONDS / ROUNDS a round. */
const SIDE_SECONDS = SECONDS / ROUNDS;
const DAY = 86400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const f = (n: number, d = 2) => n.toFixed(d);
interface Lat { p50: number; p99: number; rps: number }

async function main() {
  const config = testConfig({ CLICKHOUSE_DATABASE: 'bench_api', KAFKA_TOPIC_PREFIX: 'bench-api', API_RATE_LIMIT_PER_MINUTE: '1000000000', LOG_LEVEL: 'warn' });
  const rt = createRuntime(config, createLogger('warn'));
  await bootstrap(rt);
  const repo = new ClickHouseRepository(rt.clickhouseSettings);

  // 1. data up to the current minute, one window per minute per channel
  const end = Math.floor(Date.now() / MINUTE) * MINUTE;
  const t0 = Date.now();
  await repo.command('bench truncate', 'TRUNCATE TABLE IF EXISTS metrics_1m');
  await repo.command('bench truncate', 'TRUNCATE TABLE IF EXISTS metrics_1h_rollup');
  // Channel `first + intDiv(n, perChannel) % channels`, minute `n % perChannel` of its span ending at `end`.
  const insert = (name: string, first: number, channels: number, days: number, version: string, every: number) => {
    const perChannel = days * 1440;
    return repo.command(
      name,
      `INSERT INTO metrics_1m (platform, channel_id, user_id, window_start, samples, avg_viewers, peak_viewers, min_viewers, viewer_minutes,
                              followers, follower_delta, chat_messages, unique_chatters, engagement_rate, live, version)
       SELECT 'twitch', toString({first:UInt32} + intDiv(n, {perChannel:UInt32}) % {channels:UInt32}), 'bench-user',
              toDateTime({start:UInt32}, 'UTC') + toIntervalMinute(n % {perChannel:UInt32}) AS ws,
              live * 4, live * (100 + (n % 1440) / 10), live * (110 + (n % 1440) / 10), live * (90 + (n % 1440) / 10), live * (100 + (n % 1440) / 10),
              if(n % 10 = 0, 10000 + intDiv(n % {perChannel:UInt32}, 10), NULL), live, live * (n % 7), live * (n % 5),
              if(live = 1, (n % 5) / (100 + (n % 1440) / 10), 0), live, ${version}
       FROM (SELECT number * {every:UInt32} AS n, if((n % 1440) BETWEEN 1080 AND 1380, 1, 0) AS live FROM numbers({rows:UInt64}))`,
      { first, perChannel, channels, start: (end - days * DAY) / 1000, rows: Math.floor((channels * perChannel) / every), every },
    );
  };
  for (const [what, version, every] of [['rows', '2', 1], ['duplicates', '1', 20]] as const) {
    await insert(`bench ${what} (history)`, 1000, 1, HISTORY_DAYS, version, every);
    await insert(`bench ${what} (others)`, 1001, CHANNELS - 1, DAYS, version, every);
  }
  const [{ c }] = await repo.query<{ c: number }>('bench count', 'SELECT count() AS c FROM metrics_1m');
  const [{ n }] = await repo.query<{ n: number }>('bench channels', 'SELECT uniqExact(channel_id) AS n FROM metrics_1m');
  console.log(`metrics_1m: ${c.toLocaleString('en')} rows over ${n} channels (channel 1000: ${HISTORY_DAYS} days, ${CHANNELS - 1} others: ${DAYS} days; 5 % duplicates) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  // The rollup as the processors leave it: every hour before the current one sealed.
  const t1 = Date.now();
  const all = Array.from({ length: CHANNELS }, (_, i) => ({ platform: 'twitch', channelId: String(1000 + i) }));
  await resealHours(repo, all.slice(0, 1), 0, floorHour(end));
  for (let i = 1; i < all.length; i += 40) await resealHours(repo, all.slice(i, i + 40), 0, floorHour(end));
  const [{ r }] = await repo.query<{ r: number }>('bench rollup count', 'SELECT count() AS r FROM metrics_1h_rollup');
  console.log(`metrics_1h_rollup: ${r.toLocaleString('en')} hours sealed in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  // …and reported as the processors' flushes report it (shared/redis/data-version.ts): the hours before the open hour
  // (without rows: written here by SQL), then the open hour's windows with their rows as written, as its flushes
  // report them (processors/sink/clickhouse.sink.ts `windowReports`) — the channels' sealed state and open tails.
  const redis = createRedis(config.REDIS_URL);
  const versions = new DataVersions(redis, config.REDIS_KEY_PREFIX);
  const openHour = floorHour(end - MINUTE);
  await versions.bump(all.map((ch) => ({ ...ch, windowStart: openHour - MINUTE, sealedTo: openHour - HOUR })));
  const openRows = await repo.queryCompact<[string, number, number, ...PartRow]>(
    'bench open hour',
    `SELECT channel_id, toUnixTimestamp(window_start) * 1000, version, ${WINDOW_COLUMNS} FROM metrics_1m
     WHERE window_start >= {open:DateTime('UTC')} ORDER BY channel_id, window_start, version`,
    { open: chDateTime(openHour) },
  );
  const reports = openRows.map(([channelId, windowStart, version, ...columns]) => ({ platform: 'twitch', channelId, windowStart, row: { version, columns } }));
  await versions.bump(reports);
  /** The measured channel's newest window as its last flush reported it: "a write" re-reports it (a flush of the open hour). */
  const newest = reports.filter((r) => r.channelId === '1000').at(-1)!;

  // 2. the API
  const tokens = new ApiTokenStore(redis, config.REDIS_KEY_PREFIX);
  await tokens.createUser('Bench', 'bench-user');
  const { token } = await tokens.createToken('bench-user');
  // The real ConnectionRepository (a Redis read per request, as in production).
  const connections = new ConnectionRepository(redis, config.REDIS_KEY_PREFIX, TokenCipher.fromKeyRing(config.TOKEN_ENCRYPTION_KEYS!));
  await connections.upsert({ userId: 'bench-user', platform: 'twitch', channelId: '1000', login: 'bench', displayName: 'Bench', scopes: [] }, { accessToken: 'a', refreshToken: null, expiresAt: null, scopes: [] });
  const api = await startApi(rt, { port: 0, predictions: null });
  // Fully cold: an API that keeps no sealed hours (API_SERIES_SEALED_MAX_ROWS=0), so every miss reads all of its range, as the
  // first miss of a channel after a start or a reseal does.
  const apiCold = await startApi(createRuntime({ ...config, API_SERIES_SEALED_MAX_ROWS: 0 }, createLogger('warn')), { port: 0, predictions: null });
  const client = createClickHouse(rt.clickhouseSettings);
  const channel = { platform: 'twitch', channelId: '1000' };

  const cannon = (path: string, duration: number) =>
    autocannon({ url: api.url + path, connections: CONNECTIONS, duration, headers: { authorization: `Bearer ${token}` }, workers: 1 });
  // Every request a different cache key (the range one more minute back each time): all misses. Each
  // autocannon run is a new worker whose shifts start again at one minute, so the channel's data version
  // is bumped first, as a flush of its newest minute does (the sealed version stays: new windows in the
  // open hour): entries of the previous round's ranges are outdated, not hits.
  const coldRequest = path.join(__dirname, 'api-cold-request.ts');
  const cannonCold = async (url: string, p: string, duration: number) => {
    await versions.bump([newest]);
    return autocannon({ url, connections: CONNECTIONS, duration, headers: { authorization: `Bearer ${token}` }, workers: 1, requests: [{ method: 'GET', path: p, setupRequest: coldRequest }] });
  };
  /**
   * A live channel's misses: the same range up to now, requested while its newest window is re-reported
   * (a flush of the open hour) about every millisecond — far more often than the processors flush a
   * channel — so a request almost always finds a data version newer than what it cached; requests
   * under one version share one read, as they do in production. Returns the share that missed.
   */
  const cannonWhileWriting = async (p: string, duration: number) => {
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await versions.bump([newest]);
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const { hits, misses } = { ...api.seriesStats.cache };
    const result = await autocannon({ url: api.url + p, connections: CONNECTIONS, duration, headers: { authorization: `Bearer ${token}` }, workers: 1 });
    writing = false;
    await writer;
    const missed = api.seriesStats.cache.misses - misses;
    return { result, missShare: missed / Math.max(1, missed + api.seriesStats.cache.hits - hits) };
  };
  /** CONNECTIONS loops of `once` for `seconds`. */
  const loop = async (once: () => Promise<unknown>, seconds: number): Promise<Lat> => {
    const lat: number[] = [];
    const until = Date.now() + seconds * 1000;
    const t = Date.now();
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (Date.now() < until) {
          const s0 = performance.now();
          await once();
          lat.push(performance.now() - s0);
        }
      }),
    );
    return { p50: pct(lat, 50), p99: pct(lat, 99), rps: lat.length / ((Date.now() - t) / 1000) };
  };
  /** One SQL text sent directly. */
  const direct = (q: { query: string; params: Record<string, unknown> }, seconds: number) =>
    loop(async () => (await client.query({ query: q.query, query_params: q.params, format: 'JSONEachRow' })).json(), seconds);
  /** What the route reads for a series, done directly: its queries through @clickhouse/client and the combination. */
  const runCompact = async <T extends unknown[]>(_name: string, query: string, params: Record<string, unknown>) =>
    (await client.query({ query, query_params: params, format: 'JSONCompactEachRow' })).json<T>();
  const directRead = (range: TimeRange, step: number, seconds: number) => loop(() => readSeries(runCompact, channel, range, step), seconds);
  /** The reads of a miss with the sealed hours kept (`kept`), or none kept (a new SealedHours each time), done directly; ranges shifted as the cold API requests are. */
  const openTail = (c: ChannelKey) => versions.readOpenTail(c);
  /** The reads of a live miss (the same range, sealed hours kept, the open tail), or of a fully cold one (nothing kept, ranges shifted as the cold API requests are), done directly. */
  const directSealed = async (range: TimeRange, step: number, seconds: number, kept: boolean) => {
    const state = (await versions.readVersions(channel)).sealed!;
    const cache = new SealedHours({ maxRows: 1_000_000, maxAgeMs: 3_600_000 });
    let k = 0;
    return loop(() => {
      const shift = ++k * MINUTE;
      if (kept) return readSeriesSealed(runCompact, channel, range, step, state, cache, openTail);
      return readSeriesSealed(runCompact, channel, { fromMs: range.fromMs - shift, toMs: range.toMs - shift }, step, state, new SealedHours({ maxRows: 1_000_000, maxAgeMs: 3_600_000 }));
    }, seconds);
  };
  const med = (xs: number[]) => pct(xs, 50);

  /** One series: route vs its own SQL sent directly, alternating rounds, medians. */
  async function measure(label: string, days: number, granularity: '1h' | '1d') {
    const range = { fromMs: end + MINUTE - days * DAY, toMs: end + MINUTE };
    const path = `/v1/channels/twitch/1000/metrics?from=${new Date(range.fromMs).toISOString()}&to=${new Date(range.toMs).toISOString()}&granularity=${granularity}`;
    const probe = await fetch(api.url + path, { headers: { authorization: `Bearer ${token}` } });
    const body = (await probe.json()) as { points: unknown[] };
    const step = granularity === '1h' ? 3600 : 86400;
    const q = seriesQuery(channel, range, step);
    const rows = (await (await client.query({ query: q.query, query_params: q.params, format: 'JSONEachRow' })).json()).length;
    const read = (await readSeries(runCompact, channel, range, step)).length;
    const sealedRead = (await readSeriesSealed(runCompact, channel, range, step, (await versions.readVersions(channel)).sealed!, new SealedHours({ maxRows: 1e6, maxAgeMs: 1e6 }))).length;
    if (probe.status !== 200 || rows !== body.points.length || read !== rows || sealedRead !== rows) throw new Error(`${label}: API ${probe.status} with ${body.points.length} buckets, direct ${read}, sealed ${sealedRead}, one SQL ${rows}`);
    console.log(`\n${label}: GET ${path}\n  → ${probe.status}, ${body.points.length} buckets`);
    await cannon(path, 1); // warm-up: JIT, ClickHouse caches, keep-alive sockets
    await directSealed(range, step, 1, true);
    await cannonCold(apiCold.url, path, 1);
    await cannonWhileWriting(path, 1);
    const rounds: Array<{ api: Lat; cold: Lat; past: Lat; direct: Lat; oneSql: Lat; fullCold: Lat; directKept: Lat; directEmpty: Lat; missShare: number }> = [];
    const lat = (a: autocannon.Result): Lat => {
      if (a.non2xx > 0 || a.errors > 0) throw new Error(`API answered ${a.non2xx} non-2xx and ${a.errors} errors`);
      return { p50: a.latency.p50, p99: a.latency.p99, rps: a.requests.average };
    };
    for (let i = 0; i < ROUNDS; i++) {
      // warm: the same range again and again (a dashboard refreshing it; cached until the channel is written)
      const warm = lat(await cannon(path, SIDE_SECONDS));
      // miss after a write: the range up to now while the channel is written, the sealed hours kept (the common case of a live channel)
      const live = await cannonWhileWriting(path, SIDE_SECONDS);
      const cold = lat(live.result);
      const directKept = await directSealed(range, step, SIDE_SECONDS, true);
      // misses of ranges ending in the past (a new one each request): the last partial hour is sealed, read from metrics_1m
      const past = lat(await cannonCold(api.url, path, SIDE_SECONDS / 2));
      // fully cold: those misses with nothing kept (a new API process, a reseal)
      // (half a side each: the slowest requests, ≈ 25/s, so that `npm run bench` stays within 5 minutes)
      const fullCold = lat(await cannonCold(apiCold.url, path, SIDE_SECONDS / 2));
      const directEmpty = await directSealed(range, step, SIDE_SECONDS / 2, false);
      const read = await directRead(range, step, SIDE_SECONDS);
      rounds.push({ api: warm, cold, past, direct: read, oneSql: await direct(q, SIDE_SECONDS / 2), fullCold, directKept, directEmpty, missShare: live.missShare });
    }
    const m = (side: 'api' | 'cold' | 'past' | 'direct' | 'oneSql' | 'fullCold' | 'directKept' | 'directEmpty', k: keyof Lat) => med(rounds.map((x) => x[side][k]));
    const ratio = (k: keyof Lat) => med(rounds.map((x) => x.api[k] / x.direct[k]));
    return { m, ratio, rounds };
  }

  const hourly = await measure('30-day hourly series', 30, '1h');
  const daily = await measure('400-day daily series', Math.min(400, HISTORY_DAYS), '1d');
  // The before: the 30-day hourly series from metrics_1m alone, direct (the route added ~10 % to it).
  const before = windowSeriesQuery(channel, { fromMs: end + MINUTE - 30 * DAY, toMs: end + MINUTE }, 3600);
  await direct(before, 1);
  const beforeRounds: Lat[] = [];
  for (let i = 0; i < ROUNDS; i++) beforeRounds.push(await direct(before, SIDE_SECONDS / 2));
  const b = (k: keyof Lat) => med(beforeRounds.map((x) => x[k]));

  console.log(`\n${CONNECTIONS} concurrent, ${ROUNDS} alternating rounds of ${f(SIDE_SECONDS, 1)} s per side, medians (Node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)})`);
  const rowsOf = (name: string, s: typeof hourly) => ([
    ['API warm (cached)', 'api'], ['API miss after a write', 'cold'], ['direct: reads of that miss', 'directKept'], ['API miss, range ending in the past', 'past'],
    ['API fully cold', 'fullCold'], ['direct: fully cold reads', 'directEmpty'], ['direct: full read', 'direct'], ['one-SQL form', 'oneSql'],
  ] as const).map(([label, side]) => [`${name}: ${label}`, f(s.m(side, 'p50')), f(s.m(side, 'p99')), f(s.m(side, 'rps'), 1)]);
  const table = [
    ['', 'p50 ms', 'p99 ms', 'req/s'],
    ...rowsOf('30-day 1h', hourly),
    ...rowsOf('400-day 1d', daily),
    ['before: 30-day 1h from 1m', f(b('p50')), f(b('p99')), f(b('rps'), 1)],
  ];
  for (const row of table) console.log(`  ${row[0]!.padEnd(40)}${row.slice(1).map((v) => v.padStart(10)).join('')}`);
  const met = (x: number, goal: number) => (x < goal ? 'met' : 'NOT met');
  console.log(`  goals: 30-day 1h API p99 < 50 ms → warm ${met(hourly.m('api', 'p99'), 50)}, miss after a write ${met(hourly.m('cold', 'p99'), 50)}, fully cold ${met(hourly.m('fullCold', 'p99'), 50)}; 400-day 1d API p99 < 100 ms → warm ${met(daily.m('api', 'p99'), 100)}, miss after a write ${met(daily.m('cold', 'p99'), 100)}, fully cold ${met(daily.m('fullCold', 'p99'), 100)}`);
  console.log('  warm = the same range repeated (cached until a write to the channel); miss after a write = the same range up to now while the channel\'s newest window is re-reported every ~1 ms (sealed hours kept, open tail from the reports)');
  console.log(`    share of those requests that missed the series cache (read, or joined a read in flight): 1h ${hourly.rounds.map((x) => f(x.missShare * 100, 0)).join(' / ')} %, 1d ${daily.rounds.map((x) => f(x.missShare * 100, 0)).join(' / ')} % (the rest: hits, no write since the last read)`);
  console.log('  range ending in the past = `from` and `to` a minute further back each request (all misses; every 60th finds new partial first and last hours, read whole from metrics_1m and kept); fully cold = those misses on an API keeping no sealed hours (a new process, a reseal)');
  console.log('  direct reads = readSeriesSealed of the live range with the sealed hours kept and the open tail / with nothing kept, shifted as the fully cold');
  console.log("  direct full read = readSeries (the route's reads before the sealed hours); one-SQL form = seriesQuery (the export's query)");
  console.log(`  per-round API p99 (1h): ${hourly.rounds.map((x) => f(x.api.p99, 1)).join(' ')}; (1d): ${daily.rounds.map((x) => f(x.api.p99, 1)).join(' ')}`);
  emitBenchResult({
    bench: 'api', params: { rows: c, channels: n, historyDays: HISTORY_DAYS, days: DAYS, connections: CONNECTIONS, seconds: SECONDS, rounds: ROUNDS },
    figures: [
      { ...figure('API p50 latency (30-day hourly series)', hourly.m('api', 'p50'), 'ms', "direct read p50 (the route's ClickHouse reads + combination)", hourly.m('direct', 'p50')), ratio: hourly.ratio('p50') },
      { ...figure('API p99 latency (30-day hourly series)', hourly.m('api', 'p99'), 'ms', "direct read p99 (the route's ClickHouse reads + combination)", hourly.m('direct', 'p99')), ratio: hourly.ratio('p99') },
      figure('API p99 latency, cache miss (30-day hourly series)', hourly.m('cold', 'p99'), 'ms', 'direct reads of that miss p99 (sealed hours kept)', hourly.m('directKept', 'p99')),
      figure('API p99 latency, cache misses of ranges ending in the past (30-day hourly series)', hourly.m('past', 'p99'), 'ms', 'API miss after a write p99 (range up to now)', hourly.m('cold', 'p99')),
      figure('API p99 latency, fully cold miss (30-day hourly series)', hourly.m('fullCold', 'p99'), 'ms', 'direct fully cold reads p99', hourly.m('directEmpty', 'p99')),
      figure('API p99 latency, fully cold miss (400-day daily series)', daily.m('fullCold', 'p99'), 'ms', 'direct fully cold reads p99', daily.m('directEmpty', 'p99')),
      figure('API p99 latency, cache miss (30-day hourly series) vs one SQL', hourly.m('cold', 'p99'), 'ms', 'one-SQL form (seriesQuery) direct p99', hourly.m('oneSql', 'p99')),
      figure('API p99 latency, cache miss (400-day daily series) vs one SQL', daily.m('cold', 'p99'), 'ms', 'one-SQL form (seriesQuery) direct p99', daily.m('oneSql', 'p99')),
      figure('API p99 latency (30-day hourly series) vs before', hourly.m('api', 'p99'), 'ms', 'before: series from metrics_1m alone, direct p99', b('p99')),
      { ...figure('API p50 latency (400-day daily series)', daily.m('api', 'p50'), 'ms', "direct read p50 (the route's ClickHouse reads + combination)", daily.m('direct', 'p50')), ratio: daily.ratio('p50') },
      { ...figure('API p99 latency (400-day daily series)', daily.m('api', 'p99'), 'ms', "direct read p99 (the route's ClickHouse reads + combination)", daily.m('direct', 'p99')), ratio: daily.ratio('p99') },
      figure('API p99 latency, cache miss (400-day daily series)', daily.m('cold', 'p99'), 'ms', 'direct reads of that miss p99 (sealed hours kept)', daily.m('directKept', 'p99')),
      { ...figure('API throughput (30-day hourly series)', hourly.m('api', 'rps'), 'req/s', "direct read throughput (the route's ClickHouse reads + combination)", hourly.m('direct', 'rps')), ratio: hourly.ratio('rps') },
    ],
  });

  await api.close();
  await apiCold.close();
  await client.close();
  if (!args.flags.keep) await repo.command('bench drop', 'DROP DATABASE IF EXISTS {db:Identifier}', { db: config.CLICKHOUSE_DATABASE }).catch(() => undefined);
  await repo.close();
  const keys = await redis.keys(`${config.REDIS_KEY_PREFIX}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
