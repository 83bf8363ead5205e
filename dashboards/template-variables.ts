/**
 * The part of Grafana's template interpolation (public/app/features/templating/template_srv) that our
 * dashboards rely on. Grafana replaces dashboard variables in the browser before the query reaches the
 * ClickHouse plugin's backend, which then expands its `$__` macros (./macros.ts). Reference only.
 */

/** Grafana's variable syntax: `$name`, `[[name:format]]`, `${name:format}`. */
const VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

export type VariableValue = string | string[];

export interface GrafanaTimeContext {
  from: Date;
  to: Date;
  intervalMs: number;
}

/** Grafana's built-in variables that exist in every dashboard. */
export function builtInVariables(t: GrafanaTimeContext): Record<string, string> {
  return {
    __from: String(t.from.getTime()),
    __to: String(t.to.getTime()),
    __interval: formatInterval(t.intervalMs),
    __interval_ms: String(t.intervalMs),
    __range_s: String(Math.round((t.to.getTime() - t.from.getTime()) / 1000)),
    __range_ms: String(t.to.getTime() - t.from.getTime()),
  };
}

function formatInterval(ms: number): string {
  for (const [unit, size] of [['d', 86400000], ['h', 3600000], ['m', 60000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

const sqlQuote = (v: string) => `'${v.replace(/'/g, "''")}'`;

function format(value: VariableValue, fmt: string | undefined): string {
  const values = Array.isArray(value) ? value : [value];
  switch (fmt) {
    case 'sqlstring':
      return values.map(sqlQuote).join(',');
    case 'singlequote':
      return values.map((v) => `'${v.replace(/'/g, "\\'")}'`).join(',');
    case 'csv':
      return values.join(',');
    case 'raw':
      return values.join(',');
    case undefined:
      // The ClickHouse plugin's own formatter: multi-values as a quoted list, single values raw.
      return Array.isArray(value) ? values.map((v) => `'${v}'`).join(',') : values[0] ?? '';
    default:
      throw new Error(`unsupported variable format "${fmt}"`);
  }
}

/** Replaces dashboard and built-in variables; unknown `$names` (the plugin's `$__` macros) stay. */
export function interpolateVariables(sql: string, vars: Record<string, VariableValue>, t: GrafanaTimeContext): string {
  const all: Record<string, VariableValue> = { ...builtInVariables(t), ...vars };
  return sql.replace(VARIABLE, (match, plain?: string, bracket?: string, bracketFmt?: string, braced?: string, _field?: string, bracedFmt?: string) => {
    const name = plain ?? bracket ?? braced!;
    const value = all[name];
    if (value === undefined) return match;
    return format(value, bracketFmt ?? bracedFmt);
  });
}

/** Dashboard variables a query refers to (built-ins and `$__` macros excluded). */
export function referencedVariables(sql: string): string[] {
  const names = new Set<string>();
  for (const m of sql.matchAll(VARIABLE)) {
    const name = m[1] ?? m[2] ?? m[4]!;
    if (!name.startsWith('__')) names.add(name);
  }
  return [...names];
}
