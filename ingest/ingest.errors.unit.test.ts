import { AppError } from '../shared/errors/app-error';
import { classify, MalformedPlatformDataError, PollTimeoutError } from './ingest.errors';
import { PlatformError } from '../platforms/http/platform-error';

describe('classify: typed errors decide retry vs postpone vs dead-letter vs reauth', () => {
  const now = 1_700_000_000_000;
  it('platform 429 with a reset postpones until the reset; without one it retries', () => {
    const e = new PlatformError('RATE_LIMITED', 'too many', { platform: 'twitch', endpoint: '/helix/streams', status: 429, retryAfterMs: 12_000 });
    expect(classify(e, now)).toMatchObject({ kind: 'rate-limited', retryAfterMs: 12_000, code: 'RATE_LIMITED' });
    expect(classify(new PlatformError('RATE_LIMITED', 'x', { platform: 'twitch', endpoint: '/e', status: 429 }), now).kind).toBe('retry');
  });

  it('reads Ratelimit-Reset (epoch seconds) from a raw HTTP error', () => {
    const raw = { message: 'Request failed with status code 429', response: { status: 429, headers: { 'ratelimit-reset': String(now / 1000 + 7) } } };
    expect(classify(raw, now)).toMatchObject({ kind: 'rate-limited', retryAfterMs: 7000 });
  });

  it('5xx, timeouts, malformed bodies and Kafka failures retry', () => {
    expect(classify(new PlatformError('SERVER_ERROR', 'boom', { platform: 'youtube', endpoint: '/v', status: 503 })).kind).toBe('retry');
    expect(classify(new PlatformError('TIMEOUT', 'slow', { platform: 'youtube', endpoint: '/v' })).kind).toBe('retry');
    expect(classify(new PlatformError('MALFORMED_RESPONSE', 'not json', { platform: 'twitch', endpoint: '/v' })).kind).toBe('retry');
    expect(classify(new MalformedPlatformDataError('twitch', '1', 'viewers')).kind).toBe('retry');
    expect(classify(new PollTimeoutError('poll', 10)).kind).toBe('retry');
    expect(classify(Object.assign(new Error('leader not available'), { name: 'KafkaJSError', retriable: true })).kind).toBe('retry');
  });

  it('4xx and non-retriable typed errors go to the dead-letter queue at once, with a reason naming the error', () => {
    const v = classify(new PlatformError('NOT_FOUND', 'no such channel', { platform: 'twitch', endpoint: '/helix/streams', status: 404 }));
    expect(v.kind).toBe('dead-letter');
    expect(v.reason).toContain('NOT_FOUND');
    expect(v.reason).toContain('no such channel');
    expect(classify(new AppError('X', 'no', { retriable: false })).kind).toBe('dead-letter');
    expect(classify({ message: 'bad', response: { status: 400 } }).kind).toBe('dead-letter');
  });

  it('a refused refresh means the creator must reconnect', () => {
    expect(classify(Object.assign(new Error('refresh refused'), { name: 'ReauthRequiredError' })).kind).toBe('reauth');
    expect(classify(new PlatformError('INVALID_GRANT', 'invalid_grant', { platform: 'youtube', endpoint: '/token', status: 400 })).kind).toBe('reauth');
  });

  it('unrecognised errors are retried (bounded), never crash the classifier', () => {
    expect(classify(new TypeError('x is undefined')).kind).toBe('retry');
    expect(classify(undefined).kind).toBe('retry');
  });
});
