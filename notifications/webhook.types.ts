import { ALERT_TYPES, isAlertType, type AlertType } from '../shared/events/events';

/**
 * The vocabulary of outbound notifications: which alert types a user can subscribe to, the two payload
 * formats, and what is stored per endpoint and per delivery. A user can subscribe to every alert type:
 * they are the `type` values of the Avro `Alert` record, listed once next to it
 * (shared/events/schemas/alert.ts).
 */
export const WEBHOOK_EVENT_TYPES = ALERT_TYPES;
export type WebhookEventType = AlertType;

export const WEBHOOK_FORMATS = ['json', 'discord'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export const isWebhookEventType = isAlertType;

/**
 * One endpoint as stored: the URL and the secret only as AES-GCM blobs (a Discord URL is a credential —
 * its path carries the webhook's token — and a generic one may carry a token in its query).
 */
export interface StoredEndpoint {
  id: string;
  userId: string;
  /** Encrypted URL (AAD `webhook-url:<id>`); read it with WebhookRepository.urlOf. */
  urlBlob?: string;
  /** Plaintext URL of endpoints stored before URLs were encrypted; `spacehub keys rotate` encrypts it. */
  url?: string;
  format: WebhookFormat;
  events: WebhookEventType[];
  description: string;
  secretBlob: string;
  createdAt: number;
}

/** What the API returns to the endpoint's owner: never the secret (it is shown once, in the creation answer). */
export type PublicEndpoint = Omit<StoredEndpoint, 'secretBlob' | 'urlBlob' | 'url'> & { url: string };

export type DeliveryStatus = 'pending' | 'retrying' | 'delivered' | 'failed' | 'dead_lettered' | 'skipped';

export interface DeliveryRecord {
  alertId: string;
  endpointId: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
}

/** What every payload is built from: the alert, decoded, with its details parsed. */
export interface WebhookEvent {
  alertId: string;
  type: string;
  userId: string;
  platform: string;
  channelId: string;
  occurredAt: number;
  severity: string;
  message: string;
  details: Record<string, unknown>;
  /** True for `POST /v1/webhooks/{id}/test`. */
  test?: boolean;
}
