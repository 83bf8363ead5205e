import { retry } from '../../shared/errors/retry';
import { isKafkaRetriable } from '../../shared/kafka/kafka.errors';
import type { Logger } from '../../shared/logging/logger';
import { processorMetrics as M } from '../processor.metrics';
import type { ProcessorStats } from '../processor.stats';

export type WithRetry = <T>(target: string, fn: () => Promise<T>) => Promise<T>;

/**
 * The processor's writes and broker reads retry while their error is retriable — ClickHouse unreachable
 * or busy, a Kafka broker lost, the Schema Registry down (typed: ClickHouseQueryError, kafkajs, our
 * AppErrors) — until they succeed or the processor closes (processors/README.md, "Failure handling"):
 * consumption pauses meanwhile, the group session is kept alive with heartbeats, and nothing is committed
 * that is not written. Anything else (a row ClickHouse rejects, a bug) fails the drain at once: nothing is
 * committed and the input is replayed, instead of holding the lock forever on a write that cannot succeed.
 */
export function retryUntilClosed(d: { signal: AbortSignal; heartbeat(): void; stats: ProcessorStats; log: Logger }): WithRetry {
  return (target, fn) => retry(fn, {
    what: target,
    attempts: Number.POSITIVE_INFINITY,
    initialDelayMs: 200,
    maxDelayMs: 5000,
    retryOn: (err) => !d.signal.aborted && isKafkaRetriable(err),
    signal: d.signal,
    onRetry: (err, attempt, delayMs) => {
      M.sinkRetries.inc({ target });
      d.stats.retries++;
      d.log.warn({ target, attempt, delayMs, err }, 'write failed; consumption paused, retrying');
      d.heartbeat();
    },
  });
}
