import { bootstrap, createRuntime } from '../../shared/runtime';
import { createLogger } from '../../shared/logging/logger';
import { ServiceUnavailableError } from '../../shared/errors/app-error';
import { testConfig } from '../support/stack';

/** A port nothing listens on (the discard range is never used by the stack). */
const DEAD = '127.0.0.1:9';

describe('a configured service that is unreachable', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['Kafka', { KAFKA_BROKERS: DEAD }, /Kafka is unreachable at 127\.0\.0\.1:9/],
    ['Schema Registry', { SCHEMA_REGISTRY_URL: `http://${DEAD}/apis/ccompat/v7` }, /Schema Registry is unreachable at http:\/\/127\.0\.0\.1:9\/apis\/ccompat\/v7/],
    ['ClickHouse', { CLICKHOUSE_URL: `http://${DEAD}` }, /ClickHouse is unreachable at http:\/\/127\.0\.0\.1:9/],
    ['Redis', { REDIS_URL: `redis://${DEAD}` }, /Redis is unreachable at redis:\/\/127\.0\.0\.1:9/],
  ];

  it.each(cases)('%s: bootstrap fails with an error naming the service and its address', async (_name, overrides, message) => {
    const config = testConfig(overrides);
    const rt = createRuntime(config, createLogger('silent'));
    const err = await bootstrap(rt, { timeoutMs: 2500 }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect((err as Error).message).toMatch(message);
  });
});
