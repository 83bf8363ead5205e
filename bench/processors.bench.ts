/**
 * Processor benchmark (issue 5): `npx tsx bench/processors.bench.ts [--channels 2000] [--minutes 30] [--keep] [--profile FILE] [--heap-profile FILE]`
 * against the native stack (`bash infra/stack.sh up`).
 *
 *  1. A namespace of its own (topics, ClickHouse database) gets CHANNELS × MINUTES × 16 events: per
 *     channel and minute 12 snapshots (every 5 s), 3 chat records (every 20 s) and 1 follower count,
 *     Avro through the Schema Registry, keyed by channel over KAFKA_PARTITIONS (3) partitions.
 *  2. Baselines, same run, same topics: a bare kafkajs consumer group (eachBatch, no decoding) and a bare
 *     `@platformatic/kafka` consumer group (a message stream, no decoding) reading every message; the
 *     faster of the two is the baseline (issue 19).
 *  3. Measured: one ProcessorService — decode, merge, windows, sessions, alerts, ClickHouse inserts,
 *     MetricWindow messages to Kafka, offset commits — until every event is processed and the final
 *     flush is committed. Both rates count from the moment the group was joined (join time left out).
 *  4. Printed besides: events per CPU-second of the processor and of the bare kafkajs consume (their
 *     quotient, the CPU ratio, moves less with the load than the wall ratio), GC pauses (in all and by
 *     kind), the main thread's event-loop utilisation, where the processor's wall time goes, each ClickHouse statement's client time and the chDB
 *     engine's CPU over the processor phase; `--profile FILE.cpuprofile` writes a V8 CPU profile of the
 *     processor phase only, `--heap-profile FILE.heapprofile` V8's sampling heap profile of it (what allocates).
 * Kafka, ClickHouse and the processor share this machine's cores; the ratio is the comparable figure.
 */
import { parseArgs } from '../shared/lifecycle/process.contract';
import { createLogger } from '../shared/logging/logger';
import { bootstrap, createRuntime, Runtime } from '../shared/runtime';
import { createIdempotentProducer } from '../shared/kafka/kafka.client';
import { channelKey } from '../shared/kafka/topics';
import { ClickHouseRepository, createClickHouse } from '../shared/clickhouse/clickhouse.repository';
import { testConfig, randomSuffix } from '../test/support/stack';
import { emitBenchResult, figure } from './bench-result';
import { createProcessor } from '../processors/processor.wiring';
import fs from 'node:fs';
import path from 'node:path';
import { Session } from 'node:inspector/promises';
import { constants, type EventLoopUtilization, performance as perfHooks, PerformanceObserver } from 'node:perf_hooks';

