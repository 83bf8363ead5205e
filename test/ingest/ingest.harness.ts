import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import type { Consumer } from 'kafkajs';
import { createRedis } from '../../shared/redis/redis';
import type { Runtime } from '../../shared/runtime';
import type { TopicName } from '../../shared/kafka/topics';
import type { Connection } from '../../platforms/connections/connection.repository';
import { createPlatformServices, type PlatformServices } from '../../platforms/platform-services';
import { endpointsAt } from '../../platforms/endpoints';
import { seedDemo } from '../../platforms/simulator/demo-seed';
import { startSimulator, type Simulator } from '../../platforms/simulator/simulator.server';
import { IngestService, type IngestServiceOptions } from '../../ingest/ingest.service';
import { platformPorts } from '../../ingest/platform.ports';
import type { IngestPorts } from '../../ingest/ingest.ports';
import { eventually, randomSuffix, testStack, type TestStack } from '../support/stack';

/** Short intervals so a test sees many polls in seconds; limits stay on (that is what is being tested). */
export const FAST_INGEST: Record<string, string> = {
  INGEST_LIVE_POLL_SECONDS: '2',
  INGEST_OFFLINE_POLL_SECONDS: '3',
  INGEST_FOLLOWERS_POLL_SECONDS: '4',
  INGEST_CHAT_MIN_POLL_MS: '2000',
  INGEST_BACKOFF_INITIAL_MS: '200',
  INGEST_BACKOFF_MAX_MS: '1000',
  INGEST_STALLED_INTERVAL_MS: '3000',
  INGEST_RECONCILE_SECONDS: '3600',
  INGEST_CONCURRENCY: '8',
  // A test day's polling of 25 YouTube channels every 2 s needs far more than Google's default.
  YOUTUBE_DAILY_QUOTA_UNITS: '100000000',
  PLATFORM_HTTP_TIMEOUT_MS: '1500',
  INGEST_JOB_TIMEOUT_MS: '8000',
};

/** The simulator in-process plus platforms' own services pointed at it, to connect channels the way creators do. */
export async function simulatedPlatforms(rt: Runtime, channels: number): Promise<{ sim: Simulator; platform: PlatformServices; connect(userId: string, n: number): Promise<Connection[]>; close(): Promise<void> }> {
  // Chat scaled up: freshly started test streams have few viewers, and chat scales with viewers.
  const sim = await startSimulator({ port: 0, seed: 7, channels, chatScale: 200 });
  const redis = createRedis(rt.config.REDIS_URL);
  const platform = createPlatformServices(rt.config, redis, undefined, { endpoints: endpointsAt(sim.url) });
  return {
    sim,
    platform,
    connect: (userId, n) => seedDemo({ streaming: platform.streaming, simulatorUrl: sim.url, redirectUri: () => 'http://127.0.0.1/callback' }, { userId, channels: n }),
    async close() {
      await platform.close();
      redis.disconnect();
      await sim.close();
    },
  };
}

export interface IngestHarness {
  stack: TestStack;
  platforms: Awaited<ReturnType<typeof simulatedPlatforms>>;
  /** Started: reads the given topics from the beginning. */
  collector: TopicCollector;
  /** Defined once `startIngest` ran. */
  svc: IngestService | undefined;
  /** Starts the ingest service in this process, its platform ports pointed at the simulator. */
  startIngest(options?: Omit<IngestServiceOptions, 'ports'>): Promise<IngestService>;
  close(): Promise<void>;
}

/**
 * The ingest tests' set-up: an isolated stack (FAST_INGEST intervals unless `env` says otherwise), the
 * simulator with `channels` channels and the platforms part to connect them, and a collector on
 * `topics`; `startIngest` runs ingest in this process (tests of `bin/spacehub ingest` as a child use
 * `childEnv` and `startIngestProcess` instead). Closing stops ingest, then the rest, then the stack.
 */
