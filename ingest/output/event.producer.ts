import type { Message, Producer } from 'kafkajs';
import type { Runtime } from '../../shared/runtime';
import type { TopicName } from '../../shared/kafka/topics';
import { createIdempotentProducer } from '../../shared/kafka/kafka.client';
import { ingestMetrics } from '../ingest.metrics';
import { ProduceFailedError } from '../ingest.errors';

export interface OutgoingEvent {
  topic: TopicName;
  /** `<platform>:<channelId>` for channel topics, the user id for alerts. */
  key: string;
  eventId: string;
  value: object;
}

interface Waiting {
  messages: Array<{ topic: TopicName; message: Message }>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The ingest side of Kafka: one idempotent producer (acks=all) per process, Avro through the Schema
 * Registry. `send` resolves once Kafka acknowledged the caller's events, so a job commits its own
 * state only after its events are durable. The event id also travels as a header so tools can
 * de-duplicate without decoding.
 *
 * Group commit: the idempotent producer allows one request in flight, so calls that arrive while a
 * request is on the wire are sent together in the next one (each caller still waits for its own
 * ack). Order is kept: a call's messages never overtake an earlier call's. If a request fails, every
 * call in it fails and its job retries with the same event ids.
 */
export class EventProducer {
  private readonly producer: Producer;
  private connected = false;
  private queue: Waiting[] = [];
  private sending = false;

  constructor(private readonly rt: Runtime) {
    this.producer = createIdempotentProducer(rt.kafka);
  }

  async waitUntilReady(): Promise<void> {
    if (this.connected) return;
    await this.producer.connect();
    this.connected = true;
  }

  async send(events: OutgoingEvent[]): Promise<void> {
    if (events.length === 0) return;
    const end = ingestMetrics.produceLatency.startTimer();
    try {
      const messages = await Promise.all(
        events.map(async (e) => ({ topic: e.topic, message: { key: e.key, value: await this.rt.registry.encode(e.topic, e.value), headers: { eventId: e.eventId } } })),
      );
      await new Promise<void>((resolve, reject) => {
        this.queue.push({ messages, resolve, reject });
        this.pump();
      });
    } catch (err) {
      end({ outcome: 'error' });
      throw err instanceof ProduceFailedError ? err : new ProduceFailedError(events.map((e) => e.topic).join(','), err);
    }
    end({ outcome: 'ok' });
    for (const e of events) ingestMetrics.events.inc({ topic: e.topic });
  }

  private pump(): void {
    if (this.sending || this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.sending = true;
    const byTopic = new Map<TopicName, Message[]>();
    for (const w of batch) for (const m of w.messages) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), m.message]);
    this.producer
      .sendBatch({ acks: -1, topicMessages: [...byTopic].map(([name, messages]) => ({ topic: this.rt.topics[name], messages })) })
      .then(
        () => batch.forEach((w) => w.resolve()),
        (err: unknown) => {
          const failure = new ProduceFailedError([...byTopic.keys()].join(','), err);
          batch.forEach((w) => w.reject(failure));
        },
      )
      .finally(() => {
        this.sending = false;
        this.pump();
      });
  }

  async close(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.producer.disconnect();
  }
}
