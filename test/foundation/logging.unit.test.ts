import { Writable } from 'node:stream';
import { AxiosError, AxiosHeaders } from 'axios';
import { AppError } from '../../shared/errors/app-error';
import { createLogger } from '../../shared/logging/logger';

/** One logger writing JSON lines into an array. */
function capture() {
  // Log lines are JSON read back field by field; a type per line would restate the serializer.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const lines: Array<Record<string, any>> = [];
  const dest = new Writable({ write(chunk, _enc, cb) { lines.push(JSON.parse(String(chunk))); cb(); } });
  return { logger: createLogger('info', dest as never), lines };
}

describe('logging whole errors', () => {
  it('{ err } keeps the type, code, context and the cause chain as objects of their own', () => {
    const { logger, lines } = capture();
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    logger.warn({ err: new AppError('CLICKHOUSE_QUERY_FAILED', 'insert failed', { retriable: true, cause, context: { query: 'windows' } }) }, 'write failed');
    const err = lines[0]!.err;
    expect(err).toMatchObject({ type: 'AppError', code: 'CLICKHOUSE_QUERY_FAILED', message: 'insert failed', retriable: true, context: { query: 'windows' } });
    expect(err.stack).toContain('insert failed');
    expect(err.cause).toMatchObject({ type: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:9', code: 'ECONNREFUSED' });
  });

  it('an HTTP client error logged whole does not leak the request\'s credentials, as itself or as a cause', () => {
    const { logger, lines } = capture();
    const config = { headers: new AxiosHeaders({ Authorization: 'Bearer secret-access-token' }), data: 'client_secret=s3cr3t&refresh_token=r3fr3sh' };
    const http = new AxiosError('Request failed with status code 400', 'ERR_BAD_REQUEST', config as never);
    logger.warn({ err: http }, 'refresh failed');
    logger.warn({ err: new AppError('X', 'wrapped', { cause: http }) }, 'wrapped');
    const text = JSON.stringify(lines);
    expect(lines).toHaveLength(2);
    expect(text).not.toContain('secret-access-token');
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('r3fr3sh');
    expect(lines[1]!.err.cause.message).toBe('Request failed with status code 400');
  });
});
