import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import type { ServiceModule } from '../shared/lifecycle/process.contract';
import type { Runtime } from '../shared/runtime';
import { Closer } from '../shared/lifecycle/lifecycle';
import { createRedis } from '../shared/redis/redis';
import { acquireMetricsServer, type MetricsServerHandle } from '../shared/metrics/metrics.server';
import { cipherFromConfig } from '../platforms/platform-services';
import { ConnectionRepository } from '../platforms/connections/connection.repository';
import { AlertsConsumer } from './alerts.consumer';
import { createDeliveryQueue, type DeliveryJobData } from './delivery.queue';
import { DeliveryWorker } from './delivery.worker';
import { WebhookRepository } from './webhook.repository';

export interface NotifyServiceOptions {
  /** null = no metrics server (tests); default METRICS_PORT. */
  metricsPort?: number | null;
}

/** Composition root of `spacehub notify`: Redis, the delivery queue and worker, the alerts consumer. */
export class NotifyService {
  private readonly closer = new Closer();
  private constructor(readonly repo: WebhookRepository, readonly queue: Queue<DeliveryJobData>, readonly consumer: AlertsConsumer, private metrics?: MetricsServerHandle) {}

  static async start(rt: Runtime, o: NotifyServiceOptions = {}): Promise<NotifyService> {
    const c = rt.config;
    const closer = new Closer();
    try {
      const redis: Redis = createRedis(c.REDIS_URL, { forBullMQ: true });
      closer.add('redis', () => void redis.disconnect());
      const cipher = cipherFromConfig(c, rt.logger);
      const repo = new WebhookRepository(redis, c.REDIS_KEY_PREFIX, cipher);
      // Read-only here: who owns an alert's channel now (the owner index), never tokens.
      const connections = new ConnectionRepository(redis, c.REDIS_KEY_PREFIX, cipher);
      const queue = createDeliveryQueue(redis, c.REDIS_KEY_PREFIX);
      closer.add('queue', () => queue.close());
      const worker = new DeliveryWorker({ redis, repo, config: c, logger: rt.logger });
      closer.add('worker', () => worker.close());
      await worker.waitUntilReady();
      const consumer = new AlertsConsumer(rt, repo, queue, c.NOTIFY_GROUP_ID ?? `${c.KAFKA_TOPIC_PREFIX}.notify`, connections);
      closer.add('consumer', () => consumer.close());
      await consumer.start();
      const port = o.metricsPort === undefined ? c.METRICS_PORT : o.metricsPort;
      const metrics = port === null ? undefined : await acquireMetricsServer(port);
      if (metrics) closer.add('metrics server', () => metrics.close());
      const svc = new NotifyService(repo, queue, consumer, metrics);
      svc.closer.add('all', () => closer.close((name, err) => rt.logger.warn({ module: 'notify', part: name, err }, 'close failed')));
      rt.logger.info({ module: 'notify', groupId: consumer.groupId }, 'notify started');
      return svc;
    } catch (err) {
      await closer.close();
      throw err;
    }
  }

  get metricsUrl(): string | undefined {
    return this.metrics?.url;
  }

  close(): Promise<void> {
    return this.closer.close();
  }
}

/** `spacehub notify`: outbound webhooks (generic signed JSON and Discord) for alerts from Kafka. */
export const notifyService: ServiceModule = {
  name: 'notify',
  describe: 'deliver alerts to users\' webhooks (signed JSON, Discord): Kafka alerts → BullMQ jobs → HTTP POST with retries',
  inAll: true,
  async start(rt) {
    const svc = await NotifyService.start(rt);
    const urls: Record<string, string> = svc.metricsUrl ? { metrics: svc.metricsUrl } : {};
    return { urls, close: () => svc.close() };
  },
};