export async function ingestHarness(o: { channels: number; topics: TopicName[]; env?: Record<string, string> }): Promise<IngestHarness> {
  const stack = await testStack({ ...FAST_INGEST, ...o.env });
  const platforms = await simulatedPlatforms(stack.rt, o.channels);
  let ports: IngestPorts | undefined;
  const collector = new TopicCollector(stack.rt, o.topics);
  await collector.start();
  const h: IngestHarness = {
    stack, platforms, collector, svc: undefined,
    async startIngest(options = {}) {
      ports ??= platformPorts(stack.rt.config, undefined, { endpoints: endpointsAt(platforms.sim.url) });
      h.svc = await IngestService.start(stack.rt, { ports, ...options });
      return h.svc;
    },
    async close() {
      await h.svc?.close();
      await ports?.close?.();
      await collector.stop();
      await platforms.close();
      await stack.cleanup();
    },
  };
  return h;
}

export interface Collected<T> {
  value: T;
  key: string;
  partition: number;
  offset: string;
}

/** Reads topics from the beginning through the Schema Registry into arrays, until stopped. */
export class TopicCollector {
  readonly events: Record<string, Array<Collected<Record<string, unknown>>>> = {};
  private consumer: Consumer | undefined;

  constructor(private readonly rt: Runtime, private readonly names: TopicName[]) {
    for (const n of names) this.events[n] = [];
  }

  of<T>(name: TopicName): Array<Collected<T>> {
    return this.events[name] as unknown as Array<Collected<T>>;
  }

  async start(): Promise<void> {
    const byTopic = new Map(this.names.map((n) => [this.rt.topics[n], n]));
    this.consumer = this.rt.kafka.consumer({ groupId: `collector-${randomSuffix()}`, maxWaitTimeInMs: 200 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...byTopic.keys()], fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const value = await this.rt.registry.decode<Record<string, unknown>>(topic, message.value);
        this.events[byTopic.get(topic)!]!.push({ value, key: message.key?.toString() ?? '', partition, offset: message.offset });
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

/** Ids that occur more than once. */
export const duplicates = (ids: string[]) => [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];

const ROOT = path.resolve(__dirname, '../..');

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** The environment of a `bin/spacehub` child process on this test's namespace, against the simulator at `simPort`. */
export async function childEnv(rt: Runtime, simPort: number): Promise<Record<string, string>> {
  const c = rt.config;
  return {
    LOG_LEVEL: 'warn',
    KAFKA_BROKERS: c.KAFKA_BROKERS,
    SCHEMA_REGISTRY_URL: c.SCHEMA_REGISTRY_URL,
    CLICKHOUSE_URL: c.CLICKHOUSE_URL,
    REDIS_URL: c.REDIS_URL,
    KAFKA_TOPIC_PREFIX: c.KAFKA_TOPIC_PREFIX,
    KAFKA_PARTITIONS: String(c.KAFKA_PARTITIONS),
    CLICKHOUSE_DATABASE: c.CLICKHOUSE_DATABASE,
    REDIS_KEY_PREFIX: c.REDIS_KEY_PREFIX,
    TOKEN_ENCRYPTION_KEYS: c.TOKEN_ENCRYPTION_KEYS!,
    PLATFORMS_MODE: 'simulator',
    SIMULATOR_PORT: String(simPort),
    METRICS_PORT: String(await freePort()),
  };
}

/** `bin/spacehub ingest` as its own process; resolves once it printed `spacehub ready` (at `readyAt`). */
export async function startIngestProcess(env: Record<string, string>): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null>; readyAt: number }> {
  const child = spawn(path.join(ROOT, 'bin/spacehub'), ['ingest'], { cwd: ROOT, env: { ...process.env, ...env, SPACEHUB_DEV: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let readyAt = 0;
  const onData = (d: Buffer) => {
    out += d.toString();
    if (!readyAt && out.includes('spacehub ready')) readyAt = Date.now();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await eventually(async () => out, (o) => o.includes('spacehub ready') || child.exitCode !== null, 120_000, 200);
  if (!out.includes('spacehub ready')) throw new Error(`ingest process did not start:\n${out.slice(-3000)}`);
  return { child, output: () => out, exited, readyAt };
}
