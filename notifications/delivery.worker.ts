import http from 'node:http';
import https from 'node:https';
import axios, { AxiosError } from 'axios';
import { DelayedError, Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../shared/config/config';
import type { Logger } from '../shared/logging/logger';
import { backoffDelay } from '../shared/errors/retry';
import { bullPrefix } from '../shared/redis/redis';
import { DELIVERY_BACKOFF, DELIVERY_QUEUE, type DeliveryJobData } from './delivery.queue';
import { notifyMetrics } from './notify.metrics';
import { buildBody } from './payload.format';
import { assertWebhookUrl, guardedLookup, webhookTargetPolicy } from './webhook-url.guard';
import type { WebhookRepository } from './webhook.repository';
import type { StoredEndpoint } from './webhook.types';
import { sign, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './webhook.signature';
import { EndpointCircuit, UserDeliverySlots } from './delivery.isolation';

/** A failure worth another attempt (5xx, timeout, network, 429); `retryAfterMs` comes from a 429's Retry-After. */
export class RetriableDeliveryError extends Error {
  constructor(message: string, readonly retryAfterMs: number | null = null) {
    super(message);
    this.name = 'RetriableDeliveryError';
  }
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3); null when absent or unreadable. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  // Integer per the RFC; some services (Discord among them) have sent fractional seconds.
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.ceil(Number(value.trim()) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

export type Verdict = { kind: 'delivered' } | { kind: 'retry'; reason: string; retryAfterMs: number | null } | { kind: 'failed'; reason: string };

/** HTTP status → what to do: 2xx delivered; 429 retry (Retry-After); 5xx retry; any other status is final. */
export function classifyStatus(status: number, retryAfter: unknown): Verdict {
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  if (status === 429) return { kind: 'retry', reason: 'HTTP 429', retryAfterMs: parseRetryAfter(retryAfter) };
  if (status >= 500) return { kind: 'retry', reason: `HTTP ${status}`, retryAfterMs: null };
  return { kind: 'failed', reason: `HTTP ${status}` };
}

export interface DeliveryWorkerDeps {
  redis: Redis;
  repo: WebhookRepository;
  config: Pick<Config, 'REDIS_KEY_PREFIX' | 'NOTIFY_CONCURRENCY' | 'NOTIFY_USER_CONCURRENCY' | 'NOTIFY_CIRCUIT_FAILURES' | 'NOTIFY_CIRCUIT_OPEN_SECONDS' | 'NOTIFY_BACKOFF_INITIAL_MS' | 'NOTIFY_BACKOFF_MAX_MS' | 'NOTIFY_HTTP_TIMEOUT_MS' | 'NOTIFY_MAX_RETRY_AFTER_SECONDS' | 'ALLOW_PRIVATE_WEBHOOK_TARGETS' | 'WEBHOOK_ALLOWED_PORTS' | 'PUBLIC_BASE_URL'>;
  logger: Logger;
}

/**
 * BullMQ worker that POSTs one alert to one endpoint. Exactly one successful POST per (alert, endpoint):
 * the "delivered" marker is checked before posting and set after a 2xx, before the job is acknowledged.
 * (A crash between the receiver's 2xx and the marker can still repeat a POST — receivers de-duplicate
 * by the `id` / X-SpaceHub-Delivery they get, which is the alert id.)
 */
export class DeliveryWorker {
  private readonly worker: Worker<DeliveryJobData>;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly log: Logger;
  private readonly slots: UserDeliverySlots;
  private readonly circuit: EndpointCircuit;

  constructor(private readonly d: DeliveryWorkerDeps) {
    const lookup = guardedLookup(d.config.ALLOW_PRIVATE_WEBHOOK_TARGETS) as unknown as http.AgentOptions['lookup'];
    // The guard runs as the sockets' DNS lookup: the address connected to is the address checked.
    this.httpAgent = new http.Agent({ keepAlive: true, lookup } as http.AgentOptions);
    this.httpsAgent = new https.Agent({ keepAlive: true, lookup } as https.AgentOptions);
    this.log = d.logger.child({ module: 'notify.delivery' });
    const c = d.config;
    // A slot's lease outlives the attempt's hard deadline, so only a crashed worker's slot ever expires.
    this.slots = new UserDeliverySlots(d.redis, c.REDIS_KEY_PREFIX, c.NOTIFY_USER_CONCURRENCY, c.NOTIFY_HTTP_TIMEOUT_MS + 30_000);
    this.circuit = new EndpointCircuit(d.redis, c.REDIS_KEY_PREFIX, c.NOTIFY_CIRCUIT_FAILURES, c.NOTIFY_CIRCUIT_OPEN_SECONDS * 1000);
    this.worker = new Worker<DeliveryJobData>(DELIVERY_QUEUE, (job, token) => this.process(job, token), {
      connection: d.redis,
      prefix: bullPrefix(c.REDIS_KEY_PREFIX),
      concurrency: c.NOTIFY_CONCURRENCY,
      autorun: true,
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string, err?: Error) => {
          if (type !== DELIVERY_BACKOFF) return 0;
          if (err instanceof RetriableDeliveryError && err.retryAfterMs !== null) return Math.min(err.retryAfterMs, c.NOTIFY_MAX_RETRY_AFTER_SECONDS * 1000);
          return backoffDelay(Math.max(1, attemptsMade), { initialDelayMs: c.NOTIFY_BACKOFF_INITIAL_MS, maxDelayMs: c.NOTIFY_BACKOFF_MAX_MS });
        },
      },
    });
    this.worker.on('error', (err) => this.log.warn({ err }, 'delivery worker error'));
  }

  waitUntilReady(): Promise<unknown> {
    return this.worker.waitUntilReady();
  }

  /** Puts the job back, delayed, without spending an attempt (BullMQ: moveToDelayed + DelayedError). */
  private async postpone(job: Job<DeliveryJobData>, token: string | undefined, at: number, reason: 'user_concurrency' | 'circuit_open'): Promise<never> {
    notifyMetrics.postponed.inc({ reason });
    await job.moveToDelayed(Math.round(at), token);
    throw new DelayedError();
  }

  private async process(job: Job<DeliveryJobData>, token?: string): Promise<string> {
    const { endpointId, event } = job.data;
    const attempt = job.attemptsMade + 1;
    const maxAttempts = job.opts.attempts ?? 1;
    const endpoint = await this.d.repo.get(endpointId);
    if (!endpoint) {
      // Deleted after the alert was enqueued: nothing to deliver to.
      notifyMetrics.deliveries.inc({ format: 'unknown', outcome: 'skipped' });
      await this.d.repo.updateDelivery(endpointId, event.alertId, { status: 'skipped', attempts: attempt - 1, lastError: 'endpoint deleted' });
      return 'skipped';
    }
    const format = endpoint.format;
    if (await this.d.repo.isDelivered(endpointId, event.alertId)) {
      notifyMetrics.deliveries.inc({ format, outcome: 'duplicate' });
      return 'duplicate';
    }
    const openUntil = await this.circuit.openUntil(endpointId);
    if (openUntil !== null) {
      await this.d.repo.updateDelivery(endpointId, event.alertId, { status: 'retrying', attempts: attempt - 1, lastError: `circuit open after repeated failures; next try after ${new Date(openUntil).toISOString()}` });
      return this.postpone(job, token, openUntil + Math.random() * 1000, 'circuit_open');
    }
    // One user's deliveries may hold at most NOTIFY_USER_CONCURRENCY of the worker's slots; the others
    // wait (briefly, re-checked) so that every other user's deliveries keep flowing.
    const slot = String(job.id);
    if (!(await this.slots.acquire(endpoint.userId, slot))) return this.postpone(job, token, Date.now() + 250 + Math.random() * 750, 'user_concurrency');
    try {
      return await this.attempt(job, endpoint, attempt, maxAttempts);
    } finally {
      await this.slots.release(endpoint.userId, slot).catch(() => undefined); // a lost slot expires with its lease
    }
  }

  private async attempt(job: Job<DeliveryJobData>, endpoint: StoredEndpoint, attempt: number, maxAttempts: number): Promise<string> {
    const { endpointId, event } = job.data;
    const format = endpoint.format;
    const body = buildBody(format, event, this.d.config.PUBLIC_BASE_URL);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'SpaceHub-Webhooks/1' };
    if (format === 'json') {
      const ts = Math.floor(Date.now() / 1000);
      headers[TIMESTAMP_HEADER] = String(ts);
      headers[SIGNATURE_HEADER] = sign(this.d.repo.secretOf(endpoint), ts, body);
      headers['X-SpaceHub-Event'] = event.type;
      headers['X-SpaceHub-Delivery'] = event.alertId;
    }

    let verdict: Verdict;
    let statusCode: number | null = null;
    const started = performance.now();
    try {
      // Literal IP hosts never reach a DNS lookup, so the agent's guard alone would not see them.
      const url = this.d.repo.urlOf(endpoint);
      await assertWebhookUrl(url, webhookTargetPolicy(this.d.config));
      const res = await axios.post(url, body, {
        headers,
        // A hard deadline for the whole attempt (connect, answer, body). axios' `timeout` is an idle
        // timer on the socket: a receiver trickling a byte now and then would hold the slot forever.
        signal: AbortSignal.timeout(this.d.config.NOTIFY_HTTP_TIMEOUT_MS),
        maxRedirects: 0, // a redirect could lead anywhere, including past the SSRF guard's verdict
        validateStatus: () => true,
        responseType: 'text',
        transformResponse: (x: unknown) => x,
        maxContentLength: 64 * 1024,
        httpAgent: this.httpAgent,
        httpsAgent: this.httpsAgent,
        proxy: false,
      });
      statusCode = res.status;
      verdict = classifyStatus(res.status, res.headers['retry-after']);
    } catch (err) {
      verdict = networkVerdict(err);
    }
    const outcome = verdict.kind === 'retry' ? (attempt >= maxAttempts ? 'dead_lettered' : 'retrying') : verdict.kind;
    notifyMetrics.latency.observe({ format, outcome }, (performance.now() - started) / 1000);
    notifyMetrics.deliveries.inc({ format, outcome });
    const ctx = { endpointId, alertId: event.alertId, attempt, statusCode };

    if (verdict.kind === 'retry') {
      const opened = await this.circuit.failure(endpointId);
      if (opened !== null) this.log.info({ endpointId, until: new Date(opened).toISOString() }, 'webhook endpoint circuit opened');
    } else if (verdict.kind === 'delivered') await this.circuit.success(endpointId);

    if (verdict.kind === 'delivered') {
      await this.d.repo.markDelivered(endpointId, event.alertId);
      await this.d.repo.updateDelivery(endpointId, event.alertId, { status: 'delivered', attempts: attempt, lastStatusCode: statusCode });
      this.log.debug(ctx, 'webhook delivered');
      return 'delivered';
    }
    if (verdict.kind === 'failed') {
      await this.d.repo.updateDelivery(endpointId, event.alertId, { status: 'failed', attempts: attempt, lastStatusCode: statusCode, lastError: verdict.reason });
      this.log.info({ ...ctx, reason: verdict.reason }, 'webhook delivery failed (not retried)');
      throw new UnrecoverableError(verdict.reason);
    }
    if (outcome === 'dead_lettered') {
      notifyMetrics.deadLettered.inc();
      await this.d.repo.updateDelivery(endpointId, event.alertId, { status: 'dead_lettered', attempts: attempt, lastStatusCode: statusCode, lastError: verdict.reason });
      this.log.warn({ ...ctx, reason: verdict.reason }, 'webhook delivery dead-lettered');
      throw new UnrecoverableError(`gave up after ${attempt} attempts: ${verdict.reason}`);
    }
    await this.d.repo.updateDelivery(endpointId, event.alertId, { status: 'retrying', attempts: attempt, lastStatusCode: statusCode, lastError: verdict.reason });
    throw new RetriableDeliveryError(verdict.reason, verdict.retryAfterMs);
  }

  async close(): Promise<void> {
    try {
      await this.worker.close();
    } finally {
      this.httpAgent.destroy();
      this.httpsAgent.destroy();
    }
  }
}

/** No answer: timeouts and network errors are retried; a refused target (SSRF guard) is final. */
export function networkVerdict(err: unknown): Verdict {
  const e = err as AxiosError & { code?: string };
  if (e.code === 'WEBHOOK_TARGET_REFUSED' || (e.cause as { code?: string } | undefined)?.code === 'WEBHOOK_TARGET_REFUSED' || e.name === 'WebhookTargetError') {
    return { kind: 'failed', reason: `target refused: ${e.message}` };
  }
  if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT' || e.code === 'ERR_CANCELED' || e.name === 'CanceledError' || e.name === 'TimeoutError') return { kind: 'retry', reason: 'timeout', retryAfterMs: null };
  return { kind: 'retry', reason: `network error ${e.code ?? ''}`.trim(), retryAfterMs: null };
}
