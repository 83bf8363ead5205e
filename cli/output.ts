import pino from 'pino';
import pinoPretty from 'pino-pretty';
import { setDefaultLogDestination } from '../shared/logging/logger';
import type { Output } from '../shared/lifecycle/command-output';

/**
 * How the `spacehub` CLI talks to people and to programs, decided once per process:
 * - stdout carries only results (the `Output` of shared/lifecycle/command-output.ts).
 * - logs always go to stderr: readable lines (pino-pretty) on a terminal, JSON lines otherwise — so a
 *   pipe never sees a log line mixed into a result.
 */
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
