import { KafkaJSAggregateError, KafkaJSError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { isRetriable } from '../errors/app-error';

/**
 * Whether calling Kafka again can help, by kafkajs' own typed `retriable` (kafkajs marks leader
 * elections, unknown partitions right after a topic's creation, lost connections retriable; bad
 * requests and authorisation failures not). When kafkajs' own retrier gave up it says "not retriable"
 * about itself, so the error it gave up on decides; an aggregate is retriable when each of its errors is.
 */
export function isKafkaRetriable(err: unknown): boolean {
  if (err instanceof KafkaJSNumberOfRetriesExceeded) return isKafkaRetriable(err.cause);
  if (err instanceof KafkaJSAggregateError) return err.errors.length > 0 && err.errors.every(isKafkaRetriable);
  if (err instanceof KafkaJSError) return err.retriable;
  return isRetriable(err);
}

/** kafkajs' answer when a topic we create exists already (another process created it at the same moment). */
export function isTopicAlreadyExists(err: unknown): boolean {
  if (err instanceof KafkaJSAggregateError) return err.errors.length > 0 && err.errors.every(isTopicAlreadyExists);
  return err instanceof KafkaJSProtocolError && err.type === 'TOPIC_ALREADY_EXISTS';
}
