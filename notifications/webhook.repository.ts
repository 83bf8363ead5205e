import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import type { TokenCipher } from '../platforms/tokens/token-cipher';
import type { DeliveryRecord, DeliveryStatus, PublicEndpoint, StoredEndpoint, WebhookEventType, WebhookFormat } from './webhook.types';

/**
 * Webhook endpoints and delivery records in Redis, under the process's key prefix:
 *   <p>:notify:endpoint:<id>            JSON StoredEndpoint (URL and secret as AES-GCM blobs, AAD = `webhook-url:<id>` / `webhook:<id>`)
 *   <p>:notify:user:<userId>            set of the user's endpoint ids
 *   <p>:notify:delivery:<id>:<alertId>  JSON DeliveryRecord
 *   <p>:notify:deliveries:<id>          sorted set alertId → created time (newest kept, bounded)
 *   <p>:notify:delivered:<id>:<alertId> the "delivered" marker: set before a job is acknowledged, so a
 *                                       replayed alert or a retried job never posts twice
 */
const MARKER_TTL_SECONDS = 30 * 86400;
const DELIVERY_TTL_SECONDS = 30 * 86400;
const DELIVERIES_KEPT = 500;

export class WebhookRepository {
  private readonly p: string;

  constructor(private readonly redis: Redis, prefix: string, private readonly cipher: TokenCipher) {
    this.p = `${prefix}:notify`;
  }

  async create(e: { userId: string; url: string; format: WebhookFormat; events: WebhookEventType[]; description: string; secret: string }): Promise<PublicEndpoint> {
    const id = `wh_${crypto.randomBytes(9).toString('base64url')}`;
    const stored: StoredEndpoint = {
      id, userId: e.userId, urlBlob: this.cipher.encrypt(e.url, urlAad(id)), format: e.format, events: e.events, description: e.description, createdAt: Date.now(),
      secretBlob: this.cipher.encrypt(e.secret, secretAad(id)),
    };
    await this.redis.multi().set(`${this.p}:endpoint:${id}`, JSON.stringify(stored)).sadd(`${this.p}:user:${e.userId}`, id).exec();
    return this.publicOf(stored);
  }

  async get(id: string): Promise<StoredEndpoint | null> {
    const raw = await this.redis.get(`${this.p}:endpoint:${id}`);
    return raw ? (JSON.parse(raw) as StoredEndpoint) : null;
  }

