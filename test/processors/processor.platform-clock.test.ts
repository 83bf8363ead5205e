import { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import { ProcessorService } from '../../processors/processor.service';
import { IngestService } from '../../ingest/ingest.service';
import { platformPorts } from '../../ingest/platform.ports';
import type { IngestPorts } from '../../ingest/ingest.ports';
import { endpointsAt } from '../../platforms/endpoints';
import { FAST_INGEST, simulatedPlatforms } from '../ingest/ingest.harness';
import { eventually, testStack, TestStack } from '../support/stack';
import { createProcessor } from '../../processors/processor.wiring';

/**
 * Issue 16: a platform whose clock runs 10 minutes ahead (the simulator's `clock_ahead` fault stamps
 * every instant it answers — stream starts, chat times — 10 minutes on). Ingest turns a stream's start
 * into the lifecycle event's time; before event time was bounded by arrival that one event moved the
 * shard's watermark 10 minutes ahead and every snapshot after it, of every channel in the partition,
 * was late. Real simulator, ingest (BullMQ on Redis), Kafka, Registry, processors and ClickHouse.
 */
describe('processor: a platform clock 10 minutes ahead moves no window (simulator → ingest → Kafka → processors → ClickHouse)', () => {
  let stack: TestStack;
  let platforms: Awaited<ReturnType<typeof simulatedPlatforms>>;
  let ports: IngestPorts;
  let ingest: IngestService | undefined;
  let processor: ProcessorService | undefined;
  let repo: ClickHouseRepository;

  beforeAll(async () => {
    stack = await testStack({ ...FAST_INGEST, PROCESSOR_ALLOWED_LATENESS_SECONDS: '20', PROCESSOR_FLUSH_INTERVAL_MS: '200', PROCESSOR_MAX_FUTURE_SKEW_SECONDS: '5' });
    platforms = await simulatedPlatforms(stack.rt, 6);
    ports = platformPorts(stack.rt.config, undefined, { endpoints: endpointsAt(platforms.sim.url) });
    repo = new ClickHouseRepository(stack.rt.clickhouseSettings);
  });
  afterAll(async () => {
    await ingest?.close();
    await processor?.close();
    await ports?.close?.();
    await platforms?.close();
    await repo?.close();
    await stack?.cleanup();
  });

  it('snapshots of every channel stay on time, and stream starts are bounded by when they were seen', async () => {
    const { rt } = stack;
    const world = platforms.sim.world;
    const conns = await platforms.connect('clock-user', 6);
    for (const [i, c] of conns.entries()) world.forceLive(c.channelId, i % 2 === 0, Date.now() - 5 * 60_000);
    platforms.sim.inject({ route: '*', kind: 'clock_ahead', offsetMs: 10 * 60_000, times: 1_000_000 });

    processor = createProcessor(rt);
    await processor.start();
    ingest = await IngestService.start(rt, { ports, metricsPort: null });

    // Every live channel's start was seen (and bounded), and polling went on for a while after it.
    await eventually(
      () => repo.query<{ n: number }>('live sessions', "SELECT count() AS n FROM stream_sessions_latest WHERE status = 'live'"),
      (r) => r[0]!.n >= 3,
      90_000,
    );
    const seenStarts = processor.stats.processed;
    await eventually(async () => processor!.stats.processed, (n) => n >= seenStarts + 30, 90_000);
    await processor.flushNow();

    expect(processor.stats.clamped).toBeGreaterThan(0);
    expect(processor.stats.late).toBe(0);
    const [late] = await repo.query<{ n: number }>('late', 'SELECT count() AS n FROM late_events');
    expect(late!.n).toBe(0);
    const sessions = await repo.query<{ started_at: number }>('starts', "SELECT toUnixTimestamp64Milli(started_at) AS started_at FROM stream_sessions_latest");
    for (const s of sessions) expect(s.started_at).toBeLessThanOrEqual(Date.now() + 5000);
  }, 240_000);
});
