/**
 * The macros of Grafana's ClickHouse plugin (`grafana-clickhouse-datasource`, pkg/macros/macros.go),
 * re-implemented so the dashboard tests send ClickHouse the SQL Grafana would send. Reference only —
 * written from the plugin's documented behaviour, not copied.
 *
 * Two expansion engines exist in the field, and a dashboard must work under both:
 *  - `current` (plugin 4.19+, grafana/macropro): a macro takes arguments only when `(` follows its
 *    name immediately; names are matched longest first; SQL comments are stripped first.
 *  - `legacy` (plugin ≤ 4.18, grafana-plugin-sdk-go sqlutil): after the name it scans forward for
 *    the first `(` anywhere later in the query, unless a `)` comes first — so `$__interval_s AS x
 *    FROM (SELECT …)` swallows the sub-query (clickhouse-datasource issue #249). The tests assert both
 *    engines give the same SQL, which rules such shapes out of our dashboards.
 */
import { AppError } from '../shared/errors/app-error';

export interface MacroContext {
  /** The dashboard time range. */
  from: Date;
  to: Date;
  /** Grafana's computed interval for the panel ($__interval), in milliseconds. */
  intervalMs: number;
}

export class MacroError extends AppError {
  constructor(readonly macro: string, detail: string) {
    super('GRAFANA_MACRO_INVALID', `macro $__${macro}: ${detail}`, { context: { macro } });
  }
}

type MacroFn = (ctx: MacroContext, args: string[]) => string;

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);
const toDateTime = (d: Date) => `toDateTime(${seconds(d)})`;
const toDateTime64 = (d: Date) => `fromUnixTimestamp64Milli(${d.getTime()})`;
const toDate = (d: Date) => `toDate('${d.toISOString().slice(0, 10)}')`;
const rfc3339 = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;

function arity(name: string, args: string[], n: number): void {
  if (args.length !== n) throw new MacroError(name, `expected ${n} argument${n === 1 ? '' : 's'}, received ${args.length}`);
}

/** The plugin's own macros. */
const PLUGIN_MACROS: Record<string, MacroFn> = {
  fromTime: (c) => toDateTime(c.from),
  toTime: (c) => toDateTime(c.to),
  fromTime_ms: (c) => toDateTime64(c.from),
  toTime_ms: (c) => toDateTime64(c.to),
  timeFilter: (c, a) => (arity('timeFilter', a, 1), `${a[0]} >= ${toDateTime(c.from)} AND ${a[0]} <= ${toDateTime(c.to)}`),
  timeFilter_ms: (c, a) => (arity('timeFilter_ms', a, 1), `${a[0]} >= ${toDateTime64(c.from)} AND ${a[0]} <= ${toDateTime64(c.to)}`),
  dateFilter: (c, a) => (arity('dateFilter', a, 1), `${a[0]} >= ${toDate(c.from)} AND ${a[0]} <= ${toDate(c.to)}`),
  dateTimeFilter: (c, a) => dateTimeFilter('dateTimeFilter', c, a),
  dt: (c, a) => dateTimeFilter('dt', c, a),
  timeInterval: (c, a) => (arity('timeInterval', a, 1), `toStartOfInterval(toDateTime(${a[0]}), INTERVAL ${Math.max(Math.floor(c.intervalMs / 1000), 1)} second)`),
  timeInterval_ms: (c, a) => (arity('timeInterval_ms', a, 1), `toStartOfInterval(toDateTime64(${a[0]}, 3), INTERVAL ${Math.max(Math.floor(c.intervalMs), 1)} millisecond)`),
  interval_s: (c) => String(Math.max(Math.floor(c.intervalMs / 1000), 1)),
};

function dateTimeFilter(name: string, c: MacroContext, a: string[]): string {
  arity(name, a, 2);
  return `(${a[0]} >= ${toDate(c.from)} AND ${a[0]} <= ${toDate(c.to)}) AND (${a[1]} >= ${toDateTime(c.from)} AND ${a[1]} <= ${toDateTime(c.to)})`;
}

/**
 * The engine's dialect-neutral defaults, used where the plugin defines no macro of that name. They
 * produce RFC 3339 strings, which ClickHouse compares as text against DateTime only by luck — the
 * dashboard lint forbids them; they exist here so a stray use expands as Grafana would.
 */
const DEFAULT_MACROS: Record<string, MacroFn> = {
  timeFrom: (c, a) => (a.length && a[0] ? `${a[0]} >= '${rfc3339(c.from)}'` : `'${rfc3339(c.from)}'`),
  timeTo: (c, a) => (a.length && a[0] ? `${a[0]} <= '${rfc3339(c.to)}'` : `'${rfc3339(c.to)}'`),
  timeGroup: () => {
    throw new MacroError('timeGroup', 'the generic $__timeGroup emits non-ClickHouse SQL; use $__timeInterval');
  },
  table: () => {
    throw new MacroError('table', 'no table in a raw SQL query');
  },
  column: () => {
    throw new MacroError('column', 'no column in a raw SQL query');
  },
};

