/**
 * The one HTTP client of both adapters (STYLE: rate limiting lives in the HTTP layer). Each call has
 * a timeout, a small retry for transient failures (idempotent GETs only), a metric, and ends either
 * in a body validated against the platform's documented shape (`*.external.ts`) or a PlatformError
 * naming the platform and endpoint. Bodies are read as text and parsed here, so a truncated or
 * non-JSON body is a typed MALFORMED_RESPONSE, never an exception from deep inside axios.
 */
import http from 'node:http';
import https from 'node:https';
import axios, { AxiosInstance, AxiosResponse } from 'axios';
import type { ZodType, ZodTypeDef } from 'zod';
import type { Logger } from '../../shared/logging/logger';
import { retry, RetriesExhaustedError, sleep } from '../../shared/errors/retry';
import { PlatformError, PlatformErrorCode } from './platform-error';
import { parseRateLimitHeaders, RateLimiter } from './rate-limit.bucket';
import { platformLatency, platformRequests, rateLimitRemaining } from './platform.metrics';

export type ParamValue = string | number | boolean | string[] | undefined;

export interface PlatformRequest<T> {
  /** Logical name for errors and metrics, e.g. "helix.streams" or "liveChatMessages.list". */
  endpoint: string;
  method?: 'GET' | 'POST';
  baseUrl: string;
  path: string;
  params?: Record<string, ParamValue>;
  /** application/x-www-form-urlencoded body (OAuth token endpoints). */
  form?: Record<string, string | undefined>;
  /** JSON body (EventSub subscriptions). */
  json?: unknown;
  headers?: Record<string, string>;
  /** Shape of a 2xx body; null when the platform answers with no body (revoke). */
  schema: ZodType<T, ZodTypeDef, unknown> | null;
  /** Twitch: the rate-limit bucket (client id + user) this call spends a point of. */
  bucket?: string;
}

/** Turns an error answer into a code and the platform's reason (each adapter knows its platform's error bodies). */
export type ErrorMapper = (status: number, body: unknown, endpoint: string) => { code: PlatformErrorCode; reason?: string; message?: string } | undefined;

export interface PlatformHttpOptions {
  platform: string;
  timeoutMs: number;
  logger?: Logger;
  rateLimiter?: RateLimiter;
  mapError?: ErrorMapper;
  /** Attempts for idempotent GETs on 5xx, network errors and unparseable bodies (default 2). */
  attempts?: number;
}

/** Repeated keys (`user_id=1&user_id=2`), as Helix expects, instead of axios' `user_id[]=`. */
export function serializeParams(params: Record<string, ParamValue>): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) sp.append(k, x);
    else sp.append(k, String(v));
  }
  return sp.toString();
}

function defaultCode(status: number): PlatformErrorCode {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 429) return 'RATE_LIMITED';
  if (status >= 500) return 'SERVER_ERROR';
  return 'BAD_REQUEST';
}

export class PlatformHttpClient {
  private readonly http: AxiosInstance;
  // Keep-alive: polling the same hosts all day should not pay a TCP/TLS handshake per call.
  private readonly agents = { http: new http.Agent({ keepAlive: true, maxSockets: 64 }), https: new https.Agent({ keepAlive: true, maxSockets: 64 }) };

