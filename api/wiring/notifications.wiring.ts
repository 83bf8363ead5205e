import type { Redis } from 'ioredis';
import type { Config } from '../../shared/config/config';
import type { Logger } from '../../shared/logging/logger';
import { cipherFromConfig } from '../../platforms/platform-services';
import type { TokenCipher } from '../../platforms/tokens/token-cipher';
import { createDeliveryQueue } from '../../notifications/delivery.queue';
import { WebhookRepository } from '../../notifications/webhook.repository';
import { WebhookService } from '../../notifications/webhook.service';

/**
 * The notifications part as the API uses it: the endpoint store and the delivery queue (the API only
 * adds test deliveries; `spacehub notify` runs the worker). Webhook secrets are encrypted with the token
 * key ring (platforms' cipherFromConfig: a generated development key in simulator mode); without a key
 * ring the webhook routes answer 503 instead of storing plaintext.
 */
export function notificationParts(config: Config, redis: Redis, logger: Logger): { webhooks: WebhookService | null; close(): Promise<void> } {
  let cipher: TokenCipher;
  try {
    cipher = cipherFromConfig(config, logger);
  } catch (err) {
    logger.warn({ err }, 'no token key ring: /v1/webhooks answers 503');
    return { webhooks: null, close: async () => undefined };
  }
  const queue = createDeliveryQueue(redis, config.REDIS_KEY_PREFIX);
  const repo = new WebhookRepository(redis, config.REDIS_KEY_PREFIX, cipher);
  return { webhooks: new WebhookService(repo, queue, config), close: () => queue.close() };
}
