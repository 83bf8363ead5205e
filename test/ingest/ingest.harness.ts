import type { Consumer } from 'kafkajs';
import { createRedis } from '../../shared/redis/redis';
import type { Runtime } from '../../shared/runtime';
import type { TopicName } from '../../shared/kafka/topics';
import type { Connection } from '../../platforms/connections/connection.repository';
import { createPlatformServices, type PlatformServices } from '../../platforms/platform-services';
import { endpointsAt } from '../../platforms/endpoints';
import { seedDemo } from '../../platforms/simulator/demo-seed';
import { startSimulator, type Simulator } from '../../platforms/simulator/simulator.server';
import { randomSuffix } from '../support/stack';

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