const args = parseArgs(process.argv.slice(2));
if (args.flags.help) {
  console.log('npx tsx bench/processors.bench.ts [--channels 2000] [--minutes 30] [--keep] [--profile FILE.cpuprofile] [--heap-profile FILE.heapprofile]\n' +
    '  processor events/s against the faster of bare kafkajs and bare @platformatic/kafka consumes of the same topics (same run),\n' +
    '  events per CPU-second, and where the processor\'s wall time goes. Needs the native stack (bash infra/stack.sh up).');
  process.exit(0);
}
const CHANNELS = Number(args.flags.channels ?? 2000);
const MINUTES = Number(args.flags.minutes ?? 30);
const T0 = Date.UTC(2025, 0, 6, 12, 0, 0);
const f = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main() {
  const id = randomSuffix();
  const config = testConfig({ KAFKA_TOPIC_PREFIX: `bench-proc-${id}`, CLICKHOUSE_DATABASE: `bench_proc_${id}`, LOG_LEVEL: 'warn', KAFKA_PARTITIONS: '3' });
  const rt = createRuntime(config, createLogger('warn'));
  await bootstrap(rt);

  // 1. input
  const producer = createIdempotentProducer(rt.kafka);
  await producer.connect();
  let total = 0;
  const p0 = Date.now();
  // Synchronous encoders (the schemas registered once): the input is produced in seconds, not minutes.
  const encoders = { snapshots: await rt.registry.syncEncoder('snapshots'), chat: await rt.registry.syncEncoder('chat'), followers: await rt.registry.syncEncoder('followers') };
  for (let minute = 0; minute < MINUTES; minute++) {
    const snapshots = [];
    const chat = [];
    const followers = [];
    for (let c = 0; c < CHANNELS; c++) {
      const platform = c % 2 === 0 ? 'twitch' : 'youtube';
      const channelId = `b${c}`;
      const userId = `bu${c >> 1}`;
      const key = channelKey(platform, channelId);
      const base = T0 + minute * 60_000;
      for (let s = 0; s < 12; s++) {
        const t = base + s * 5000 + 1000;
        snapshots.push({ key, value: encoders.snapshots({
          eventId: `${key}:${t}`, platform, channelId, userId, observedAt: t, live: true, viewers: 100 + ((c * 7 + s * 13 + minute) % 50),
          streamId: `bs${c}`, startedAt: T0, title: 'bench', category: 'Bench', language: 'en', source: 'poll',
        }) });
      }
      for (let k = 1; k <= 3; k++) {
        const end = base + k * 20_000;
        chat.push({ key, value: encoders.chat({
          eventId: `${key}:chat:${end}`, platform, channelId, userId, intervalStart: end - 20_000, intervalEnd: end, messages: (c + k) % 9,
          chatterIds: [`a${k}`, `b${(c + k) % 5}`],
        }) });
      }
      followers.push({ key, value: encoders.followers({ eventId: `${key}:f:${base}`, platform, channelId, userId, observedAt: base + 30_000, followers: 1000 + minute * 2 + c }) });
    }
    // A minute of event time at once, like ingest publishes it.
    await producer.sendBatch({ acks: -1, topicMessages: [
      { topic: rt.topics.snapshots, messages: snapshots },
      { topic: rt.topics.chat, messages: chat },
      { topic: rt.topics.followers, messages: followers },
    ] });
    total += snapshots.length + chat.length + followers.length;
  }
  // One far-future tick per channel closes every remaining window.
  const ticks = [];
  for (let c = 0; c < CHANNELS; c++) {
    const platform = c % 2 === 0 ? 'twitch' : 'youtube';
    const key = channelKey(platform, `b${c}`);
    const t = T0 + (MINUTES + 10) * 60_000;
    ticks.push({ key, value: encoders.snapshots({
      eventId: `${key}:tick`, platform, channelId: `b${c}`, userId: `bu${c >> 1}`, observedAt: t, live: false, viewers: null,
      streamId: null, startedAt: null, title: null, category: null, language: null, source: 'poll',
    }) });
  }
  await producer.send({ topic: rt.topics.snapshots, acks: -1, messages: ticks });
  total += ticks.length;
  await producer.disconnect();
  console.log(`produced ${f(total)} events (${CHANNELS} channels × ${MINUTES} min) in ${f((Date.now() - p0) / 1000, 1)} s`);

  // 2. baselines: bare consumes of the same topics, no decoding
  const inputTopics = [rt.topics.snapshots, rt.topics.followers, rt.topics.chat, rt.topics.lifecycle];
  const bareCpu0 = process.cpuUsage();
  const kafkajsRate = await bareKafkajs(rt, `bench-proc-${id}.bare`, inputTopics, total);
  const bareCpu = process.cpuUsage(bareCpu0);
  const bareCpuSeconds = (bareCpu.user + bareCpu.system) / 1e6;
  const platformaticRate = await barePlatformatic(rt.kafkaSettings.brokers, `bench-proc-${id}.bare-platformatic`, inputTopics, total);
  const bareRate = Math.max(kafkajsRate, platformaticRate);
  const bareName = kafkajsRate >= platformaticRate ? 'bare kafkajs consume' : 'bare @platformatic/kafka consume';

  // 3. the processor
  const processor = createProcessor(rt, { groupId: `bench-proc-${id}.processor` });
  const statements = timeStatements();
  const gc = gcPauses();
  const profiler = typeof args.flags.profile === 'string' ? await startProfile() : undefined;
  const heapProfiler = typeof args.flags['heap-profile'] === 'string' ? await startHeapProfile() : undefined;
  const chdb0 = chdbCpuSeconds();
  const cpu0 = process.cpuUsage();
  await processor.start();
  // The main thread's event-loop utilisation from the group join on (polled: ±50 ms at the start).
  let elu0: EventLoopUtilization | undefined;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (processor.joinedAt !== undefined) elu0 ??= perfHooks.eventLoopUtilization();
      if (processor.stats.processed >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 50);
  });
  await processor.flushNow();
  const last = performance.now();
  const elu = perfHooks.eventLoopUtilization(elu0);
  const first = processor.joinedAt!;
  const cpu = process.cpuUsage(cpu0);
  const chdbCpu = chdb0 === null ? null : chdbCpuSeconds()! - chdb0;
  statements.stop();
  const gcMs = gc.stop();
  if (profiler) await profiler.stop(String(args.flags.profile));
  if (heapProfiler) await heapProfiler.stop(String(args.flags['heap-profile']));
  const seconds = (last - first) / 1000;
  const rate = total / seconds;
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const s = processor.stats;
  await processor.close();

  const repo = new ClickHouseRepository(rt.clickhouseSettings);
  const [rows] = await repo.query<{ n: number }>('bench windows', 'SELECT count() AS n FROM metrics_1m_latest');
  await repo.close();

  const stage = (name: string, ms: number) => console.log(`  ${name.padEnd(50)} ${f(ms / 1000, 2).padStart(7)} s  ${f((100 * ms) / (last - first), 0).padStart(3)} %`);
  console.log('');
  console.log(`bare kafkajs consume                 ${f(kafkajsRate).padStart(9)} events/s`);
  console.log(`bare @platformatic/kafka consume     ${f(platformaticRate).padStart(9)} events/s`);
  console.log(`baseline (the faster)                ${f(bareRate).padStart(9)} events/s   (${bareName})`);
  console.log(`processor Kafka→windows→ClickHouse   ${f(rate).padStart(9)} events/s   (${f(seconds, 1)} s wall, ${f(cpuSeconds, 1)} s CPU of this process)`);
  console.log(`ratio processor / baseline           ${f(rate / bareRate, 2).padStart(9)}`);
  console.log(`events per CPU-second (per core)     ${f(total / cpuSeconds).padStart(9)}   (bare kafkajs consume: ${f(total / bareCpuSeconds)}; CPU ratio ${f(bareCpuSeconds / cpuSeconds, 2)})`);
  console.log(`garbage collection pauses            ${f(gcMs / 1000, 2).padStart(9)} s   (${f((100 * gcMs) / (last - first), 0)} % of the processor's wall time)`);
  console.log(`  by kind: ${[...gc.byKind].sort((x, y) => y[1].ms - x[1].ms).map(([k, v]) => `${k} ${v.n} × ${f(v.ms / 1000, 2)} s`).join(', ')}`);
  emitBenchResult({
    bench: 'processors', params: { channels: CHANNELS, minutes: MINUTES, events: total },
    figures: [figure('processor events/s (Kafka → windows → ClickHouse)', rate, 'events/s', `${bareName} of the same topics (the faster of kafkajs and @platformatic/kafka)`, bareRate)],
  });
  console.log(`windows written ${f(rows!.n)} (expected ${f(CHANNELS * MINUTES)}), flushes ${f(s.flushes)}, commits ${f(s.commits)}, lane checks asking the broker ${f(s.verifications)} (answered by a recent answer ${f(s.verificationsReused)}), late ${s.late}`);
  console.log('where the wall time goes (loop: decode, state, verification; writer, overlapping the loop: ClickHouse, Kafka, commit):');
  stage('Avro decode', s.ms.decode);
  stage('merge + windows + alerts (state)', s.ms.state - s.ms.verify);
  stage('lane verification (broker offsets)', s.ms.verify);
  stage('ClickHouse: metrics_1m + late_events inserts', s.ms.chWindows);
  stage('ClickHouse: hourly rollup (beside the session reads)', s.ms.chRollup);
  stage('ClickHouse: session reads (beside the rollup)', s.ms.chSessionReads);
  stage('ClickHouse: all steps of the flushes (wall)', s.ms.clickhouse);
  stage('Kafka produce (MetricWindow, alerts)', s.ms.kafka);
  stage('offset commit', s.ms.commit);
  stage('rest of the main thread (kafkajs, writer CPU, GC, idle)', Math.max(0, last - first - s.ms.decode - s.ms.state));
  console.log(`main thread busy (event-loop utilisation from the join) ${f(100 * elu.utilization, 0)} %, idle ${f(elu.idle / 1000, 2)} s: the writer's stages above overlap the loop's on this one thread`);
  console.log('ClickHouse statements of the processor (client wall time; statements of one flush may overlap):');
  for (const [name, t] of [...statements.byName].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(`  ${name.padEnd(36)} ${String(t.n).padStart(5)} ×  ${f(t.ms / 1000, 2).padStart(7)} s  ${f(t.ms / t.n, 0).padStart(6)} ms each  ${f(t.rows).padStart(9)} rows`);
  }
  if (chdbCpu !== null) console.log(`ClickHouse engine (chDB) CPU during the processor run: ${f(chdbCpu, 1)} s (includes any other client of the shared engine)`);

  if (!args.flags.keep) {
    const admin = rt.kafka.admin();
    await admin.connect();
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(`bench-proc-${id}.`));
    await admin.deleteTopics({ topics: mine }).catch(() => undefined);
    await admin.disconnect();
    const ch = createClickHouse(rt.clickhouseSettings, undefined);
    await ch.command({ query: 'DROP DATABASE IF EXISTS {db:Identifier}', query_params: { db: rt.clickhouseSettings.database } });
    await ch.close();
  }
  if (rows!.n !== CHANNELS * MINUTES) {
    console.error('window count mismatch');
    process.exitCode = 1;
  }
}