export const MACROS: Readonly<Record<string, MacroFn>> = { ...DEFAULT_MACROS, ...PLUGIN_MACROS };
/** Names of the plugin's own macros (what dashboards may use). */
export const PLUGIN_MACRO_NAMES = Object.keys(PLUGIN_MACROS);
/** Names longest first, so `$__timeFilter_ms` is never read as `$__timeFilter` + `_ms`. */
const NAMES = Object.keys(MACROS).sort((a, b) => b.length - a.length || a.localeCompare(b));

const isNameChar = (ch: string | undefined) => ch !== undefined && /[A-Za-z0-9_]/.test(ch);

/** Index after a quoted literal starting at `pos` ('' and "" escapes, as SQL). */
function skipQuoted(s: string, pos: number): number {
  const q = s[pos];
  let j = pos + 1;
  while (j < s.length) {
    if (s[j] === q) {
      if (s[j + 1] === q) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return j;
}

/** Removes `-- …` and `/* … *\/` comments outside string literals (the current engine does this first). */
export function stripComments(sql: string): string {
  let out = '';
  for (let i = 0; i < sql.length; ) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"') {
      const end = skipQuoted(sql, i);
      out += sql.slice(i, end);
      i = end;
    } else if (ch === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n' && sql[i] !== '\r') i++;
    } else if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
      out += ' ';
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

function closingParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; ) {
    const ch = s[i]!;
    if (ch === "'" || ch === '"') {
      i = skipQuoted(s, i);
      continue;
    }
    if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i;
    i++;
  }
  return -1;
}

/** Splits on top-level commas, respecting nested parentheses and string literals. */
function splitArgs(name: string, raw: string): string[] {
  const text = raw.trim();
  if (text === '') return [];
  const args: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; ) {
    const ch = text[i]!;
    if (ch === "'" || ch === '"') {
      i = skipQuoted(text, i);
      continue;
    }
    if (ch === '(') depth++;
    else if (ch === ')') {
      if (depth === 0) throw new MacroError(name, `unexpected ')' in arguments`);
      depth--;
    } else if (ch === ',' && depth === 0) {
      args.push(text.slice(start, i).trim());
      start = i + 1;
    }
    i++;
  }
  if (depth !== 0) throw new MacroError(name, 'unbalanced parentheses in arguments');
  args.push(text.slice(start).trim());
  return args;
}

/** Expands the plugin's macros as plugin 4.19+ does. */
export function expandMacros(sql: string, ctx: MacroContext): string {
  let result = stripComments(sql);
  for (const name of NAMES) {
    const token = `$__${name}`;
    let out = '';
    let rest = result;
    for (let idx = rest.indexOf(token); idx !== -1; idx = rest.indexOf(token)) {
      const after = idx + token.length;
      if (isNameChar(rest[after])) {
        out += rest.slice(0, after);
        rest = rest.slice(after);
        continue;
      }
      out += rest.slice(0, idx);
      rest = rest.slice(after);
      let raw = '';
      if (rest[0] === '(') {
        const end = closingParen(rest, 0);
        if (end !== -1) {
          raw = rest.slice(1, end);
          rest = rest.slice(end + 1);
        }
      }
      out += MACROS[name]!(ctx, splitArgs(name, raw));
    }
    result = out + rest;
  }
  return result;
}

/**
 * Expands as plugin ≤ 4.18 did (sqlutil.Interpolate): for each occurrence, the "arguments" run from
 * the first `(` found anywhere after the name to its matching `)`, unless a `)` is met first; the
 * matched text is replaced everywhere it occurs.
 */
export function expandMacrosLegacy(sql: string, ctx: MacroContext): string {
  let result = sql;
  for (const name of NAMES) {
    const re = new RegExp(`\\$__${name}\\b`, 'g');
    const matches: Array<[string, string]> = [];
    for (const m of result.matchAll(re)) {
      const start = m.index;
      const copy = result.slice(start);
      let depth = 0;
      let argStart = 0;
      let end = 0;
      for (let i = 0; i < copy.length; i++) {
        if (depth === 0 && end > 0) break;
        const ch = copy[i];
        if (ch === '(') {
          depth++;
          if (argStart === 0) argStart = i + 1;
        } else if (ch === ')') {
          if (depth === 0) {
            end = 0;
            break;
          }
          depth--;
          end = i + 1;
        }
      }
      if (end === 0) end = m[0].length;
      matches.push([copy.slice(0, end), argStart > 0 ? copy.slice(argStart, end - 1) : '']);
    }
    for (const [text, rawArgs] of matches) {
      // sqlutil splits on every comma and always passes at least one (possibly empty) argument.
      const args = rawArgs.split(',').map((s) => s.trim());
      result = result.split(text).join(MACROS[name]!(ctx, args));
    }
  }
  return result;
}

/** `$__name` tokens still present after expansion (unknown macros reach ClickHouse verbatim). */
export function leftoverMacros(sql: string): string[] {
  return [...new Set([...sql.matchAll(/\$__[A-Za-z0-9_]+/g)].map((m) => m[0]))];
}
