import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../shared/config/config';
import { bullPrefix } from '../shared/redis/redis';
import type { WebhookRepository } from './webhook.repository';
import type { StoredEndpoint, WebhookEvent } from './webhook.types';

export const DELIVERY_QUEUE = 'notify-deliveries';
export const DELIVERY_BACKOFF = 'spacehub-webhook';

export interface DeliveryJobData {
  endpointId: string;
  event: WebhookEvent;
}

/**
 * One job per (alert, endpoint). Its id is `${alertId}:${endpointId}`, made colon-free because BullMQ
 * refuses custom ids with colons (alert ids have several): while the job is kept, adding it again — a
 * replayed alert, a second notify process — is a no-op; after that the "delivered" marker decides.
 */
export const deliveryJobId = (alertId: string, endpointId: string) => encodeURIComponent(`${alertId}:${endpointId}`);

export function deliveryJobOptions(c: Pick<Config, 'NOTIFY_MAX_ATTEMPTS'>, alertId: string, endpointId: string): JobsOptions {
  return {
    jobId: deliveryJobId(alertId, endpointId),
    attempts: c.NOTIFY_MAX_ATTEMPTS,
    backoff: { type: DELIVERY_BACKOFF },
    removeOnComplete: { age: 7 * 86400, count: 10000 },
    // Failed jobs stay for inspection and re-driving; the delivery record is what the API shows.
    removeOnFail: { age: 30 * 86400, count: 10000 },
  };
}

export function createDeliveryQueue(connection: Redis, redisKeyPrefix: string): Queue<DeliveryJobData> {
  return new Queue<DeliveryJobData>(DELIVERY_QUEUE, { connection, prefix: bullPrefix(redisKeyPrefix) });
}

/** Records the delivery as pending and adds its job — unless it was already delivered. */
export async function enqueueDelivery(queue: Queue<DeliveryJobData>, repo: WebhookRepository, c: Pick<Config, 'NOTIFY_MAX_ATTEMPTS'>, endpoint: StoredEndpoint, event: WebhookEvent): Promise<'enqueued' | 'already_delivered'> {
  if (await repo.isDelivered(endpoint.id, event.alertId)) return 'already_delivered';
  await repo.recordQueued(endpoint.id, event.alertId, event.type);
  await queue.add(event.type, { endpointId: endpoint.id, event }, deliveryJobOptions(c, event.alertId, endpoint.id));
  return 'enqueued';
}
