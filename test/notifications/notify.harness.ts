import type { Producer } from 'kafkajs';
import type { Alert } from '../../shared/events/events';
import type { RunningApi, StartApiOptions } from '../../api/api.service';
import { NotifyService } from '../../notifications/notify.service';
import { apiHarness, type ApiHarness, type ApiHarnessOptions } from '../support/api.harness';
import { cleanupNotify, WebhookReceiver } from './webhook-receiver';

export interface NotifyHarness extends Omit<ApiHarness, 'start' | 'close'> {
  /** A local HTTP receiver on 127.0.0.1 that webhooks are pointed at (started). */
  rx: WebhookReceiver;
  /** Defined once `start` ran. */
  notify: NotifyService;
  /** Starts the API, then the NotifyService (its consumer group, BullMQ queue and worker) and an alert producer. */
  start(api?: Omit<StartApiOptions, 'port'>): Promise<RunningApi>;
  /** Produces an Alert to the test's alerts topic as the processors do (key = user id). */
  produceAlert(alert: Alert): Promise<void>;
  close(): Promise<void>;
}

/**
 * The webhook tests' set-up: the API harness (stack, users, connections, API), a webhook receiver,
 * the real NotifyService and a producer on the test's alerts topic. Closing stops the producer, the
 * notify worker, the API and the receiver, removes the notify consumer group, then the stack.
 */
export async function notifyHarness(options: ApiHarnessOptions = {}): Promise<NotifyHarness> {
  const h = await apiHarness(options);
  const rx = new WebhookReceiver();
  await rx.start();
  const { rt } = h.stack;
  let notify: NotifyService | undefined;
  let producer: Producer | undefined;
  const start = async (api: Omit<StartApiOptions, 'port'> = {}) => {
    const running = await h.start(api);
    notify = await NotifyService.start(rt, { metricsPort: null });
    producer = rt.kafka.producer({ idempotent: true });
    await producer.connect();
    return running;
  };
  const produceAlert = async (alert: Alert) => {
    if (!producer) throw new Error('notifyHarness: call start() first');
    await producer.send({ topic: rt.topics.alerts, acks: -1, messages: [{ key: alert.userId, value: await rt.registry.encode('alerts', alert) }] });
  };
  const close = async () => {
    await producer?.disconnect();
    await notify?.close();
    await rx.close();
    await cleanupNotify(rt, h.redis).catch(() => undefined);
    await h.close(); // the API, the clients, the stack
  };
  // The API harness's members (its `api` getter included) stay reachable through the prototype.
  const harness = Object.create(h, {
    rx: { value: rx },
    notify: {
      get(): NotifyService {
        if (!notify) throw new Error('notifyHarness: call start() first');
        return notify;
      },
    },
    start: { value: start },
    produceAlert: { value: produceAlert },
    close: { value: close },
  }) as NotifyHarness;
  return harness;
}