  async listByUser(userId: string): Promise<StoredEndpoint[]> {
    const ids = await this.redis.smembers(`${this.p}:user:${userId}`);
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => `${this.p}:endpoint:${id}`));
    return raws.flatMap((r) => (r ? [JSON.parse(r) as StoredEndpoint] : [])).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  async delete(e: StoredEndpoint): Promise<void> {
    await this.redis.multi().del(`${this.p}:endpoint:${e.id}`).srem(`${this.p}:user:${e.userId}`, e.id).exec();
  }

  secretOf(e: StoredEndpoint): string {
    return this.cipher.decrypt(e.secretBlob, secretAad(e.id));
  }

  urlOf(e: StoredEndpoint): string {
    if (e.urlBlob) return this.cipher.decrypt(e.urlBlob, urlAad(e.id));
    if (e.url) return e.url; // stored before URLs were encrypted
    throw new Error(`webhook ${e.id} has no URL`);
  }

  /** What the owner may see (never the secret). */
  publicOf(e: StoredEndpoint): PublicEndpoint {
    return { id: e.id, userId: e.userId, url: this.urlOf(e), format: e.format, events: e.events, description: e.description, createdAt: e.createdAt };
  }

  /**
   * Re-encrypts every endpoint's secret and URL with the ring's active key (and encrypts plaintext URLs
   * of older records), so a retired key can leave TOKEN_ENCRYPTION_KEYS. `SET … XX`: an endpoint deleted
   * meanwhile stays deleted. A record that cannot be decrypted is counted as failed and left as it is.
   */
  async rotateKeys(): Promise<{ rewritten: number; failed: number; total: number }> {
    const out = { rewritten: 0, failed: 0, total: 0 };
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.p}:endpoint:wh_*`, 'COUNT', 200);
      cursor = next;
      for (const key of keys) {
        const raw = await this.redis.get(key);
        if (!raw) continue;
        out.total++;
        const e = JSON.parse(raw) as StoredEndpoint;
        const stale = !e.urlBlob || this.cipher.needsReencryption(e.urlBlob) || this.cipher.needsReencryption(e.secretBlob);
        if (!stale) continue;
        try {
          const { url: _plain, ...rest } = e;
          const next: StoredEndpoint = { ...rest, urlBlob: this.cipher.encrypt(this.urlOf(e), urlAad(e.id)), secretBlob: this.cipher.encrypt(this.secretOf(e), secretAad(e.id)) };
          await this.redis.set(key, JSON.stringify(next), 'XX');
          out.rewritten++;
        } catch {
          out.failed++;
        }
      }
    } while (cursor !== '0');
    return out;
  }

  /** Creates the record once (a replayed alert finds the existing one and keeps its state). */
  async recordQueued(endpointId: string, alertId: string, eventType: string): Promise<void> {
    const now = Date.now();
    const rec: DeliveryRecord = { alertId, endpointId, eventType, status: 'pending', attempts: 0, lastStatusCode: null, lastError: null, createdAt: now, updatedAt: now, deliveredAt: null };
    const created = await this.redis.set(this.deliveryKey(endpointId, alertId), JSON.stringify(rec), 'EX', DELIVERY_TTL_SECONDS, 'NX');
    if (created === 'OK') {
      const list = `${this.p}:deliveries:${endpointId}`;
      await this.redis.multi().zadd(list, now, alertId).zremrangebyrank(list, 0, -DELIVERIES_KEPT - 1).expire(list, DELIVERY_TTL_SECONDS).exec();
    }
  }

  async updateDelivery(endpointId: string, alertId: string, patch: { status: DeliveryStatus; attempts: number; lastStatusCode?: number | null; lastError?: string | null }): Promise<void> {
    const key = this.deliveryKey(endpointId, alertId);
    const raw = await this.redis.get(key);
    if (!raw) return;
    const rec = JSON.parse(raw) as DeliveryRecord;
    const now = Date.now();
    const next: DeliveryRecord = { ...rec, ...patch, lastStatusCode: patch.lastStatusCode ?? null, lastError: patch.lastError ?? null, updatedAt: now, deliveredAt: patch.status === 'delivered' ? now : rec.deliveredAt };
    await this.redis.set(key, JSON.stringify(next), 'EX', DELIVERY_TTL_SECONDS);
  }

  async deliveries(endpointId: string, limit: number): Promise<DeliveryRecord[]> {
    const alertIds = await this.redis.zrevrange(`${this.p}:deliveries:${endpointId}`, 0, limit - 1);
    if (alertIds.length === 0) return [];
    const raws = await this.redis.mget(alertIds.map((a) => this.deliveryKey(endpointId, a)));
    return raws.flatMap((r) => (r ? [JSON.parse(r) as DeliveryRecord] : []));
  }

  isDelivered(endpointId: string, alertId: string): Promise<boolean> {
    return this.redis.exists(this.markerKey(endpointId, alertId)).then((n) => n === 1);
  }

  /** True when this call set the marker (the first successful delivery). */
  async markDelivered(endpointId: string, alertId: string): Promise<boolean> {
    return (await this.redis.set(this.markerKey(endpointId, alertId), String(Date.now()), 'EX', MARKER_TTL_SECONDS, 'NX')) === 'OK';
  }

  private deliveryKey = (endpointId: string, alertId: string) => `${this.p}:delivery:${endpointId}:${alertId}`;
  private markerKey = (endpointId: string, alertId: string) => `${this.p}:delivered:${endpointId}:${alertId}`;
}

const secretAad = (id: string) => `webhook:${id}`;
const urlAad = (id: string) => `webhook-url:${id}`;
