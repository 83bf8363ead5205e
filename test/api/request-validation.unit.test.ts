import { z } from 'zod/v4';
import { instant, MAX_SPAN_MS, resolveRange } from '../../api/schemas/common.schemas';
import { invalidParamsOf } from '../../api/http/route';
import { ProblemError } from '../../api/http/problem';
import { toProblemError } from '../../api/http/error.middleware';
import { AppError, ServiceUnavailableError } from '../../shared/errors/app-error';

describe('request validation (pure)', () => {
  const q = z.strictObject({ from: instant('start'), to: instant('end') });

  it('accepts ISO-8601 with offset, plain UTC dates and epoch milliseconds', () => {
    expect(q.parse({ from: '2026-11-20T10:00:00Z' }).from).toBe(Date.UTC(2026, 10, 20, 10));
    expect(q.parse({ from: '2026-11-20T11:00:00+01:00' }).from).toBe(Date.UTC(2026, 10, 20, 10));
    expect(q.parse({ from: '2026-11-20' }).from).toBe(Date.UTC(2026, 10, 20));
    expect(q.parse({ from: String(Date.UTC(2026, 10, 20)) }).from).toBe(Date.UTC(2026, 10, 20));
  });

  it.each(['yesterday', '2026-11-20T10:00:00', "1' OR 1=1", '2026-02-30T00:00:00Z', '1999-12-31T23:59:59Z', '12345', 'x'.repeat(100)])('refuses %j and names the field once', (bad) => {
    const r = q.safeParse({ from: bad });
    expect(r.success).toBe(false);
    const params = invalidParamsOf(r.error!, 'query');
    expect(params).toHaveLength(1);
    expect(params[0]).toMatchObject({ name: 'from', in: 'query' });
  });

  it('names unknown parameters', () => {
    const r = q.safeParse({ evil: '1', granulatiry: '1h' });
    expect(invalidParamsOf(r.error!, 'query').map((p) => p.name).sort()).toEqual(['evil', 'granulatiry']);
  });

  it('resolveRange: defaults relative to now, half-open order, span limit — each error names its field', () => {
    const now = Date.UTC(2026, 10, 26);
    expect(resolveRange({}, { defaultSpanMs: 3600_000, maxSpanMs: MAX_SPAN_MS['1h'], now })).toEqual({ fromMs: now - 3600_000, toMs: now });
    const named = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return ((e as ProblemError).extensions.invalidParams as Array<{ name: string }>).map((p) => p.name);
      }
      return [];
    };
    expect(named(() => resolveRange({ from: now, to: now }, { defaultSpanMs: 1, maxSpanMs: 10, now }))).toEqual(['from']);
    expect(named(() => resolveRange({ to: Date.UTC(2001, 0, 1) }, { defaultSpanMs: -1, maxSpanMs: 10, now }))).toEqual(['to']);
    expect(named(() => resolveRange({ from: now - 8 * 86400_000, to: now }, { defaultSpanMs: 1, maxSpanMs: MAX_SPAN_MS['1m'], now }))).toEqual(['from']);
  });
});

describe('error → problem mapping (pure)', () => {
  it('body-parser errors become 413 and 400', () => {
    expect(toProblemError(Object.assign(new Error('request entity too large'), { type: 'entity.too.large', status: 413 })).status).toBe(413);
    expect(toProblemError(Object.assign(new Error('Unexpected end'), { type: 'entity.parse.failed', status: 400 })).status).toBe(400);
  });

  it('known AppError codes get their status; retriable ones 503; anything else 500 without internals', () => {
    expect(toProblemError(new AppError('CONNECTION_NOT_FOUND', 'no connection x')).status).toBe(404);
    expect(toProblemError(new ServiceUnavailableError('ClickHouse', 'http://h:1')).status).toBe(503);
    const p = toProblemError(new Error('secret internals: password=hunter2'));
    expect(p.status).toBe(500);
    expect(JSON.stringify(p.toProblem())).not.toContain('hunter2');
  });
});
