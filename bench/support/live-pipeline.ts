/**
 * The whole live path for the end-to-end latency benches (go-live-latency, live-latency): an isolated
 * stack with ClickHouse and a gateway (the gateway tests' fixture), the platform simulator with
 * CHANNELS demo channels connected by alice, the processors and a plain-WS client of alice, joined to
 * her feed. Ingest is started by `start()` (so a bench can attach its listeners first), once the processors
 * have joined their consumer group, and everything is closed by `close()`, which runs every step even if one fails.
 */
import type { Connection } from '../../platforms/connections/connection.repository';
import { IngestService } from '../../ingest/ingest.service';
import { platformPorts } from '../../ingest/platform.ports';
import { endpointsAt } from '../../platforms/endpoints';
import { createProcessor } from '../../processors/processor.wiring';
import type { Runtime } from '../../shared/runtime';
import { GatewayFixture, PlainClient } from '../../test/gateway/gateway.fixture';
import { simulatedPlatforms } from '../../test/ingest/ingest.harness';

export interface LivePipeline {
  rt: Runtime;
  world: Awaited<ReturnType<typeof simulatedPlatforms>>['sim']['world'];
  /** alice's connected channels (the demo seed alternates Twitch and YouTube). */
  conns: Connection[];
  userId: string;
  client: PlainClient;
  /** Starts the processors, waits until they joined their group, then starts ingest (with EventSub push sessions when `push`). */
  start(opts?: { push?: boolean }): Promise<void>;
  close(): Promise<void>;
}

/** Every channel starts offline; `overrides` are the stack's config (poll cadences, early firing, …). */
export async function startLivePipeline(overrides: Record<string, string>, channels: number): Promise<LivePipeline> {
  const f = await GatewayFixture.create({ PROCESSOR_FLUSH_INTERVAL_MS: '500', YOUTUBE_DAILY_QUOTA_UNITS: '100000000', LOG_LEVEL: 'warn', ...overrides }, { clickhouse: true });
  const { rt } = f.stack;
  const platforms = await simulatedPlatforms(rt, channels);
  const ports = platformPorts(rt.config, undefined, { endpoints: endpointsAt(platforms.sim.url) });
  const processor = createProcessor(rt);
  let ingest: IngestService | undefined;
  let client: PlainClient | undefined;
  const close = async () => {
    const steps: Array<() => unknown> = [
      () => client?.close(), () => ingest?.close(), () => processor.close(), () => ports.close?.(), () => platforms.close(), () => f.close(),
    ];
    for (const step of steps) await Promise.resolve().then(step).catch((err: unknown) => console.error('live pipeline close:', err));
  };
  try {
    const world = platforms.sim.world;
    for (const c of world.channels) world.forceLive(c.channelId, false);
    const conns = await platforms.connect(f.alice.userId, channels);
    client = await PlainClient.connect(f.wsUrl, { token: f.alice.token });
    await client.request('join_stream_channel', { userId: f.alice.userId });
    const joined = client;
    return {
      rt, world, conns, userId: f.alice.userId, client: joined, close,
      async start(opts = {}) {
        await processor.start();
        // Ingest starts once the processors hold their partitions: the first observations then measure
        // the path, not the group join.
        const joinBy = Date.now() + 60_000;
        while (processor.joinedAt === undefined && Date.now() < joinBy) await new Promise((r) => setTimeout(r, 50));
        if (processor.joinedAt === undefined) throw new Error('live pipeline: the processors did not join their group within 60 s');
        ingest = await IngestService.start(rt, { ports, metricsPort: null, ...(opts.push !== undefined ? { push: opts.push } : {}) });
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}
