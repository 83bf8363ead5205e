import { KafkaJSConnectionError, KafkaJSNonRetriableError } from 'kafkajs';
import { ClickHouseQueryError } from '../../shared/clickhouse/clickhouse.repository';
import { AppError } from '../../shared/errors/app-error';
import { createLogger } from '../../shared/logging/logger';
import { newProcessorStats } from '../processor.stats';
import { retryUntilClosed } from './sink.retry';

describe('retryUntilClosed: the processor retries a write while the error is retriable, until it closes', () => {
  const setup = () => {
    const abort = new AbortController();
    const stats = newProcessorStats();
    let heartbeats = 0;
    const withRetry = retryUntilClosed({ signal: abort.signal, heartbeat: () => void heartbeats++, stats, log: createLogger('silent') });
    return { abort, stats, withRetry, heartbeats: () => heartbeats };
  };
  /** Fails with each error in turn, then succeeds. */
  const failing = (errors: unknown[]) => {
    let calls = 0;
    return { calls: () => calls, fn: async () => { const e = errors[calls++]; if (e) throw e; return 'written'; } };
  };

  it('ClickHouse unreachable, a Kafka broker lost: retried (with heartbeats) until the write succeeds', async () => {
    const { withRetry, stats, heartbeats } = setup();
    const down = new ClickHouseQueryError('insert metrics_1m', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:18123'), { code: 'ECONNREFUSED' }));
    const op = failing([down, new KafkaJSConnectionError('Connection error: ECONNREFUSED'), down]);
    await expect(withRetry('ClickHouse windows', op.fn)).resolves.toBe('written');
    expect(op.calls()).toBe(4);
    expect(stats.retries).toBe(3);
    expect(heartbeats()).toBe(3);
  });

  it('a ClickHouse server that is overloaded (a transient server code) is retried', async () => {
    const { withRetry } = setup();
    const busy = new ClickHouseQueryError('insert metrics_1m', Object.assign(new Error('Too many simultaneous queries'), { code: '202', type: 'TOO_MANY_SIMULTANEOUS_QUERIES' }));
    const op = failing([busy]);
    await expect(withRetry('ClickHouse windows', op.fn)).resolves.toBe('written');
  });

  it('a write that cannot succeed (a rejected row, a non-retriable Kafka error, a bug) fails at once: nothing is committed, the input is replayed', async () => {
    const { withRetry, stats } = setup();
    const rejected = new ClickHouseQueryError('insert metrics_1m', Object.assign(new Error('Cannot parse input'), { code: '27', type: 'CANNOT_PARSE_INPUT_ASSERTION_FAILED' }));
    for (const err of [rejected, new KafkaJSNonRetriableError('Invalid record'), new TypeError('x is undefined'), new AppError('X', 'no', { retriable: false })]) {
      const op = failing([err]);
      await expect(withRetry('ClickHouse windows', op.fn)).rejects.toBe(err);
      expect(op.calls()).toBe(1);
    }
    expect(stats.retries).toBe(0);
  });

  it('closing stops the retries', async () => {
    const { withRetry, abort } = setup();
    const down = new ClickHouseQueryError('insert', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const p = withRetry('ClickHouse windows', async () => { throw down; });
    abort.abort(new Error('closing'));
    await expect(p).rejects.toBeDefined();
  });
});
