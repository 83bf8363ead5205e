import { parseAlertDetails } from '../shared/events/alert-details';
import type { Consumer, EachMessagePayload } from 'kafkajs';
import type { Queue } from 'bullmq';
import type { Runtime } from '../shared/runtime';
import type { Logger } from '../shared/logging/logger';
import type { Alert } from '../shared/events/events';
import { recipientsOf, type ChannelOwnerLookup } from '../shared/events/channel-audience';
import { UndecodableMessageError, untilRegistryAnswers } from '../shared/schema-registry/schema-registry';
import { retry } from '../shared/errors/retry';
import { isKafkaRetriable } from '../shared/kafka/kafka.errors';
import { enqueueDelivery, type DeliveryJobData } from './delivery.queue';
import { notifyMetrics } from './notify.metrics';
import type { WebhookRepository } from './webhook.repository';
import { isWebhookEventType, type WebhookEvent } from './webhook.types';

export function alertToEvent(a: Alert): WebhookEvent {
  const details = parseAlertDetails(a.detailsJson);
  return {
    alertId: a.alertId, type: a.type, userId: a.userId, platform: a.platform, channelId: a.channelId,
    occurredAt: Number(a.occurredAt), severity: a.severity, message: a.message, details,
  };
}

/**
 * Reads the alerts topic with the notify consumer group (shared by every notify process, so each alert
 * is fanned out once) and turns each alert into one BullMQ job per subscribed endpoint of each of its
 * recipients: the channel's active owners at this moment (shared/events/channel-audience.ts), not the
 * alert's `userId` — a channel several users connected notifies them all, one who left is not notified.
 * The offset is committed only after the jobs were added; a crash in between re-reads the alert and the
 * deterministic job ids / delivered markers make the re-add harmless.
 * A group that has never committed starts at the topic's end: a new deployment does not notify history.
 */
export class AlertsConsumer {
  private consumer: Consumer | undefined;
  private readonly log: Logger;
  private undecodableLogged = false;
  /** Ends a wait for the Schema Registry on close (that alert is not committed; it is read again). */
  private readonly abort = new AbortController();

  constructor(private readonly rt: Runtime, private readonly repo: WebhookRepository, private readonly queue: Queue<DeliveryJobData>, readonly groupId: string, private readonly owners: ChannelOwnerLookup) {
    this.log = rt.logger.child({ module: 'notify.alerts' });
  }

  async start(): Promise<void> {
    const topic = this.rt.topics.alerts;
    await this.startAtEndIfNew(topic);
    const consumer = this.rt.kafka.consumer({ groupId: this.groupId, sessionTimeout: 30_000, heartbeatInterval: 3_000, maxWaitTimeInMs: 200, allowAutoTopicCreation: false });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({ autoCommit: false, eachMessage: (p) => this.onMessage(p) });
    await joined;
    this.log.info({ groupId: this.groupId }, 'notify consumer running');
  }

  private async startAtEndIfNew(topic: string): Promise<void> {
    const admin = this.rt.kafka.admin();
    await admin.connect();
    try {
      const committed = await retry(() => admin.fetchOffsets({ groupId: this.groupId, topics: [topic] }), {
        what: 'read the notify group offsets', attempts: 10, initialDelayMs: 200, maxDelayMs: 2000,
        retryOn: isKafkaRetriable,
      });
      const none = committed.every((t) => t.partitions.every((p) => p.offset === '-1'));
      if (!none) return;
      const ends = await retry(() => admin.fetchTopicOffsets(topic), { what: 'read the alerts topic end offsets', attempts: 6, initialDelayMs: 200, maxDelayMs: 2000, retryOn: isKafkaRetriable });
      // Fails harmlessly when another notify process of the group is already running (it did the same).
      await admin.setOffsets({ groupId: this.groupId, topic, partitions: ends.map((p) => ({ partition: p.partition, offset: p.offset })) }).catch((err: Error) => this.log.debug({ err }, 'setOffsets skipped'));
    } finally {
      await admin.disconnect();
    }
  }

  private async onMessage({ topic, partition, message, heartbeat }: EachMessagePayload): Promise<void> {
    const commit = () => this.consumer!.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
    let alert: Alert;
    try {
      // A registry that cannot answer is waited out here (backoff, heartbeats): this alert is neither
      // skipped nor committed past, so its webhooks still go out once it answers.
      alert = await untilRegistryAnswers(() => this.rt.registry.decode<Alert>(topic, message.value), {
        what: 'notify decode', signal: this.abort.signal,
        onRetry: (err, attempt, delayMs) => {
          this.log.warn({ topic, partition, offset: message.offset, attempt, delayMs, err }, 'Schema Registry unavailable; waiting');
          void heartbeat().catch(() => undefined);
        },
      });
    } catch (err) {
      if (!(err instanceof UndecodableMessageError)) throw err; // not committed: kafkajs re-delivers it
      notifyMetrics.enqueued.inc({ outcome: 'undecodable' });
      if (!this.undecodableLogged) this.log.warn({ topic, partition, offset: message.offset, err }, 'undecodable alert skipped');
      this.undecodableLogged = true;
      await commit();
      return;
    }
    if (isWebhookEventType(alert.type)) {
      const endpoints = [];
      for (const userId of await recipientsOf(alert, this.owners)) endpoints.push(...(await this.repo.listByUser(userId)).filter((e) => e.events.includes(alert.type as never)));
      const event = alertToEvent(alert);
      // Each recipient's copy names that recipient (never a co-owner's user id).
      for (const e of endpoints) await enqueueDelivery(this.queue, this.repo, this.rt.config, e, { ...event, userId: e.userId });
      notifyMetrics.enqueued.inc({ outcome: endpoints.length ? 'enqueued' : 'no_endpoint' });
    }
    await commit();
  }

  async close(): Promise<void> {
    this.abort.abort(new Error('notify consumer closing'));
    const c = this.consumer;
    this.consumer = undefined;
    await c?.disconnect();
  }
}
