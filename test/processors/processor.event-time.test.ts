import { createIdempotentProducer } from '../../shared/kafka/kafka.client';
import { channelKey } from '../../shared/kafka/topics';
import { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import { partitionOf } from '../../processors/kafka/partition-of';
import { eventually, testStack, TestStack } from '../support/stack';
import { FixtureEvent, produceEvents, T0 } from './processor-fixtures';
import { createProcessor } from '../../processors/processor.wiring';

const sec = (n: number) => T0 + n * 1000;
const MIN = 60_000;
const B = { platform: 'twitch', channelId: 'clock-b', userId: 'creator-b' };

/** Creator B: a live snapshot every 10 s and a chat record every 30 s for 5 minutes, each arriving 1 s after it happened. */
function channelB(): FixtureEvent[] {
  const key = channelKey(B.platform, B.channelId);
  const out: FixtureEvent[] = [];
  for (let s = 0; s < 300; s += 10) {
    const t = sec(s);
    out.push({
      topic: 'snapshots', key, t, arrival: t + 1000,
      value: { ...B, eventId: `b:${s}`, observedAt: t, live: true, viewers: 100 + s, streamId: 'SB', startedAt: T0, title: 'B live', category: null, language: null, source: 'poll' },
    });
    if (s % 30 === 20) out.push({ topic: 'chat', key, t: t + 9999, arrival: t + 11_000, value: { ...B, eventId: `b:chat:${s}`, intervalStart: t - 20_000, intervalEnd: t + 10_000, messages: 7, chatterIds: ['x', `y${s}`], samplingRate: 1 } });
  }
  // Time passes: one more poll ten minutes on closes every window.
  const t = sec(900);
  out.push({ topic: 'snapshots', key, t, arrival: t + 1000, value: { ...B, eventId: 'b:later', observedAt: t, live: false, viewers: null, streamId: null, startedAt: null, title: null, category: null, language: null, source: 'poll' } });
  return out;
}

/**
 * Creator A shares B's partition. At two instants its tool reports events from +5 min, +1 day, 2099
 * and 1970 (lifecycle records: never late), and its platform's clock runs 10 minutes ahead (a stream
 * start and a snapshot stamped 10 minutes after they arrived).
 */
function channelA(channelId: string, atSeconds: number[]): FixtureEvent[] {
  const A = { platform: 'twitch', channelId, userId: 'creator-a' };
  const key = channelKey(A.platform, channelId);
  const out: FixtureEvent[] = [];
  for (const s of atSeconds) {
    const arrival = sec(s);
    for (const [i, occurredAt] of [arrival + 5 * MIN, arrival + 86_400_000, Date.UTC(2099, 0, 1), 1].entries()) {
      out.push({
        topic: 'lifecycle', key, t: arrival, arrival,
        value: { ...A, eventId: `a:${s}:${i}`, type: 'updated', streamId: 'SA', occurredAt, title: 'hostile', category: null, source: 'creator_tool', reportedAt: null },
      });
    }
    out.push({
      topic: 'snapshots', key, t: arrival, arrival,
      value: { ...A, eventId: `a:snap:${s}`, observedAt: arrival + 10 * MIN, live: true, viewers: 5, streamId: 'SA', startedAt: arrival + 10 * MIN, title: 'ahead', category: null, language: null, source: 'poll' },
    });
  }
  return out;
}

const byArrival = (a: FixtureEvent, b: FixtureEvent) => a.t - b.t;

async function runProcessor(stack: TestStack, events: FixtureEvent[]) {
  const { rt } = stack;
  const producer = createIdempotentProducer(rt.kafka);
  await producer.connect();
  await produceEvents(rt, producer, events, 10_000);
  await producer.disconnect();
  const processor = createProcessor(rt);
  await processor.start();
  const repo = new ClickHouseRepository(rt.clickhouseSettings);
  try {
    // B's five minutes are closed by its later poll.
    await eventually(
      () => repo.query<{ n: number }>('b windows', 'SELECT count() AS n FROM metrics_1m_latest WHERE channel_id = {c:String}', { c: B.channelId }),
      (r) => r[0]!.n >= 5,
      90_000,
    );
    await processor.flushNow();
    const windows = await repo.query<Record<string, unknown>>(
      'b rows',
      `SELECT * EXCEPT (latest_version, user_id) FROM metrics_1m_latest WHERE channel_id = {c:String} ORDER BY window_start`,
      { c: B.channelId },
    );
    const lateB = await repo.query<{ n: number }>('late b', 'SELECT count() AS n FROM late_events WHERE channel_id = {c:String}', { c: B.channelId });
    const sessionsA = await repo.query<{ started_at: number }>(
      'a session', "SELECT toUnixTimestamp64Milli(started_at) AS started_at FROM stream_sessions_latest WHERE channel_id != {c:String}", { c: B.channelId });
    return { windows, lateB: lateB[0]!.n, sessionsA, clamped: processor.stats.clamped };
  } finally {
    await processor.close();
    await repo.close();
  }
}

describe('processor: event time is bounded by arrival — one creator cannot move another\'s windows (real Kafka, Registry, ClickHouse)', () => {
  let alone: TestStack;
  let shared: TestStack;

  beforeAll(async () => {
    const settings = { PROCESSOR_ALLOWED_LATENESS_SECONDS: '60', PROCESSOR_FLUSH_INTERVAL_MS: '100', PROCESSOR_MAX_FUTURE_SKEW_SECONDS: '5' };
    [alone, shared] = await Promise.all([testStack(settings), testStack(settings)]);
  });

  afterAll(async () => {
    await Promise.all([alone?.cleanup(), shared?.cleanup()]);
  });

  it('future- and past-dated events of creator A leave none of B\'s events late and B\'s windows identical to a run without A', async () => {
    const partitions = shared.rt.kafkaSettings.partitions;
    const target = partitionOf(channelKey(B.platform, B.channelId), partitions);
    let aId = '';
    for (let i = 0; !aId; i++) if (partitionOf(channelKey('twitch', `clock-a${i}`), partitions) === target) aId = `clock-a${i}`;

    const reference = await runProcessor(alone, channelB());
    const withA = await runProcessor(shared, [...channelB(), ...channelA(aId, [35, 125, 215])].sort(byArrival));

    expect(reference.lateB).toBe(0);
    expect(withA.lateB).toBe(0);
    expect(withA.windows).toEqual(reference.windows);
    expect(withA.windows.length).toBeGreaterThanOrEqual(5);
    // Each instant: +5 min, +1 day, 2099 and the snapshot 10 minutes ahead were bounded; 1970 stays where it is.
    expect(withA.clamped).toBeGreaterThanOrEqual(3 * 4);
    // A's stream cannot have started after it was seen: its start is bounded by the first snapshot's arrival + skew.
    for (const s of withA.sessionsA) expect(s.started_at).toBeLessThanOrEqual(sec(215) + 5000);
  }, 240_000);
});
