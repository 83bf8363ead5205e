import WebSocket from 'ws';
import type { Consumer, Producer } from 'kafkajs';
import type { Redis } from 'ioredis';
import { ApiTokenStore } from '../../shared/auth/api-tokens';
import { createRedis } from '../../shared/redis/redis';
import { createIdempotentProducer } from '../../shared/kafka/kafka.client';
import type { Alert, MetricWindow, StreamLifecycle } from '../../shared/events/events';
import { bootstrap, createRuntime } from '../../shared/runtime';
import { createClickHouse } from '../../shared/clickhouse/clickhouse.repository';
import { createLogger } from '../../shared/logging/logger';
import { ensureTopics, waitForKafka } from '../../shared/kafka/kafka.client';
import { randomSuffix, testConfig, TestStack } from '../support/stack';
import { ConnectionRepository } from '../../platforms/connections/connection.repository';
import { TokenCipher } from '../../platforms/tokens/token-cipher';
import { ConnectionOwnership } from '../../gateway/channel-ownership';
import { GatewayServer } from '../../gateway/gateway.server';

/**
 * testStack(), minus ClickHouse unless asked: the gateway touches only Kafka, the Schema Registry and
 * Redis, so its suites do not depend on the migrations. Same isolation (random topic, key and
 * database names). Apicurio sometimes answers a client-side retry of a slow first registration with
 * 409 "already exists" (seen under parallel suites); registering the identical schema again returns
 * its id, so registration is retried once.
 */
export async function gatewayStack(overrides: Record<string, string> = {}, opts: { clickhouse?: boolean } = {}): Promise<TestStack> {
  const config = testConfig(overrides);
  const rt = createRuntime(config, createLogger(config.LOG_LEVEL));
  if (opts.clickhouse) {
    await bootstrap(rt).catch(() => bootstrap(rt));
  } else {
    await waitForKafka(rt.kafka, rt.kafkaSettings.brokers);
    await rt.registry.waitUntilReady();
    const admin = rt.kafka.admin();
    await admin.connect();
    await ensureTopics(admin, rt.kafkaSettings).finally(() => admin.disconnect());
    await rt.registry.registerAll().catch(() => rt.registry.registerAll());
  }
  return {
    rt,
    async cleanup() {
      const a = rt.kafka.admin();
      await a.connect();
      try {
        const mine = (await a.listTopics()).filter((t) => t.startsWith(`${config.KAFKA_TOPIC_PREFIX}.`));
        if (mine.length) await a.deleteTopics({ topics: mine, timeout: 10000 }).catch(() => undefined);
      } finally {
        await a.disconnect();
      }
      if (opts.clickhouse) {
        const ch = createClickHouse(rt.clickhouseSettings, undefined);
        await ch.command({ query: 'DROP DATABASE IF EXISTS {db:Identifier}', query_params: { db: config.CLICKHOUSE_DATABASE } }).catch(() => undefined);
        await ch.close();
      }
    },
  };
}

export interface Creator {
  userId: string;
  token: string;
  channelId: string;
  connectionId?: string;
}

/**
 * A gateway on an isolated namespace of the real stack (Kafka, Schema Registry, Redis), two creators
 * with API tokens and a connected Twitch channel each, and helpers that play the processors' part:
 * producing Alert and MetricWindow records onto the topics the gateway consumes.
 */
export class GatewayFixture {
  stack!: TestStack;
  redis!: Redis;
  gateway!: GatewayServer;
  producer!: Producer;
  connections!: ConnectionRepository;
  alice!: Creator;
  bob!: Creator;
  private consumers: Consumer[] = [];

