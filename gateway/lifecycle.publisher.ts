import type { Producer } from 'kafkajs';
import type { Runtime } from '../shared/runtime';
import type { StreamLifecycle } from '../shared/events/events';
import { AppError } from '../shared/errors/app-error';
import { createIdempotentProducer, produce } from '../shared/kafka/kafka.client';
import { channelKey } from '../shared/kafka/topics';

/** Publishes creator-tool stream events to the lifecycle topic, so the pipeline treats them like platform data. */
export interface LifecycleSink {
  publish(event: StreamLifecycle): Promise<void>;
}

export class KafkaLifecyclePublisher implements LifecycleSink {
  private producer: Producer | undefined;
  private connecting: Promise<void> | undefined;

  constructor(private readonly rt: Runtime) {}

  async start(): Promise<void> {
    this.connecting ??= (async () => {
      const p = createIdempotentProducer(this.rt.kafka);
      await p.connect();
      this.producer = p;
    })();
    return this.connecting;
  }

  async publish(event: StreamLifecycle): Promise<void> {
    await this.start();
    try {
      const value = await this.rt.registry.encode('lifecycle', event);
      await produce(this.producer!, { topic: this.rt.topics.lifecycle, messages: [{ key: channelKey(event.platform, event.channelId), value }] });
    } catch (err) {
      throw new AppError('PUBLISH_FAILED', 'the stream event could not be published to Kafka', {
        retriable: true,
        cause: err,
        context: { topic: this.rt.topics.lifecycle, platform: event.platform, channelId: event.channelId },
      });
    }
  }

  async close(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    this.connecting = undefined;
    await p?.disconnect();
  }
}
