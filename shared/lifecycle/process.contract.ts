import type { Runtime } from '../runtime';
import type { Output } from './command-output';

/**
 * The process contract: what a part declares so that `spacehub <name>` can run it. Parts implement
 * these; `cli/` only composes them (cli/registry.ts lists them, cli/program.ts builds commander from
 * them). It lives here, below every part, so no part imports from `cli/` (test/foundation/layering.test.ts).
 */

/**
 * What a command body receives from the CLI (cli/program.ts parses with commander): the positional
 * operands (for a command with subcommands, the subcommand's name first) and every declared flag by its
 * long name (`holdout-days`), with its default when absent. Undeclared flags never get here: commander
 * rejects them with a suggestion and exit 2.
 */
export type Args = { positional: string[]; flags: Record<string, string | boolean> };

/** One flag, in commander's syntax: `--weeks <n>` (takes a value), `--chat` (boolean). */
export interface OptionSpec {
  flags: string;
  describe: string;
  /** Shown in --help and passed to the body when the flag is absent. Strings, as typed on a shell. */
  default?: string | boolean;
  /** Accepted values; anything else exits 2 naming them. */
  choices?: string[];
}

/** A positional operand: `<name>` required, `[name]` optional. */
export interface ArgumentSpec {
  name: string;
  describe: string;
  required?: boolean;
}

/** A subcommand (`dlq list`): its own flags; the parent's `run` gets its name as positional[0]. */
export interface SubcommandSpec {
  name: string;
  describe: string;
  options?: OptionSpec[];
  arguments?: ArgumentSpec[];
}

/**
 * A long-running part of the pipeline that `spacehub <name>` runs alone and `spacehub all` runs together.
 * What `start` returns is the running part (STYLE habit 13): ready when the promise resolves, and a
 * `close()` that is safe to call twice and runs every clean-up even if one fails (see `Closer`).
 */
export interface ServiceModule {
  name: string;
  describe: string;
  /** Included in `spacehub all` (npm start). */
  inAll: boolean;
  options?: OptionSpec[];
  start(rt: Runtime, args: Args): Promise<RunningService>;
}

export interface RunningService {
  /** Printed at start-up, e.g. { api: 'http://127.0.0.1:8080' }. */
  urls?: Record<string, string>;
  close(): Promise<void>;
}

/**
 * A one-shot command (`spacehub users create …`); returns the exit code (0 done, 1 failed, 2 bad
 * usage). Results go through `out` (JSON when piped or with --json, lines for people on a terminal);
 * logs go to stderr. Nothing may connect anywhere before commander has parsed, so `--help` is inert.
 */
export interface CommandModule {
  name: string;
  describe: string;
  /** Shown in the command list instead of the name, e.g. "models runs|predict". Derived from subcommands when absent. */
  usage?: string;
  options?: OptionSpec[];
  arguments?: ArgumentSpec[];
  subcommands?: SubcommandSpec[];
  run(args: Args, out: Output): Promise<number>;
}

/** A bare flag parser for bench/ scripts (which are not CLI commands); the CLI itself parses with commander. */
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
