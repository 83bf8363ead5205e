import crypto from 'node:crypto';
import type { Producer } from 'kafkajs';
import type { Runtime } from '../shared/runtime';
import { createIdempotentProducer } from '../shared/kafka/kafka.client';
import type { Heartbeat } from '../shared/events/events';

/** Emits a Heartbeat every interval so the pipeline's end-to-end freshness is observable. */
export class HeartbeatProducer {
  private producer: Producer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sequence = 0;

  constructor(private readonly rt: Runtime, private readonly source = `${process.pid}`) {}

  async start(intervalMs = this.rt.config.HEARTBEAT_INTERVAL_MS): Promise<void> {
    this.producer = createIdempotentProducer(this.rt.kafka);
    await this.producer.connect();
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch((err) => this.rt.logger.warn({ module: 'heartbeat', err }, 'heartbeat failed')), intervalMs);
  }

  async beat(): Promise<Heartbeat> {
    const hb: Heartbeat = { eventId: crypto.randomUUID(), source: this.source, emittedAt: Date.now(), sequence: ++this.sequence };
    await this.producer!.send({
      topic: this.rt.topics.heartbeat,
      acks: -1,
      messages: [{ key: this.source, value: await this.rt.registry.encode('heartbeat', hb) }],
    });
    return hb;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.producer?.disconnect();
  }
}
