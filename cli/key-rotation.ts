/**
 * Key rotation for everything sealed with the TOKEN_ENCRYPTION_KEYS ring: platform tokens of every
 * connection (active, idle and reauth_required alike — revoked ones hold none), webhook signing
 * secrets and URLs, and the YouTube WebSub subscriptions' hub secrets. Put a new key first in the ring, run this (`spacehub keys rotate`), then remove the
 * old key: nothing sealed with it is left. Reads of old blobs also rewrite them lazily, but only for
 * what happens to be read; this covers the rest. It lives in cli/ because it composes parts
 * (platforms' connections, notifications' webhooks, ingest's WebSub store) that do not import each other.
 */
import type { Redis } from 'ioredis';
import { WebSubStore } from '../ingest/push/websub.store';
import { WebhookRepository } from '../notifications/webhook.repository';
import { ConnectionRepository } from '../platforms/connections/connection.repository';
import type { TokenCipher } from '../platforms/tokens/token-cipher';

export interface RotationCount {
  rewritten: number;
  failed: number;
}

export interface RotationReport {
  activeKeyId: string;
  connections: RotationCount;
  webhooks: RotationCount & { total: number };
  /** YouTube WebSub subscriptions' hub secrets (ingest). */
  websub: RotationCount & { total: number };
}

export async function rotateStoredSecrets(d: { redis: Redis; prefix: string; cipher: TokenCipher }): Promise<RotationReport> {
  const connections = await new ConnectionRepository(d.redis, d.prefix, d.cipher).rotateKeys();
  const webhooks = await new WebhookRepository(d.redis, d.prefix, d.cipher).rotateKeys();
  const websub = await new WebSubStore(d.redis, d.prefix, d.cipher).rotateKeys();
  return { activeKeyId: d.cipher.activeKeyId, connections, webhooks, websub };
}
