import pino from 'pino';
import pinoPretty from 'pino-pretty';
import Table from 'cli-table3';
import { setDefaultLogDestination } from '../shared/logging/logger';

/**
 * How the `spacehub` CLI talks to people and to programs, decided once per process:
 * - stdout carries only results. JSON (one document) when stdout is not a terminal or with --json;
 *   plain lines and tables for a person on a terminal.
 * - logs always go to stderr: readable lines (pino-pretty) on a terminal, JSON lines otherwise — so a
 *   pipe never sees a log line mixed into a result.
 */
export interface Output {
  /** True when results are JSON (piped, or --json). */
  readonly json: boolean;
  /** Prints a command's result: JSON, or `human(data)` for a person (JSON too when there is no human form). */
  result<T>(data: T, human?: (data: T) => string): void;
}

export interface OutputOptions {
  json?: boolean;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
}

export function createOutput(o: OutputOptions = {}): Output {
  const stdout = o.stdout ?? process.stdout;
  const json = o.json === true || !stdout.isTTY;
  return {
    json,
    result(data, human) {
      stdout.write(json || !human ? `${JSON.stringify(data, null, 2)}\n` : `${human(data).replace(/\n$/, '')}\n`);
    },
  };
}

/** Sends every logger made without an explicit destination to stderr (pretty on a terminal). */
export function routeLogsToStderr(stderr: NodeJS.WriteStream = process.stderr): void {
  setDefaultLogDestination(
    stderr.isTTY
      ? pinoPretty({ destination: 2, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,service' })
      : pino.destination({ fd: 2, sync: true }),
  );
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
