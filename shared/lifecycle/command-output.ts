import Table from 'cli-table3';

/**
 * Where a command's result goes (cli/output.ts makes the one of a process): JSON when stdout is not a
 * terminal or with --json, plain lines and tables for a person on a terminal. Logs never go here.
 */
export interface Output {
  /** True when results are JSON (piped, or --json). */
  readonly json: boolean;
  /** Prints a command's result: JSON, or `human(data)` for a person (JSON too when there is no human form). */
  result<T>(data: T, human?: (data: T) => string): void;
}

/** A table for people: `columns` are [header, cell of a row]. */
export function table<T>(rows: T[], columns: Array<[string, (row: T) => string | number]>): string {
  const t = new Table({ head: columns.map(([h]) => h), style: { head: [], border: [], compact: true } });
  for (const r of rows) t.push(columns.map(([, cell]) => String(cell(r))));
  return t.toString();
}

/** "label   value" lines for one object, for people. */
export function keyValues(pairs: Array<[string, string | number]>): string {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
