import type { Runtime } from '../shared/runtime';

export type Args = { positional: string[]; flags: Record<string, string | boolean> };

/** A long-running part of the pipeline that `spacehub <name>` runs alone and `spacehub all` runs together. */
export interface ServiceModule {
  name: string;
  describe: string;
  /** Included in `spacehub all` (npm start). */
  inAll: boolean;
  start(rt: Runtime, args: Args): Promise<RunningService>;
}

export interface RunningService {
  /** Printed at start-up, e.g. { api: 'http://127.0.0.1:8080' }. */
  urls?: Record<string, string>;
  close(): Promise<void>;
}

/** A one-shot command (`spacehub users create …`); returns the exit code. */
export interface CommandModule {
  name: string;
  describe: string;
  usage?: string;
  run(args: Args): Promise<number>;
}

export function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
      else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) flags[a.slice(2)] = argv[++i]!;
      else flags[a.slice(2)] = true;
    } else positional.push(a);
  }
  return { positional, flags };
}
