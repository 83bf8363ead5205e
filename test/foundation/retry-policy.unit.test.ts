import { KafkaJSAggregateError, KafkaJSConnectionError, KafkaJSError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { AppError, ServiceUnavailableError } from '../../shared/errors/app-error';
import { retry, RetriesExhaustedError, waitUntilReachable } from '../../shared/errors/retry';
import { isKafkaRetriable, isTopicAlreadyExists } from '../../shared/kafka/kafka.errors';

describe('retry policy: every retry goes through shared/errors/retry.ts and `retriable` decides', () => {
  it('retry with timeoutMs gives up once the next attempt would start past the budget, naming the time spent', async () => {
    let calls = 0;
    const p = retry(async () => {
      calls++;
      throw new AppError('X', 'down', { retriable: true });
    }, { what: 'op', attempts: Number.POSITIVE_INFINITY, timeoutMs: 30, initialDelayMs: 10, maxDelayMs: 10, jitter: 0 });
    await expect(p).rejects.toBeInstanceOf(RetriesExhaustedError);
    await expect(p).rejects.toThrow(/^op: gave up after \d+ attempts in \d+ ms: down$/);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(calls).toBeLessThanOrEqual(4);
  });

  it('waitUntilReachable resolves once the probe answers, after failures that are not typed errors', async () => {
    let calls = 0;
    await waitUntilReachable('Thing', 'thing://here', async () => {
      if (++calls < 3) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    }, 5000);
    expect(calls).toBe(3);
  });

  it('waitUntilReachable fails with ServiceUnavailableError naming the service, address and last failure', async () => {
    const err = await waitUntilReachable('Thing', 'thing://here', async () => {
      throw new Error('connect ECONNREFUSED');
    }, 50).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect((err as Error).message).toBe('Thing is unreachable at thing://here: connect ECONNREFUSED');
    expect((err as Error).cause).toBeInstanceOf(Error);
  });

  it('waitUntilReachable stops at once on a non-retriable typed error', async () => {
    let calls = 0;
    const err = await waitUntilReachable('Thing', 'thing://here', async () => {
      calls++;
      throw new AppError('BAD_CREDENTIALS', 'refused', { retriable: false });
    }, 5000).then(() => undefined, (e: unknown) => e);
    expect(calls).toBe(1);
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect((err as Error).cause).toMatchObject({ code: 'BAD_CREDENTIALS' });
  });

  it('isKafkaRetriable: kafkajs says, looking through its own retrier giving up and through aggregates', () => {
    const unknownPartition = new KafkaJSProtocolError(Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3, retriable: true }));
    const invalid = new KafkaJSProtocolError(Object.assign(new Error('Replication factor: 3 larger than available brokers: 1.'), { type: 'INVALID_REPLICATION_FACTOR', code: 38, retriable: false }));
    expect(isKafkaRetriable(unknownPartition)).toBe(true);
    expect(isKafkaRetriable(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'))).toBe(true);
    expect(isKafkaRetriable(invalid)).toBe(false);
    expect(isKafkaRetriable(new KafkaJSNonRetriableError('bad'))).toBe(false);
    expect(isKafkaRetriable(new KafkaJSNumberOfRetriesExceeded(unknownPartition, { retryCount: 8, retryTime: 5000 }))).toBe(true);
    expect(isKafkaRetriable(new KafkaJSNumberOfRetriesExceeded(invalid, { retryCount: 0, retryTime: 0 }))).toBe(false);
    expect(isKafkaRetriable(new KafkaJSAggregateError('create topics', [unknownPartition, new KafkaJSError('timeout')]))).toBe(true);
    expect(isKafkaRetriable(new KafkaJSAggregateError('create topics', [unknownPartition, invalid]))).toBe(false);
    expect(isKafkaRetriable(new AppError('X', 'ours', { retriable: true }))).toBe(true);
    expect(isKafkaRetriable(new TypeError('a bug'))).toBe(false);
  });

  it('isTopicAlreadyExists: by kafkajs\' error type, alone or as every error of an aggregate', () => {
    const exists = new KafkaJSProtocolError(Object.assign(new Error('Topic with this name already exists'), { type: 'TOPIC_ALREADY_EXISTS', code: 36, retriable: false }));
    const invalid = new KafkaJSProtocolError(Object.assign(new Error('Replication factor: 3 larger than available brokers: 1.'), { type: 'INVALID_REPLICATION_FACTOR', code: 38, retriable: false }));
    expect(isTopicAlreadyExists(exists)).toBe(true);
    expect(isTopicAlreadyExists(new KafkaJSAggregateError('Topic creation errors', [exists, exists]))).toBe(true);
    expect(isTopicAlreadyExists(new KafkaJSAggregateError('Topic creation errors', [exists, invalid]))).toBe(false);
    expect(isTopicAlreadyExists(new Error('Topic with this name already exists'))).toBe(false);
  });
});