/**
 * Client wall time per named ClickHouse statement (the repository's query/insert/command), for the
 * processor phase: which statement the writer waits on. Wraps the methods of the one access module.
 */
function timeStatements() {
  const byName = new Map<string, { n: number; ms: number; rows: number }>();
  const proto = ClickHouseRepository.prototype as unknown as Record<'query' | 'insert' | 'command', (...a: unknown[]) => Promise<unknown>>;
  const originals = { query: proto.query, insert: proto.insert, command: proto.command };
  for (const method of ['query', 'insert', 'command'] as const) {
    const original = originals[method];
    proto[method] = async function (this: unknown, ...a: unknown[]) {
      const t0 = performance.now();
      try {
        return await original.apply(this, a);
      } finally {
        const name = String(a[0]);
        const t = byName.get(name) ?? { n: 0, ms: 0, rows: 0 };
        t.n++;
        t.ms += performance.now() - t0;
        if (method === 'insert' && Array.isArray(a[2])) t.rows += a[2].length;
        byName.set(name, t);
      }
    };
  }
  return { byName, stop: () => Object.assign(proto, originals) };
}

/** Total duration of V8's garbage collections from now to `stop()` (ms), and by kind (scavenge, mark-compact, …). */
function gcPauses() {
  let ms = 0;
  const kinds: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental marking', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
  };
  const byKind = new Map<string, { n: number; ms: number }>();
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      ms += e.duration;
      const kind = kinds[((e as unknown as { detail?: { kind?: number } }).detail)?.kind ?? -1] ?? 'other';
      const k = byKind.get(kind) ?? { n: 0, ms: 0 };
      k.n++;
      k.ms += e.duration;
      byKind.set(kind, k);
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return { byKind, stop: () => (obs.disconnect(), ms) };
}

