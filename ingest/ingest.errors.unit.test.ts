import { AppError } from '../shared/errors/app-error';
import { classify, MalformedPlatformDataError, PollTimeoutError } from './ingest.errors';
import { AxiosError, AxiosHeaders } from 'axios';
import { KafkaJSError, KafkaJSNonRetriableError } from 'kafkajs';
import { PlatformError } from '../platforms/http/platform-error';
import { ReauthRequiredError } from '../platforms/tokens/token-provider';

/** A bare axios error with a response, as a call outside the adapters' HTTP client would raise it. */
const httpError = (status: number, headers: Record<string, string> = {}) =>
  new AxiosError(`Request failed with status code ${status}`, 'ERR_BAD_REQUEST', undefined, undefined, {
    status,
    statusText: '',
    headers,
    config: { headers: new AxiosHeaders() },
    data: '',
  });

describe('classify: typed errors decide retry vs postpone vs dead-letter vs reauth', () => {
  const now = 1_700_000_000_000;
  it('platform 429 with a reset postpones until the reset; without one it retries', () => {
    const e = new PlatformError('RATE_LIMITED', 'too many', { platform: 'twitch', endpoint: '/helix/streams', status: 429, retryAfterMs: 12_000 });
    expect(classify(e, now)).toMatchObject({ kind: 'rate-limited', retryAfterMs: 12_000, code: 'RATE_LIMITED' });
    expect(classify(new PlatformError('RATE_LIMITED', 'x', { platform: 'twitch', endpoint: '/e', status: 429 }), now).kind).toBe('retry');
  });

  it('reads Ratelimit-Reset (epoch seconds) or Retry-After from a bare HTTP 429', () => {
    expect(classify(httpError(429, { 'ratelimit-reset': String(now / 1000 + 7) }), now)).toMatchObject({ kind: 'rate-limited', retryAfterMs: 7000 });
    expect(classify(httpError(429, { 'retry-after': '3' }), now)).toMatchObject({ kind: 'rate-limited', retryAfterMs: 3000 });
    expect(classify(httpError(429), now).kind).toBe('retry');
  });

  it('a YouTube quota day with its reset postpones; without one it goes to the DLQ (not retriable)', () => {
    const quota = (retryAfterMs?: number) => new PlatformError('QUOTA_EXCEEDED', 'quota', { platform: 'youtube', endpoint: 'videos.list', status: 403, retryAfterMs });
    expect(classify(quota(60_000), now)).toMatchObject({ kind: 'rate-limited', retryAfterMs: 60_000 });
    expect(classify(quota(), now).kind).toBe('dead-letter');
  });

  it('5xx, timeouts, malformed bodies and Kafka failures retry', () => {
    expect(classify(new PlatformError('SERVER_ERROR', 'boom', { platform: 'youtube', endpoint: '/v', status: 503 })).kind).toBe('retry');
    expect(classify(new PlatformError('TIMEOUT', 'slow', { platform: 'youtube', endpoint: '/v' })).kind).toBe('retry');
    expect(classify(new PlatformError('MALFORMED_RESPONSE', 'not json', { platform: 'twitch', endpoint: '/v' })).kind).toBe('retry');
    expect(classify(new MalformedPlatformDataError('twitch', '1', 'viewers')).kind).toBe('retry');
    expect(classify(new PollTimeoutError('poll', 10)).kind).toBe('retry');
    expect(classify(new KafkaJSError('leader not available', { retriable: true })).kind).toBe('retry');
    expect(classify(new KafkaJSNonRetriableError('bad record')).kind).toBe('dead-letter');
    expect(classify(httpError(503)).kind).toBe('retry');
    expect(classify(httpError(408)).kind).toBe('retry');
  });

  it('4xx and non-retriable typed errors go to the dead-letter queue at once, with a reason naming the error', () => {
    const v = classify(new PlatformError('NOT_FOUND', 'no such channel', { platform: 'twitch', endpoint: '/helix/streams', status: 404 }));
    expect(v.kind).toBe('dead-letter');
    expect(v.reason).toContain('NOT_FOUND');
    expect(v.reason).toContain('no such channel');
    expect(classify(new AppError('X', 'no', { retriable: false })).kind).toBe('dead-letter');
    expect(classify(httpError(400)).kind).toBe('dead-letter');
  });

  it('a refused refresh means the creator must reconnect', () => {
    expect(classify(new ReauthRequiredError('c1', 'twitch')).kind).toBe('reauth');
    expect(classify(new PlatformError('INVALID_GRANT', 'invalid_grant', { platform: 'youtube', endpoint: '/token', status: 400 })).kind).toBe('reauth');
  });

  it('decides by type, not by name or text: a look-alike of a typed error is an unknown error (retried)', () => {
    expect(classify(Object.assign(new Error('refresh refused'), { name: 'ReauthRequiredError', code: 'REAUTH_REQUIRED' })).kind).toBe('retry');
    expect(classify(Object.assign(new Error('slow down'), { code: 'RATE_LIMITED', retryAfterMs: 5000 })).kind).toBe('retry');
    expect(classify({ message: 'bad', response: { status: 400 } }).kind).toBe('retry');
  });

  it('unrecognised errors are retried (bounded), never crash the classifier', () => {
    expect(classify(new TypeError('x is undefined')).kind).toBe('retry');
    expect(classify(undefined).kind).toBe('retry');
  });
});