  constructor(private readonly opts: PlatformHttpOptions) {
    this.http = axios.create({
      timeout: opts.timeoutMs,
      httpAgent: this.agents.http,
      httpsAgent: this.agents.https,
      // We read every body as text and decide ourselves; axios must not parse or throw on status.
      responseType: 'text',
      transformResponse: [(d: unknown) => d],
      validateStatus: () => true,
      maxRedirects: 0,
      paramsSerializer: { serialize: serializeParams },
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  async request<T>(req: PlatformRequest<T>): Promise<T> {
    const idempotent = (req.method ?? 'GET') === 'GET';
    return retry(() => this.once(req), {
      attempts: idempotent ? (this.opts.attempts ?? 2) : 1,
      initialDelayMs: 200,
      maxDelayMs: 2000,
      what: `${this.opts.platform} ${req.endpoint}`,
      // Rate limits are handled below (wait for the reset); the rest of retriable errors are transient.
      retryOn: (err) => err instanceof PlatformError && err.retriable && err.code !== 'RATE_LIMITED' && err.code !== 'TIMEOUT',
    }).catch((err: unknown) => {
      // Give callers the typed PlatformError of the last attempt, not the retry wrapper.
      throw err instanceof RetriesExhaustedError && err.cause instanceof PlatformError ? err.cause : err;
    });
  }

  private async once<T>(req: PlatformRequest<T>): Promise<T> {
    let res = await this.send(req);
    if (res.status === 429 && req.bucket && this.opts.rateLimiter) {
      // Another process spent the points we counted on: wait for the reset once, then give up typed.
      const reset = parseRateLimitHeaders(res.headers as Record<string, unknown>);
      await sleep(Math.max(0, (reset?.resetAtMs ?? Date.now() + 1000) - Date.now()) + 100);
      res = await this.send(req);
    }
    return this.interpret(req, res);
  }

  private async send<T>(req: PlatformRequest<T>): Promise<AxiosResponse<string>> {
    const { platform } = this.opts;
    const limiter = req.bucket ? this.opts.rateLimiter : undefined;
    const ticket = limiter ? await limiter.acquire(req.bucket!) : undefined;
    const end = platformLatency.startTimer({ platform, endpoint: req.endpoint });
    let res: AxiosResponse<string> | undefined;
    try {
      res = await this.http.request<string>({
        method: req.method ?? 'GET',
        baseURL: req.baseUrl,
        url: req.path,
        params: req.params,
        headers: {
          Accept: 'application/json',
          ...(req.form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : req.json !== undefined ? { 'Content-Type': 'application/json' } : {}),
          ...req.headers,
        },
        data: req.form ? serializeParams(req.form) : req.json !== undefined ? JSON.stringify(req.json) : undefined,
      });
      return res;
    } catch (err) {
      const e = err as { code?: string; message?: string };
      const timeout = e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT';
      platformRequests.inc({ platform, endpoint: req.endpoint, outcome: timeout ? 'TIMEOUT' : 'NETWORK' });
      // The axios error carries the request config (Authorization header, token params): keep only its code.
      const cause = Object.assign(new Error(e.message ?? 'network error'), { code: e.code });
      throw new PlatformError(timeout ? 'TIMEOUT' : 'NETWORK', timeout ? `no answer within ${this.opts.timeoutMs} ms` : `request failed (${e.code ?? 'network error'})`, {
        platform,
        endpoint: req.endpoint,
        cause,
      });
    } finally {
      end();
      if (limiter) {
        const h = res ? parseRateLimitHeaders(res.headers as Record<string, unknown>) : null;
        if (h) rateLimitRemaining.set({ platform }, h.remaining);
        // A bucket we cannot update (Redis down) must not hide the platform's answer.
        await Promise.resolve(limiter.complete(req.bucket!, ticket, h)).catch((err: unknown) =>
          this.opts.logger?.warn({ platform, err }, 'rate-limit bucket update failed'),
        );
      }
    }
  }

  private interpret<T>(req: PlatformRequest<T>, res: AxiosResponse<string>): T {
    const { platform } = this.opts;
    const endpoint = req.endpoint;
    const text = typeof res.data === 'string' ? res.data : '';
    let body: unknown = undefined;
    let parsed = text.trim() === '';
    if (!parsed) {
      try {
        body = JSON.parse(text);
        parsed = true;
      } catch {
        /* handled below */
      }
    }
    if (res.status >= 200 && res.status < 300) {
      if (req.schema === null) {
        platformRequests.inc({ platform, endpoint, outcome: 'ok' });
        return undefined as T;
      }
      if (!parsed || body === undefined) return this.fail('MALFORMED_RESPONSE', `answer ${res.status} is not JSON (${text.length} bytes)`, req, res.status, 'not_json');
      const v = req.schema.safeParse(body);
      if (!v.success) {
        const issue = v.error.issues[0]!;
        // A shape that breaks the documented contract will not fix itself by retrying.
        return this.fail('MALFORMED_RESPONSE', `answer does not match the documented shape at ${issue.path.join('.') || '(root)'}: ${issue.message}`, req, res.status, 'schema', false);
      }
      platformRequests.inc({ platform, endpoint, outcome: 'ok' });
      return v.data;
    }
    const mapped = this.opts.mapError?.(res.status, body, endpoint);
    const code = mapped?.code ?? defaultCode(res.status);
    const h = parseRateLimitHeaders(res.headers as Record<string, unknown>);
    const retryAfterMs = code === 'RATE_LIMITED' && h ? Math.max(0, h.resetAtMs - Date.now()) : undefined;
    return this.fail(code, mapped?.message ?? `answered ${res.status}`, req, res.status, mapped?.reason, undefined, retryAfterMs);
  }

  private fail(code: PlatformErrorCode, message: string, req: PlatformRequest<unknown>, status: number, reason?: string, retriable?: boolean, retryAfterMs?: number): never {
    platformRequests.inc({ platform: this.opts.platform, endpoint: req.endpoint, outcome: code });
    const err = new PlatformError(code, message, { platform: this.opts.platform, endpoint: req.endpoint, status, reason, retriable, retryAfterMs });
    this.opts.logger?.debug({ platform: this.opts.platform, endpoint: req.endpoint, status, code }, 'platform call failed');
    throw err;
  }
}