/** A V8 CPU profile of this process over the processor phase only (`--profile FILE.cpuprofile`, open in Chrome DevTools). */
async function startProfile() {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    async stop(file: string) {
      const { profile } = await session.post('Profiler.stop');
      fs.writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
      console.log(`CPU profile of the processor phase: ${file}`);
    },
  };
}

/** V8's sampling heap profile (what allocates) over the processor phase only (`--heap-profile FILE.heapprofile`, open in Chrome DevTools). */
async function startHeapProfile() {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  // Every 32 KB allocated on average, objects collected since included: the allocation rate, not what is retained.
  await session.post('HeapProfiler.startSampling', { samplingInterval: 32 * 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  return {
    async stop(file: string) {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      fs.writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
      console.log(`heap allocation profile of the processor phase: ${file}`);
    },
  };
}

/** CPU seconds of the native stack's ClickHouse engine process so far (null when it is not ours to read). */
function chdbCpuSeconds(): number | null {
  try {
    const pid = fs.readFileSync(path.join(__dirname, '..', '.stack', 'run', 'clickhouse.pid'), 'utf8').trim();
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** Group join → last message, eachBatch without decoding. */
async function bareKafkajs(rt: Runtime, groupId: string, topics: string[], total: number): Promise<number> {
  const bare = rt.kafka.consumer({ groupId, maxBytesPerPartition: 4 * 1024 * 1024 });
  await bare.connect();
  await bare.subscribe({ topics, fromBeginning: true });
  let seen = 0;
  let first = 0;
  let last = 0;
  bare.on(bare.events.GROUP_JOIN, () => (first ||= performance.now()));
  await new Promise<void>((resolve) => {
    void bare.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        if (seen >= total) {
          last = performance.now();
          resolve();
        }
      },
    });
  });
  await bare.disconnect();
  return total / ((last - first) / 1000);
}

/** Group join → last message, a message stream without deserialising (raw buffers). ESM-only, so imported at run time. */
async function barePlatformatic(brokers: string[], groupId: string, topics: string[], total: number): Promise<number> {
  // It declares Node ≥ 22 (we run 20): the one Node 22 API it reached in this path is polyfilled here.
  const P = Promise as unknown as { withResolvers?: () => unknown };
  P.withResolvers ??= () => {
    let resolve: unknown;
    let reject: unknown;
    const promise = new Promise((a, b) => ((resolve = a), (reject = b)));
    return { promise, resolve, reject };
  };
  const { Consumer, MessagesStreamModes } = await import('@platformatic/kafka');
  const consumer = new Consumer({ groupId, clientId: 'bench-bare', bootstrapBrokers: brokers, maxBytesPerPartition: 4 * 1024 * 1024, maxWaitTime: 500 });
  let first = 0;
  consumer.on('consumer:group:join', () => (first ||= performance.now()));
  const stream = await consumer.consume({ topics, mode: MessagesStreamModes.EARLIEST, autocommit: false });
  let seen = 0;
  let last = 0;
  await new Promise<void>((resolve, reject) => {
    stream.on('data', () => {
      if (++seen === total) {
        last = performance.now();
        resolve();
      }
    });
    stream.on('error', reject);
  });
  await stream.close();
  await consumer.close();
  return total / ((last - first) / 1000);
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
