import crypto from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Config } from '../shared/config/config';
import { AppError } from '../shared/errors/app-error';
import { enqueueDelivery, type DeliveryJobData } from './delivery.queue';
import { assertWebhookUrl, webhookTargetPolicy } from './webhook-url.guard';
import type { WebhookRepository } from './webhook.repository';
import { newSecret } from './webhook.signature';
import type { DeliveryRecord, PublicEndpoint, StoredEndpoint, WebhookEventType, WebhookFormat } from './webhook.types';

export class WebhookNotFoundError extends AppError {
  constructor(id: string) {
    super('WEBHOOK_NOT_FOUND', `no webhook ${id}`, { retriable: false });
  }
}

export const MAX_ENDPOINTS_PER_USER = 25;

export class WebhookLimitError extends AppError {
  constructor() {
    super('WEBHOOK_LIMIT', `at most ${MAX_ENDPOINTS_PER_USER} webhooks per user`, { retriable: false });
  }
}

/**
 * What the API does with webhooks, scoped to the calling user: someone else's endpoint is "not found",
 * like one that does not exist, so ids cannot be probed. The secret leaves only in `create`'s answer.
 */
export class WebhookService {
  constructor(
    private readonly repo: WebhookRepository,
    private readonly queue: Queue<DeliveryJobData>,
    private readonly config: Pick<Config, 'ALLOW_PRIVATE_WEBHOOK_TARGETS' | 'WEBHOOK_ALLOWED_PORTS' | 'NOTIFY_MAX_ATTEMPTS'>,
  ) {}

  async create(userId: string, input: { url: string; format: WebhookFormat; events: WebhookEventType[]; description?: string }): Promise<PublicEndpoint & { secret: string }> {
    await assertWebhookUrl(input.url, webhookTargetPolicy(this.config));
    if ((await this.repo.listByUser(userId)).length >= MAX_ENDPOINTS_PER_USER) throw new WebhookLimitError();
    const secret = newSecret();
    const created = await this.repo.create({ userId, url: input.url, format: input.format, events: [...new Set(input.events)], description: input.description ?? '', secret });
    return { ...created, secret };
  }

  async list(userId: string): Promise<PublicEndpoint[]> {
    return (await this.repo.listByUser(userId)).map((e) => this.repo.publicOf(e));
  }

  async delete(userId: string, id: string): Promise<void> {
    await this.repo.delete(await this.own(userId, id));
  }

  /** Queues a synthetic event of the endpoint's first subscribed type; returns its delivery id. */
  async sendTest(userId: string, id: string): Promise<{ alertId: string; status: string }> {
    const e = await this.own(userId, id);
    const alertId = `test:${e.id}:${crypto.randomBytes(6).toString('hex')}`;
    const type = e.events[0] ?? 'stream_started';
    await enqueueDelivery(this.queue, this.repo, this.config, e, {
      alertId, type, userId, platform: 'test', channelId: 'test', occurredAt: Date.now(), severity: 'info',
      message: 'This is a test notification from Space HUB Streaming.', details: { viewers: 42, durationSeconds: 3600, title: 'Test stream' }, test: true,
    });
    return { alertId, status: 'pending' };
  }

  async deliveries(userId: string, id: string, limit: number): Promise<DeliveryRecord[]> {
    await this.own(userId, id);
    return this.repo.deliveries(id, limit);
  }

  private async own(userId: string, id: string): Promise<StoredEndpoint> {
    const e = await this.repo.get(id);
    if (!e || e.userId !== userId) throw new WebhookNotFoundError(id);
    return e;
  }
}
