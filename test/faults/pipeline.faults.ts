import axios from 'axios';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { parseConfig } from '../../shared/config/config';
import { createLogger } from '../../shared/logging/logger';
import { bootstrap, createRuntime, Runtime } from '../../shared/runtime';
import { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import { DLQ_NAME } from '../../ingest/jobs/ingest-job';
import { rawTopicFor } from '../../shared/kafka/topics';
import type { DeadLetter } from '../../ingest/jobs/dead-letter';
import type { StreamLifecycle, StreamSnapshot } from '../../shared/events/events';
import { eventually } from '../support/stack';
import { processorResults, secondDatabase } from '../processors/processor-fixtures';
import { PORTS, PrivateStack } from './private-stack';
import { createProcessor } from '../../processors/processor.wiring';

/**
 * Issue 10 fault-injection suite (`npm run test:faults`): the real pipeline — simulator, ingest and
 * processor as child processes — on a private native stack, through five faults in a row:
 *   1. kill -9 Kafka, restart after 10 s      2. kill -9 ClickHouse, restart after 10 s
 *   3. restart Redis                          4. kill -9 processor and ingest worker, restart them
 *   5. kill -9 ingest mid-poll, restart: every channel polled within one interval of readiness
 *   6. the simulator answers 429 / 5xx / malformed bodies for a while.
 * Afterwards the processor's windows, sessions and alerts are compared with an uninterrupted reference:
 * a fresh consumer group over the same Kafka input into its own database. Ingest-side loss (poll slots
 * that never reached Kafka) is measured from the snapshot event ids, which carry the planned slot.
 */
const CHANNELS = 50;
const POLL_S = 5;
const SECOND = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Progress on stderr at once (jest holds console output until the file ends; this suite runs minutes). */
const progress = (msg: string) => process.stderr.write(`[faults ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

interface Phase { name: string; start: number; restartedAt: number; recoveredAt: number; end: number; readyAt?: number }

const KILL_INGEST_MID_POLL = 'kill -9 ingest mid-poll, restart';
/** Issue 16 part 6: a restarted ingest polls every channel within one interval of readiness, plus this. */
const RESTART_SLACK_MS = 5000;

const stack = new PrivateStack(CHANNELS, {
  INGEST_LIVE_POLL_SECONDS: String(POLL_S),
  INGEST_OFFLINE_POLL_SECONDS: String(POLL_S),
  INGEST_FOLLOWERS_POLL_SECONDS: '30',
  INGEST_RECONCILE_SECONDS: '10',
  // Quota large enough that YouTube is polled at the same cadence (no quota stretching of intervals).
  YOUTUBE_DAILY_QUOTA_UNITS: '100000000',
  PROCESSOR_ALLOWED_LATENESS_SECONDS: '20',
});
let rt: Runtime;
let redis: IORedis;

async function metric(port: number, name: string): Promise<number | undefined> {
  try {
    const { data } = await axios.get<string>(`http://127.0.0.1:${port}/metrics`, { timeout: 2000, responseType: 'text' });
    return data.split('\n').filter((l) => l.startsWith(name)).reduce((s, l) => s + Number(l.split(' ').pop()), 0);
  } catch {
    return undefined;
  }
}