  /** `clickhouse: true` bootstraps the full testStack() (migrations too), for suites that run the processors. */
  static async create(overrides: Record<string, string> = {}, opts: { clickhouse?: boolean } = {}): Promise<GatewayFixture> {
    const f = new GatewayFixture();
    const config = { GATEWAY_MESSAGES_PER_SECOND: '20', GATEWAY_MAX_PAYLOAD_BYTES: '4096', ...overrides };
    f.stack = await gatewayStack(config, opts);
    const { rt } = f.stack;
    f.redis = createRedis(rt.config.REDIS_URL);
    const tokens = new ApiTokenStore(f.redis, rt.config.REDIS_KEY_PREFIX);
    const mk = async (name: string): Promise<Creator> => {
      const user = await tokens.createUser(name, `u_${name}_${randomSuffix()}`);
      return { userId: user.userId, token: (await tokens.createToken(user.userId)).token, channelId: `ch_${name}_${randomSuffix()}` };
    };
    f.alice = await mk('alice');
    f.bob = await mk('bob');
    // Each creator connected a Twitch channel (the platforms' real repository, on this test's key prefix).
    f.connections = new ConnectionRepository(f.redis, rt.config.REDIS_KEY_PREFIX, TokenCipher.fromKeyRing(rt.config.TOKEN_ENCRYPTION_KEYS));
    for (const c of [f.alice, f.bob]) {
      const conn = await f.connections.upsert(
        { userId: c.userId, platform: 'twitch', channelId: c.channelId, login: c.channelId, displayName: c.channelId, scopes: [] },
        { accessToken: 'sim-access', refreshToken: 'sim-refresh', expiresAt: null, scopes: [] },
      );
      c.connectionId = conn.connectionId;
    }
    f.gateway = new GatewayServer(rt, { tokens, ownership: new ConnectionOwnership(f.connections) }, { host: '127.0.0.1', port: 0 });
    await f.gateway.start();
    f.producer = createIdempotentProducer(rt.kafka);
    await f.producer.connect();
    return f;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.gateway.port}/ws`;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.gateway.port}`;
  }

  async produceAlert(a: Omit<Alert, 'severity' | 'detailsJson'> & Partial<Pick<Alert, 'severity' | 'detailsJson'>>): Promise<void> {
    const value = await this.stack.rt.registry.encode('alerts', { severity: 'info', detailsJson: '{}', ...a });
    await this.producer.send({ topic: this.stack.rt.topics.alerts, acks: -1, messages: [{ key: a.userId, value }] });
  }

  async produceWindow(w: MetricWindow): Promise<void> {
    const value = await this.stack.rt.registry.encode('windows', w);
    await this.producer.send({ topic: this.stack.rt.topics.windows, acks: -1, messages: [{ key: w.userId, value }] });
  }

  /** A whole simulated session for a creator: start alert, two closed windows, end alert with summary. */
  session(c: Creator, startAt: number) {
    const base = { userId: c.userId, platform: 'twitch', channelId: c.channelId };
    const win = (i: number, viewers: number): MetricWindow => ({
      ...base, windowStart: startAt + i * 60_000, samples: 2, avgViewers: viewers, peakViewers: viewers + 5, minViewers: viewers - 5,
      viewerMinutes: viewers, followers: 1000 + i, followerDelta: 1, chatMessages: 10 * i, uniqueChatters: 3 * i, engagementRate: 0.1 * i, live: true, session: null, provisional: false, chatSamplingRate: 1,
      paidSubscribers: null, paidSubscriberDelta: null, subscriptionPoints: null,
    });
    const summary = { streamId: `s_${startAt}`, durationSeconds: 120, avgViewers: 110, peakViewers: 125, viewerMinutes: 220, chatMessages: 30 };
    return {
      start: { ...base, alertId: `${c.channelId}:s_${startAt}:stream_started`, type: 'stream_started', occurredAt: startAt, message: 'stream started' },
      windows: [win(0, 100), win(1, 120)],
      end: { ...base, alertId: `${c.channelId}:s_${startAt}:stream_ended`, type: 'stream_ended', occurredAt: startAt + 120_000, message: 'stream ended', detailsJson: JSON.stringify(summary) },
      summary,
    };
  }

  /** Every StreamLifecycle record on this namespace's lifecycle topic, decoded. */
  async lifecycleRecords(): Promise<() => StreamLifecycle[]> {
    const { rt } = this.stack;
    const seen: StreamLifecycle[] = [];
    const consumer = rt.kafka.consumer({ groupId: `lc-check-${randomSuffix()}`, maxWaitTimeInMs: 100 });
    this.consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: rt.topics.lifecycle, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ topic, message }) => void seen.push(await rt.registry.decode<StreamLifecycle>(topic, message.value)) });
    return () => seen;
  }

  async close(): Promise<void> {
    for (const c of this.consumers) await c.disconnect().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    await this.gateway?.close();
    if (this.redis) {
      const keys = await this.redis.keys(`${this.stack.rt.config.REDIS_KEY_PREFIX}:*`);
      if (keys.length) await this.redis.del(...keys);
      this.redis.disconnect();
    }
    await this.stack?.cleanup();
  }
}

/** A plain-protocol test client that records every frame and its close code. */
export class PlainClient {
  readonly received: Array<{ event: string; data: Record<string, unknown> }> = [];
  closeCode: number | undefined;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => this.received.push(JSON.parse(String(raw))));
    ws.on('close', (code) => (this.closeCode = code));
  }

  /** Resolves when open; rejects with the HTTP status of a refused upgrade. */
  static connect(url: string, opts: { token?: string; via?: 'header' | 'subprotocol' | 'query' } = {}): Promise<PlainClient> {
    const via = opts.via ?? 'header';
    const target = opts.token && via === 'query' ? `${url}?token=${encodeURIComponent(opts.token)}` : url;
    const ws = new WebSocket(target, opts.token && via === 'subprotocol' ? ['bearer', opts.token] : [], {
      headers: opts.token && via === 'header' ? { Authorization: `Bearer ${opts.token}` } : {},
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new PlainClient(ws)));
      ws.once('unexpected-response', (req, res) => {
        req.destroy(); // ws leaves a refused upgrade's socket open otherwise
        reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode }));
      });
      ws.once('error', reject);
    });
  }

  send(event: string, data?: unknown, id?: string | number): void {
    this.ws.send(JSON.stringify(id === undefined ? { event, data } : { event, data, id }));
  }

  of(event: string) {
    return this.received.filter((m) => m.event === event).map((m) => m.data);
  }

  /**
   * The first `event` frame matching `pred`. Fails at once when the socket closes first, and either way
   * names the close code and the last frames received, so a missing frame says why.
   */
  async waitFor(event: string, pred: (d: Record<string, unknown>) => boolean = () => true, timeoutMs = 30000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.of(event).find(pred);
      if (hit) return hit;
      const seen = () => `${this.received.length} frames received, the last: ${JSON.stringify(this.received.slice(-3)).slice(0, 400)}`;
      if (this.closeCode !== undefined) throw new Error(`the socket closed (code ${this.closeCode}) before a matching "${event}"; ${seen()}`);
      if (Date.now() > deadline) throw new Error(`no matching "${event}" within ${timeoutMs} ms on an open socket; ${seen()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async request(event: string, data?: unknown): Promise<Record<string, unknown>> {
    const id = `r${randomSuffix()}`;
    this.send(event, data, id);
    return this.waitFor('ack', (d) => d.id === id);
  }

  close(): void {
    this.ws.close();
  }
}
