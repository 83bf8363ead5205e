import { z } from 'zod/v4';
import { chDateTime64 } from '../../shared/clickhouse/tables';
import { validationProblem } from '../http/problem';

/**
 * Request parameters shared by several routes. Every string a client sends is matched against a
 * closed pattern here before it goes anywhere near a query, and values reach ClickHouse only as
 * bound parameters — two independent guards against injection.
 */
export const platformParam = (platforms: readonly string[]) =>
  z.enum(platforms as [string, ...string[]], { error: `must be one of ${platforms.join(', ')}` }).describe('Streaming platform');

export const channelIdParam = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or - (the platform\'s channel id)')
  .describe('The platform\'s channel id (Twitch user id, YouTube channel id)');

export const streamIdParam = z
  .string()
  .regex(/^[A-Za-z0-9_:-]{1,128}$/, 'must be 1-128 letters, digits, _, : or - (a stream id from the sessions list)')
  .describe('The stream\'s id (streamId of GET …/sessions)');

export const connectionIdParam = z.string().regex(/^[A-Za-z0-9_:-]{1,128}$/, 'must be 1-128 letters, digits, _, : or -').describe('Connection id (from GET /v1/connections)');

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;
const EPOCH_MS = /^\d{10,15}$/;
const INSTANT = new RegExp(`(${ISO_INSTANT.source})|(${EPOCH_MS.source})`);
export const MIN_INSTANT = Date.UTC(2000, 0, 1);
export const MAX_INSTANT = Date.UTC(2100, 0, 1);

/** Date.parse is lenient (2026-02-30 becomes March 2nd); a client that sends that has a bug worth reporting. */
function realCalendarDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(s);
  if (!m) return true; // epoch milliseconds
  const [y, mo, d, h = '0', mi = '0', sec = '0'] = m.slice(1).map((v) => v ?? '0');
  const days = new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate();
  return Number(mo) >= 1 && Number(mo) <= 12 && Number(d) >= 1 && Number(d) <= days && Number(h) <= 23 && Number(mi) <= 59 && Number(sec) <= 59;
}

/** An instant as ISO-8601 with an offset (or a plain UTC date), or epoch milliseconds. */
export const instant = (what: string) =>
  z
    .string()
    .max(40, { message: 'is too long for a date-time', abort: true })
    .regex(INSTANT, 'must be an ISO-8601 date-time with offset (2026-11-20T00:00:00Z) or epoch milliseconds')
    .transform((s, ctx) => {
      if (!INSTANT.test(s)) return z.NEVER; // already reported by the regex check
      const ms = EPOCH_MS.test(s) ? Number(s) : Date.parse(s);
      if (!Number.isFinite(ms) || ms < MIN_INSTANT || ms >= MAX_INSTANT || !realCalendarDate(s)) {
        ctx.addIssue({ code: 'custom', message: 'must be a real date between 2000 and 2100' });
        return z.NEVER;
      }
      return ms;
    })
    .optional()
    .describe(what);

export const GRANULARITIES = { '1m': 60, '1h': 3600, '1d': 86400 } as const;
export type Granularity = keyof typeof GRANULARITIES;
export const granularityParam = z
  .enum(Object.keys(GRANULARITIES) as [Granularity, ...Granularity[]], { error: 'must be one of 1m, 1h, 1d' })
  .default('1h')
  .describe('Bucket size of the time series');

export interface TimeRange {
  fromMs: number;
  toMs: number;
}

/** The longest range each granularity may ask for, so a response is bounded (about 10k points at most). */
export const MAX_SPAN_MS: Record<Granularity | 'sessions' | 'summary', number> = {
  '1m': 7 * 86400_000,
  '1h': 400 * 86400_000,
  '1d': 3660 * 86400_000,
  sessions: 400 * 86400_000,
  summary: 400 * 86400_000,
};

/**
 * Cross-field rules of `from`/`to` that one field's schema cannot express: defaults relative to now,
 * order, and the span limit. A violation is a 400 that names the field to change.
 */
export function resolveRange(q: { from?: number; to?: number }, opts: { defaultSpanMs: number; maxSpanMs: number; now?: number }): TimeRange {
  const toMs = q.to ?? opts.now ?? Date.now();
  const fromMs = q.from ?? toMs - opts.defaultSpanMs;
  if (fromMs >= toMs) throw validationProblem([{ name: q.from === undefined ? 'to' : 'from', in: 'query', reason: 'must be before to (the range is [from, to))' }]);
  if (toMs - fromMs > opts.maxSpanMs) {
    throw validationProblem([{ name: 'from', in: 'query', reason: `the range may span at most ${Math.round(opts.maxSpanMs / 86400_000)} days at this granularity` }]);
  }
  return { fromMs, toMs };
}

/** ClickHouse DateTime64(3) parameter text for an instant (UTC, no offset suffix). */
/** An instant as ClickHouse DateTime64(3) text (the one formatter: shared/clickhouse/tables). */
export const chInstant = chDateTime64;

const CH_DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/**
 * ClickHouse `DateTime`/`DateTime64` output text (UTC) → ISO-8601. The plain `DateTime` text (a series
 * bucket: hundreds per response) is rewritten as a string, the rest goes through Date.
 */
export const isoOf = (chText: string | null | undefined): string | null => {
  if (chText == null) return null;
  if (CH_DATETIME.test(chText)) return `${chText.slice(0, 10)}T${chText.slice(11)}.000Z`;
  return new Date(chText.replace(' ', 'T') + (chText.endsWith('Z') ? '' : 'Z')).toISOString();
};