async function highWatermark(topic: string): Promise<number> {
  const kafka = new Kafka({ brokers: [rt.config.KAFKA_BROKERS], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const admin = kafka.admin();
  try {
    await admin.connect();
    return (await admin.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high), 0);
  } catch {
    return -1;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Recovered = ingest produced snapshots again (the topic grew) and the processor consumed again (its
 * events counter grew; a restarted processor starts from 0), with every child alive.
 */
async function waitRecovered(): Promise<number> {
  const hw0 = await highWatermark(rt.topics.snapshots);
  const ev0 = (await metric(PORTS.processMetrics, 'spacehub_processor_events_total')) ?? 0;
  await eventually(
    async () => {
      // A child that exited will not recover by itself: fail at once, with its exit and its log.
      const dead = (['ingest', 'process', 'simulate'] as const).filter((s) => !stack.alive(s));
      if (dead.length) throw new DeadChildError(dead.map((s) => `${s} ${stack.exitOf(s)}; its log ends:\n${stack.logTail(s, 60)}`).join('\n'));
      return {
        hw: await highWatermark(rt.topics.snapshots),
        ev: await metric(PORTS.processMetrics, 'spacehub_processor_events_total'),
        ingest: await metric(PORTS.ingestMetrics, 'spacehub_ingest_events_produced_total'),
      };
    },
    (s) => s.hw > Math.max(hw0, 0) && s.ev !== undefined && s.ev !== ev0 && s.ingest !== undefined,
    180_000,
    500,
    (err) => err instanceof DeadChildError,
  );
  return Date.now();
}

class DeadChildError extends Error {}

async function readTopic<T>(topic: string): Promise<T[]> {
  const end = await highWatermark(topic);
  const kafka = new Kafka({ brokers: [rt.config.KAFKA_BROKERS], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `faults-reader-${topic}-${Date.now()}` });
  const out: T[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await consumer.run({ eachMessage: async ({ message }) => { seen++; out.push(await rt.registry.decode<T>(topic, message.value)); } });
  await eventually(async () => seen, (n) => n >= end, 60_000, 200);
  await consumer.disconnect();
  return out;
}

describe('pipeline under faults (private stack)', () => {
  const phases: Phase[] = [];

  beforeAll(async () => {
    stack.stack('up');
    rt = createRuntime(parseConfig({ ...stack.env, LOG_LEVEL: 'silent' }), createLogger('silent'));
    // Topics, tables and the schema ids the in-process reference processor encodes its outputs with
    // (without them its Kafka produce retried forever and no session or alert row was written).
    await bootstrap(rt);
    redis = new IORedis(rt.config.REDIS_URL, { maxRetriesPerRequest: null });
    stack.start('simulate');
    // The simulator seeds CHANNELS connections through the real OAuth round trip (topics and tables
    // come from each service's bootstrap).
    await eventually(() => redis.scard('faults:connections:active').catch(() => 0), (n) => n >= CHANNELS, 120_000, 1000);
    stack.start('process');
    stack.start('ingest');
  }, 300_000);

  afterAll(async () => {
    redis?.disconnect();
    await stack.close();
  }, 120_000);

  it('loses no window, double-counts none, duplicates no lifecycle alert, explains the DLQ, and recovers', async () => {
    const t0 = Date.now();
    progress('waiting for data to flow end to end');
    await waitRecovered(); // data flows end to end
    await sleep(15 * SECOND);
    const baseline: Phase = { name: 'none (warm-up)', start: t0, restartedAt: t0, recoveredAt: t0, end: 0 };
    phases.push(baseline);

    const fault = async (name: string, inject: () => Promise<number | void>) => {
      const start = Date.now();
      phases[phases.length - 1]!.end = start;
      progress(`fault: ${name}`);
      const readyAt = (await inject()) ?? undefined;
      const restartedAt = Date.now();
      const recoveredAt = await waitRecovered();
      phases.push({ name, start, restartedAt, recoveredAt, end: 0, readyAt });
      progress(`recovered in ${((recoveredAt - restartedAt) / 1000).toFixed(1)} s`);
      await sleep(15 * SECOND); // steady state again before the next fault
    };

    await fault('kill -9 Kafka, restart after 10 s', async () => {
      stack.killServer('kafka');
      await sleep(10 * SECOND);
      stack.stack('up');
    });
    await fault('kill -9 ClickHouse, restart after 10 s', async () => {
      stack.killServer('clickhouse');
      await sleep(10 * SECOND);
      stack.stack('up');
    });
    await fault('restart Redis', async () => {
      stack.stack('restart', 'redis');
    });
    await fault('kill -9 processor + ingest, restart', async () => {
      await stack.stop('process', 'SIGKILL');
      await stack.stop('ingest', 'SIGKILL');
      await sleep(2 * SECOND);
      stack.start('process');
      stack.start('ingest');
    });
    await fault(KILL_INGEST_MID_POLL, async () => {
      // Stream-state calls held for 20 s, so the kill lands while polls are in flight and their jobs locked.
      const sim = `http://127.0.0.1:${PORTS.simulator}/__sim/faults`;
      await axios.post(sim, { route: '/helix/streams', kind: 'slow', delayMs: 20_000, times: 1000 });
      await axios.post(sim, { route: '/youtube/v3/liveBroadcasts', kind: 'slow', delayMs: 20_000, times: 1000 });
      await sleep(3 * SECOND);
      await stack.stop('ingest', 'SIGKILL');
      await axios.delete(sim);
      stack.start('ingest');
      return stack.readyAt('ingest');
    });
    await fault('simulator 429 / 5xx / malformed for 30 s', async () => {
      const sim = `http://127.0.0.1:${PORTS.simulator}/__sim/faults`;
      const until = Date.now() + 30 * SECOND;
      while (Date.now() < until) {
        await axios.post(sim, { route: '*', kind: 'rate_limit', times: 5, resetSeconds: 2 });
        await axios.post(sim, { route: '*', kind: 'server_error', times: 5, status: 503 });
        await axios.post(sim, { route: '/helix/streams', kind: 'malformed', times: 2 });
        await sleep(3 * SECOND);
      }
      await axios.delete(sim);
    });

    // Input stops; the processor drains what is in Kafka.
    const inputEnd = Date.now();
    phases[phases.length - 1]!.end = inputEnd;
    progress('input stops (ingest TERM); draining');
    await stack.stop('ingest', 'SIGTERM');
    const stable = async () => {
      const a = await metric(PORTS.processMetrics, 'spacehub_processor_events_total');
      await sleep(3000);
      return a === (await metric(PORTS.processMetrics, 'spacehub_processor_events_total'));
    };
    await eventually(stable, (s) => s, 60_000, 0);
    await sleep(3000); // one more flush interval

    // ---- the uninterrupted reference: a fresh group over the same topics, own database
    const faulted = await processorResults(rt.clickhouseSettings);
    progress(`faulted run: ${faulted.windows.length} windows; reference run starts`);
    const db = await secondDatabase(rt);
    const ref = createProcessor(rt, { groupId: 'faults.reference', clickhouse: db.settings });
    let reference: typeof faulted;
    try {
      await ref.start();
      const refRepo = new ClickHouseRepository(db.settings);
      // Caught up: at least the faulted run's windows and sessions, and no change over 2 s.
      const count = async () => (await refRepo.query<{ w: number; s: number }>('ref counts', 'SELECT (SELECT count() FROM metrics_1m_latest) AS w, (SELECT count() FROM stream_sessions_latest) AS s'))[0]!;
      let last = '';
      await eventually(async () => {
        const n = await count();
        const done = n.w >= faulted.windows.length && n.s >= faulted.sessions.length && JSON.stringify(n) === last;
        last = JSON.stringify(n);
        return done;
      }, (d) => d, 120_000, 2000).catch(() => progress('reference did not reach the faulted counts in 120 s; comparing what it has'));
      progress('reference caught up');
      // Its timed flushes wrote the closed windows and sessions (the counts are stable).
      await refRepo.close();
      reference = await processorResults(db.settings);
    } finally {
      await Promise.race([ref.close(), sleep(15_000)]);
    }
    await db.drop();
    progress(`reference run: ${reference.windows.length} windows`);

    // ---- compare, per phase (by window start)
    const key = (w: Record<string, unknown>) => `${w.platform}|${w.channel_id}|${w.window_start}`;
    const ms = (v: unknown) => new Date(`${String(v).replace(' ', 'T')}Z`).getTime();
    const faultedByKey = new Map(faulted.windows.map((w) => [key(w), w]));
    const refByKey = new Map(reference.windows.map((w) => [key(w), w]));
    const phaseOf = (t: number) => [...phases].reverse().find((p) => t >= p.start) ?? phases[0]!;

    progress('reading the input topics');
    const snapshots = await readTopic<StreamSnapshot>(rt.topics.snapshots);
    const lifecycle = await readTopic<StreamLifecycle>(rt.topics.lifecycle);
    const resent = (ids: string[]) => ids.length - new Set(ids).size;

    // Ingest-side loss: per channel, planned slots (in the event id) must follow every POLL_S seconds.
    const slots = new Map<string, number[]>();
    for (const s of snapshots) {
      const slot = Number(s.eventId.split(':').pop());
      const ch = `${s.platform}:${s.channelId}`;
      if (!slots.has(ch)) slots.set(ch, []);
      slots.get(ch)!.push(slot);
    }
    // A minute of a channel without any snapshot between its first and last one: a window lost at ingest.
    const minutesWithoutInput = new Map<string, number>();
    for (const list of slots.values()) {
      const minutes = new Set(list.map((t) => Math.floor(t / 60_000)));
      const lo = Math.min(...minutes);
      const hi = Math.max(...minutes);
      for (let m = lo; m <= hi; m++) if (!minutes.has(m)) minutesWithoutInput.set(phaseOf(m * 60_000).name, (minutesWithoutInput.get(phaseOf(m * 60_000).name) ?? 0) + 1);
    }
    const missedPolls = new Map<string, number>();
    for (const list of slots.values()) {
      const sorted = [...new Set(list)].sort((a, b) => a - b);
      for (let i = 1; i < sorted.length; i++) {
        const missed = Math.round((sorted[i]! - sorted[i - 1]!) / (POLL_S * SECOND)) - 1;
        if (missed > 0) missedPolls.set(phaseOf(sorted[i - 1]!).name, (missedPolls.get(phaseOf(sorted[i - 1]!).name) ?? 0) + missed);
      }
    }

    const rows = phases.map((p) => {
      const inPhase = (t: number) => phaseOf(t) === p;
      const snaps = snapshots.filter((s) => inPhase(Number(s.observedAt)));
      const refKeys = [...refByKey.keys()].filter((k) => inPhase(ms(refByKey.get(k)!.window_start)));
      const outKeys = [...faultedByKey.keys()].filter((k) => inPhase(ms(faultedByKey.get(k)!.window_start)));
      const lost = refKeys.filter((k) => !faultedByKey.has(k));
      const extra = outKeys.filter((k) => !refByKey.has(k));
      const differing = refKeys.filter((k) => faultedByKey.has(k) && JSON.stringify(faultedByKey.get(k)) !== JSON.stringify(refByKey.get(k)));
      return {
        fault: p.name,
        'snapshots in': new Set(snaps.map((s) => s.eventId)).size,
        're-sent (dedup)': resent(snaps.map((s) => s.eventId)),
        'polls missed': missedPolls.get(p.name) ?? 0,
        'polls missed/channel': ((missedPolls.get(p.name) ?? 0) / CHANNELS).toFixed(1),
        'minutes w/o input': minutesWithoutInput.get(p.name) ?? 0,
        'windows out': outKeys.length,
        'reference windows': refKeys.length,
        lost: lost.length,
        'duplicated/differing': extra.length + differing.length,
        'recovery s': p === baseline ? '-' : ((p.recoveredAt - p.restartedAt) / 1000).toFixed(1),
        examples: [...lost.slice(0, 2), ...differing.slice(0, 2)].join(' '),
      };
    });
    console.log(`fault suite: ${CHANNELS} simulated channels, polls every ${POLL_S} s\n` + formatTable(rows));

    // ---- kill -9 of ingest mid-poll: every channel polled within one interval (+ slack) of readiness
    const restart = phases.find((p) => p.name === KILL_INGEST_MID_POLL)!;
    const firstAfterReady = [...slots.keys()].map((ch) => {
      const t = snapshots.filter((x) => `${x.platform}:${x.channelId}` === ch && Number(x.observedAt) >= restart.readyAt!).map((x) => Number(x.observedAt));
      return { ch, s: t.length ? (Math.min(...t) - restart.readyAt!) / 1000 : Infinity };
    });
    const slowest = Math.max(...firstAfterReady.map((x) => x.s));
    console.log(`${KILL_INGEST_MID_POLL}: ready ${((restart.readyAt! - restart.start) / 1000).toFixed(1)} s after the fault began; every channel's first poll after ready within ${slowest.toFixed(1)} s (bound ${POLL_S} s + ${RESTART_SLACK_MS / 1000} s)`);

    // ---- lifecycle: one started / ended per stream (Kafka re-sends carry the same id), one alert each
    const lifeIds = new Map<string, Set<string>>();
    for (const e of lifecycle) {
      if (e.type === 'updated') continue;
      const k = `${e.platform}:${e.channelId}:${e.streamId}:${e.type}`;
      if (!lifeIds.has(k)) lifeIds.set(k, new Set());
      lifeIds.get(k)!.add(e.eventId);
    }
    const repo = new ClickHouseRepository(rt.clickhouseSettings);
    const alertCopies = await repo.query<{ alert_id: string; variants: number }>(
      'alert copies',
      'SELECT alert_id, uniqExact(type, user_id, occurred_at, message, details) AS variants FROM alerts GROUP BY alert_id HAVING variants > 1',
    );
    const lifecycleAlerts = faulted.alerts.filter((a) => String(a.type).startsWith('stream_'));
    const perStream = new Map<string, number>();
    for (const a of lifecycleAlerts) {
      const k = String(a.alert_id);
      perStream.set(k, (perStream.get(k) ?? 0) + 1);
    }
    await repo.close();

    // ---- DLQ: every dead letter comes from the injected simulator faults
    const dlq = new Queue<DeadLetter>(DLQ_NAME, { connection: redis, prefix: `${rt.config.REDIS_KEY_PREFIX}:bull` });
    const dead = (await dlq.getJobs(['waiting', 'delayed', 'paused', 'completed', 'failed', 'active'], 0, 10_000)).map((j) => j.data);
    await dlq.close();
    const simPhase = phases[phases.length - 1]!;
    // Explained: failed during the simulator's phase by what it injected — a malformed body (dead at once),
    // or its 503 "simulated outage" on every one of a job's attempts (5 over ≈ 15 s of backoff inside the
    // 30 s phase; with batched polling a few shard jobs take all of the injected 503s, so one can run out).
    const injected = (d: DeadLetter) =>
      /malformed|schema|invalid|unexpected|parse|Z[oO]d|UPSTREAM/i.test(`${d.errorCode} ${d.reason}`) || (d.errorCode === 'SERVER_ERROR' && /simulated outage/.test(d.reason));
    const unexplained = dead.filter((d) => !(d.failedAt >= simPhase.start - 5000 && injected(d)));
    console.log(`lifecycle: ${lifeIds.size} started/ended transitions, ${resent(lifecycle.map((e) => e.eventId))} Kafka re-sends; lifecycle alerts ${lifecycleAlerts.length}; DLQ ${dead.length} (${[...new Set(dead.map((d) => `${d.errorCode}/${d.verdict}`))].join(', ') || 'empty'}), unexplained ${unexplained.length}; processor DLQ ${await highWatermark(rawTopicFor(rt.config.KAFKA_TOPIC_PREFIX, 'processorDlq'))}`);

    // ---- assertions (the table above says where any of these comes from)
    for (const r of rows) {
      // Poll slots skipped during an outage are reported in the table (samples not taken); a whole
      // channel-minute without input would be a window lost at ingest, and is not accepted.
      expect({ fault: r.fault, lost: r.lost, duplicated: r['duplicated/differing'], minutesWithoutInput: r['minutes w/o input'] }).toEqual({ fault: r.fault, lost: 0, duplicated: 0, minutesWithoutInput: 0 });
    }
    expect(reference.windows.length).toBeGreaterThanOrEqual(CHANNELS * 2);
    // Sessions and alerts: identical to the reference, and one session and one stream_started
    // (stream_ended) alert per started (ended) stream of the lifecycle input.
    expect(faulted.sessions).toEqual(reference.sessions);
    expect(faulted.alerts).toEqual(reference.alerts);
    const started = [...lifeIds.keys()].filter((k) => k.endsWith(':started')).map((k) => k.slice(0, -':started'.length));
    const ended = [...lifeIds.keys()].filter((k) => k.endsWith(':ended')).map((k) => k.slice(0, -':ended'.length));
    expect(faulted.sessions.map((x) => `${x.platform}:${x.channel_id}:${x.stream_id}`).sort()).toEqual([...started].sort());
    expect(lifecycleAlerts.filter((a) => a.type === 'stream_started').map((a) => String(a.alert_id)).sort()).toEqual(started.map((k) => `stream_started:${k}`).sort());
    expect(lifecycleAlerts.filter((a) => a.type === 'stream_ended').map((a) => String(a.alert_id)).sort()).toEqual(ended.map((k) => `stream_ended:${k}`).sort());
    expect([...lifeIds.entries()].filter(([, ids]) => ids.size > 1)).toEqual([]);
    expect([...perStream.entries()].filter(([, n]) => n > 1)).toEqual([]);
    expect(alertCopies).toEqual([]);
    expect(unexplained).toEqual([]);
    expect(firstAfterReady.filter((x) => x.s * 1000 > POLL_S * SECOND + RESTART_SLACK_MS)).toEqual([]);
    expect(await highWatermark(rawTopicFor(rt.config.KAFKA_TOPIC_PREFIX, 'processorDlq'))).toBe(0);
    expect(stack.stack('status')).not.toMatch(/down/);
    expect(stack.alive('process') && stack.alive('simulate')).toBe(true);
  }, 900_000);
});

function formatTable(rows: Array<Record<string, string | number>>): string {
  const cols = Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (vals: string[]) => `| ${vals.map((v, i) => v.padEnd(width[i]!)).join(' | ')} |`;
  return [line(cols), line(width.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => String(r[c]))))].join('\n');
}
