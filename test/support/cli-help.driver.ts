/**
 * Child process of test/cli/cli.help.test.ts: asks the real CLI entry (cli/spacehub.ts runCli) for
 * `--help` of every registered command and subcommand, one after another in this one process (a node
 * start per command would cost the 2-core machine minutes), and records for each what it printed, its
 * exit code, and every side effect it attempted: TCP connections (any client of Kafka, ClickHouse,
 * Redis, the registry or a platform opens one) and process.exit calls. Writes the results as JSON to
 * the file named by its first argument.
 */
import fs from 'node:fs';
import net from 'node:net';

interface HelpResult {
  argv: string[];
  code: number | 'timeout' | 'threw';
  stdout: string;
  stderr: string;
  connections: string[];
  exits: number[];
}

const connections: string[] = [];
const exits: number[] = [];
const realConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
  const o = args[0] as { host?: string; port?: number; path?: string } | number;
  connections.push(typeof o === 'object' ? `${o.host ?? ''}:${o.port ?? o.path ?? ''}` : `:${String(o)}`);
  return (realConnect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;
const realExit = process.exit.bind(process);
process.exit = ((code?: number) => {
  exits.push(code ?? 0);
  throw new Error(`process.exit(${code}) called`);
}) as typeof process.exit;

async function main(outFile: string): Promise<void> {
  const { COMMANDS, SERVICES } = await import('../../cli/registry');
  const { runCli } = await import('../../cli/spacehub');
  const argvs: string[][] = [['--help'], ['help'], ['all', '--help'], ['bootstrap', '--help']];
  for (const s of SERVICES) argvs.push([s.name, '--help']);
  for (const c of COMMANDS) {
    argvs.push([c.name, '--help']);
    for (const sub of c.subcommands ?? []) argvs.push([c.name, sub.name, '--help'], [c.name, 'help', sub.name]);
  }
  const results: HelpResult[] = [];
  for (const argv of argvs) {
    let stdout = '';
    let stderr = '';
    const outWrite = process.stdout.write.bind(process.stdout);
    const errWrite = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += chunk.toString()), true)) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += chunk.toString()), true)) as typeof process.stderr.write;
    const before = { connections: connections.length, exits: exits.length };
    let code: HelpResult['code'];
    let timer: NodeJS.Timeout | undefined;
    try {
      code = await Promise.race([runCli(argv), new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 15_000)))]);
    } catch (err) {
      code = 'threw';
      stderr += String((err as Error).message);
    } finally {
      clearTimeout(timer);
      process.stdout.write = outWrite;
      process.stderr.write = errWrite;
    }
    results.push({ argv, code, stdout, stderr, connections: connections.slice(before.connections), exits: exits.slice(before.exits) });
  }
  fs.writeFileSync(outFile, JSON.stringify(results, null, 2));
}

main(process.argv[2]!).then(
  () => realExit(0),
  (err: unknown) => {
    console.error(err);
    realExit(1);
  },
);
