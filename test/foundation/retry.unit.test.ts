import { AppError } from '../../shared/errors/app-error';
import { backoffDelay, retry, RetriesExhaustedError } from '../../shared/errors/retry';

describe('retry', () => {
  const fast = { initialDelayMs: 1, maxDelayMs: 4, what: 'op' };

  it('retries retriable errors and returns the first success', async () => {
    let calls = 0;
    const out = await retry(async () => {
      if (++calls < 3) throw new AppError('X', 'flaky', { retriable: true });
      return 'ok';
    }, { ...fast, attempts: 5 });
    expect(out).toBe('ok');
    expect(calls).toBe(3);
  });

  it('does not retry a non-retriable error', async () => {
    let calls = 0;
    await expect(retry(async () => { calls++; throw new AppError('BAD', 'bad input'); }, { ...fast, attempts: 5 })).rejects.toThrow('bad input');
    expect(calls).toBe(1);
  });

  it('gives up with an error that names what ran out', async () => {
    const p = retry(async () => { throw new AppError('X', 'down', { retriable: true }); }, { ...fast, attempts: 3 });
    await expect(p).rejects.toBeInstanceOf(RetriesExhaustedError);
    await expect(p).rejects.toThrow('op: gave up after 3 attempts: down');
  });

  it('backoff grows exponentially, is capped, and jitter stays within the band', () => {
    const o = { initialDelayMs: 100, maxDelayMs: 1000, jitter: 0 };
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, o))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(3, { ...o, jitter: 1 }, () => 0)).toBe(0);
    expect(backoffDelay(3, { ...o, jitter: 0.5 }, () => 1)).toBe(400);
    expect(backoffDelay(3, { ...o, jitter: 0.5 }, () => 0)).toBe(200);
  });
});
