import crypto from 'node:crypto';
import os from 'node:os';
import type { Consumer, EachMessagePayload } from 'kafkajs';
import type { Runtime } from '../shared/runtime';
import type { Logger } from '../shared/logging/logger';
import type { Alert, MetricWindow } from '../shared/events/events';
import { UndecodableMessageError, untilRegistryAnswers } from '../shared/schema-registry/schema-registry';
import { retry } from '../shared/errors/retry';
import { isKafkaRetriable } from '../shared/kafka/kafka.errors';
import { alertToFeed, FeedMessage, windowToFeed } from './feed.mapper';
import { LruSet } from '../shared/collections/lru-set';
import { gatewayMetrics } from './gateway.metrics';

/**
 * Each gateway instance reads the whole alerts + windows feed with a consumer group of its own
 * (unique per instance), so a client can connect to any instance and still get its messages. It is a
 * live feed: the group starts at the end of each partition and never commits; history is the REST
 * API's job. Alerts are de-duplicated by alertId (replays after a processor restart repeat them).
 */
export class FeedConsumer {
  readonly groupId: string;
  private consumer: Consumer | undefined;
  private readonly dedup: LruSet;
  private readonly log: Logger;
  private undecodableLogged = false;
  /** Ends a wait for the Schema Registry on close. */
  private readonly abort = new AbortController();

  constructor(private readonly rt: Runtime, private readonly deliver: (msg: FeedMessage) => unknown, dedupSize: number) {
    this.groupId = `${rt.config.KAFKA_CLIENT_ID}.gateway.${os.hostname()}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
    this.dedup = new LruSet(dedupSize);
    this.log = rt.logger.child({ module: 'gateway.feed' });
  }

  /** Resolves once the consumer owns its partitions and sits at the offsets read before it joined. */
  async start(): Promise<void> {
    const topics = [this.rt.topics.alerts, this.rt.topics.windows];
    // Read the ends of the topics before joining, and seek there once running: nothing produced after
    // start() returns can be missed, whatever "latest" meant at the moment of the first fetch.
    const admin = this.rt.kafka.admin();
    await admin.connect();
    // Metadata can lag a moment behind a topic's creation ("does not host this topic-partition").
    const ends = await retry(
      () => Promise.all(topics.map(async (topic) => ({ topic, partitions: await admin.fetchTopicOffsets(topic) }))),
      { what: 'read the feed topics\' end offsets', attempts: 6, initialDelayMs: 200, maxDelayMs: 2000, retryOn: isKafkaRetriable },
    ).finally(() => admin.disconnect());
    const consumer = this.rt.kafka.consumer({ groupId: this.groupId, sessionTimeout: 30_000, heartbeatInterval: 3_000, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: false });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({ autoCommit: false, eachMessage: (p) => this.onMessage(p) });
    await joined;
    for (const { topic, partitions } of ends) {
      for (const p of partitions) consumer.seek({ topic, partition: p.partition, offset: p.offset });
    }
    this.log.info({ groupId: this.groupId }, 'gateway feed consumer running');
  }

  private async onMessage({ topic, partition, message, heartbeat }: EachMessagePayload): Promise<void> {
    const kind = topic === this.rt.topics.alerts ? 'alert' : 'window';
    // A registry that cannot answer is waited out (backoff, heartbeats): the record arrives late, not never.
    const decode = <T>() => untilRegistryAnswers(() => this.rt.registry.decode<T>(topic, message.value), {
      what: 'gateway feed decode', signal: this.abort.signal,
      onRetry: (err, attempt, delayMs) => {
        this.log.warn({ topic, partition, offset: message.offset, attempt, delayMs, err }, 'Schema Registry unavailable; waiting');
        void heartbeat().catch(() => undefined);
      },
    });
    let msg: FeedMessage;
    try {
      if (kind === 'alert') {
        const alert = await decode<Alert>();
        if (this.dedup.seen(alert.alertId)) {
          gatewayMetrics.feed.inc({ kind, outcome: 'duplicate' });
          return;
        }
        msg = alertToFeed(alert);
      } else {
        msg = windowToFeed(await decode<MetricWindow>());
      }
    } catch (err) {
      if (!(err instanceof UndecodableMessageError)) throw err;
      gatewayMetrics.feed.inc({ kind, outcome: 'undecodable' });
      // A live feed skips what it cannot read; log the first occurrence only (never the payload).
      if (!this.undecodableLogged) this.log.warn({ topic, offset: message.offset, err }, 'undecodable feed record skipped');
      this.undecodableLogged = true;
      return;
    }
    gatewayMetrics.feed.inc({ kind, outcome: 'delivered' });
    try {
      // Awaited (owners are looked up in Redis): records reach each client in partition order.
      await this.deliver(msg);
    } catch (err) {
      // A bug in fan-out must not stop the feed for everyone else.
      this.log.error({ topic, offset: message.offset, err }, 'feed delivery failed');
    }
  }

  async close(): Promise<void> {
    this.abort.abort(new Error('gateway feed closing'));
    const c = this.consumer;
    this.consumer = undefined;
    await c?.disconnect();
  }
}
