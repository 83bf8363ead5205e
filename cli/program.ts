import fs from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { repoPath } from '../shared/paths';
import type { Args, ArgumentSpec, CommandModule, OptionSpec, ServiceModule } from '../shared/lifecycle/process.contract';
import type { Output } from '../shared/lifecycle/command-output';

/**
 * The `spacehub` command line, built with commander from the declarations in cli/registry.ts. Commander
 * gives --help for every command (usage, flags with defaults), --version, and rejects unknown commands
 * and flags with a "did you mean" suggestion; this file maps its exits to ours (0 help/version, 2 bad
 * usage) and turns parsed options into the `Args` that command bodies read. Bodies run only from an
 * action, that is after parsing succeeded and was not a --help: a help request never reaches them.
 */
export const EXIT_USAGE = 2;

export interface ProgramHandlers {
  /** Runs one or more services until a signal (`spacehub api`, `spacehub all`). */
  runServices(selected: ServiceModule[], args: Args, out: Output, opts: { all: boolean }): Promise<number>;
  bootstrap(out: Output): Promise<number>;
  /** Builds the Output once the global --json flag is known. */
  output(json: boolean): Output;
}

export interface ProgramSpec {
  services: ServiceModule[];
  commands: CommandModule[];
  /** Options of `spacehub all` besides those of its services. */
  allOptions?: OptionSpec[];
}

export function cliVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(repoPath('package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

function addOptions(cmd: Command, options: OptionSpec[] = []): void {
  for (const o of options) {
    const opt = new Option(o.flags, o.describe);
    if (o.default !== undefined) opt.default(o.default);
    if (o.choices) opt.choices(o.choices);
    cmd.addOption(opt);
  }
}

function addArguments(cmd: Command, args: ArgumentSpec[] = []): void {
  for (const a of args) cmd.argument(a.required ? `<${a.name}>` : `[${a.name}]`, a.describe);
}

/** The body's view of what commander parsed: flags by long name, operands in order. */
function argsOf(cmd: Command, operands: string[], prefix: string[] = []): Args {
  const values = cmd.opts<Record<string, string | boolean | undefined>>();
  const flags: Record<string, string | boolean> = {};
  for (const o of cmd.options) {
    const v = values[o.attributeName()];
    if (v !== undefined && o.long) flags[o.long.replace(/^--/, '')] = v;
  }
  return { positional: [...prefix, ...operands.filter((x) => x !== undefined)], flags };
}

export function buildProgram(spec: ProgramSpec, h: ProgramHandlers, onExit: (code: number) => void): Command {
  const program = new Command('spacehub');
  const out = () => h.output(program.opts<{ json?: boolean }>().json === true);
  const run = (p: Promise<number>) => p.then(onExit);
  program
    .description('Space HUB Streaming: run the pipeline\'s services and operate it (docs: README.md, cli/README.md)')
    .version(cliVersion(), '-V, --version', 'print the version')
    .option('--json', 'results as JSON on stdout (the default when stdout is not a terminal)')
    .helpOption('-h, --help', 'show usage, flags and defaults (runs nothing)')
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .exitOverride();

  const serviceOptions = spec.services.flatMap((s) => s.options ?? []);
  const all = program.command('all').description('bootstrap, then run every service in this process (what npm start runs)');
  addOptions(all, [...(spec.allOptions ?? []), ...serviceOptions.filter((o, i) => serviceOptions.findIndex((x) => x.flags === o.flags) === i)]);
  all.action((_o, cmd: Command) => run(h.runServices(spec.services.filter((s) => s.inAll), argsOf(cmd, []), out(), { all: true })));

  program
    .command('bootstrap')
    .description('wait for Kafka, Schema Registry, ClickHouse, Redis; migrate; create topics; register schemas')
    .action(() => run(h.bootstrap(out())));

  for (const svc of spec.services) {
    const cmd = program.command(svc.name).description(svc.describe);
    addOptions(cmd, svc.options);
    cmd.action((_o, c: Command) => run(h.runServices([svc], argsOf(c, []), out(), { all: false })));
  }

  for (const m of spec.commands) {
    const cmd = program.command(m.name).description(m.describe);
    addOptions(cmd, m.options);
    if (m.subcommands?.length) {
      for (const sub of m.subcommands) {
        const sc = cmd.command(sub.name).description(sub.describe);
        addOptions(sc, sub.options);
        addArguments(sc, sub.arguments);
        sc.action((...a: unknown[]) => {
          const c = a[a.length - 1] as Command;
          const operands = a.slice(0, -2) as string[];
          // Parent flags (declared on `m`) and the subcommand's own, as one set.
          const parent = argsOf(cmd, []);
          const own = argsOf(c, operands, [sub.name]);
          return run(m.run({ positional: own.positional, flags: { ...parent.flags, ...own.flags } }, out()));
        });
      }
    } else {
      addArguments(cmd, m.arguments);
      cmd.action((...a: unknown[]) => {
        const c = a[a.length - 1] as Command;
        return run(m.run(argsOf(c, a.slice(0, -2) as string[]), out()));
      });
    }
  }
  return program;
}

/** Runs the CLI on argv (without node and script); resolves with the exit code. */
export async function runProgram(spec: ProgramSpec, h: ProgramHandlers, argv: string[]): Promise<number> {
  let code: number | undefined;
  const program = buildProgram(spec, h, (c) => (code = c));
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
    throw err;
  }
  return code ?? 0;
}
