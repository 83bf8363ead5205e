/**
 * The official Twitch CLI (twitchdev/twitch-cli) as the outside peer of the Twitch tests: its mock
 * Helix API (`mock-api`) and its EventSub WebSocket server (`event websocket start-server`).
 *
 * Where the binary is found, first match wins:
 * 1. `$TWITCH_CLI` (a path; it must exist — a wrong value fails, it never falls through);
 * 2. `twitch` on `PATH`;
 * 3. `shared/tools/twitch` beside the repository or beside any of its parent folders — the layout
 *    of this project's machines (`/work/main` → `/work/shared/tools/twitch`); a fresh clone elsewhere
 *    (`/tmp/freshN`) does not have it beside it, so 4.
 * 4. `/work/shared/tools/twitch`.
 * Not found → the tests fail with this message; they never skip.
 *
 * `event websocket start-server` always opens the CLI's control port 44747 (how `event trigger` and
 * `event websocket reconnect` reach it), so only one such server can run on a machine at a time:
 * `withCliLock` serialises them across jest workers and concurrent test runs with a lock file.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const REPO = path.resolve(__dirname, '..', '..');

export function findTwitchCli(): string {
  const env = process.env.TWITCH_CLI;
  if (env) {
    if (!fs.existsSync(env)) throw new Error(`TWITCH_CLI=${env} does not exist`);
    return path.resolve(env);
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, 'twitch');
    if (dir && isExecutable(p)) return p;
  }
  for (let dir = REPO; ; dir = path.dirname(dir)) {
    const p = path.join(dir, 'shared', 'tools', 'twitch');
    if (isExecutable(p)) return p;
    if (path.dirname(dir) === dir) break;
  }
  if (isExecutable('/work/shared/tools/twitch')) return '/work/shared/tools/twitch';
  throw new Error('the Twitch CLI was not found: set TWITCH_CLI, put `twitch` on PATH, or keep it at ../shared/tools/twitch (test/support/twitch-cli.ts)');
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** A private HOME per use: the CLI keeps its config and mock database under $HOME/.config/twitch-cli. */
export function cliHome(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'spacehub-twitch-cli-'));
}

export function runCli(home: string, args: string[], timeoutMs = 20_000): string {
  const r = spawnSync(findTwitchCli(), args, { env: { ...process.env, HOME: home }, encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`twitch ${args.join(' ')} exited ${r.status}: ${r.stderr || r.stdout}`);
  return `${r.stdout}${r.stderr}`;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number, child: ChildProcess): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`twitch CLI exited ${child.exitCode} before listening on ${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`twitch CLI did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface CliServer {
  port: number;
  home: string;
  url: string;
  stop(): Promise<void>;
}

async function startServer(args: (port: number) => string[], home: string, extraPorts: number[] = []): Promise<CliServer> {
  const port = await freePort();
  const child = spawn(findTwitchCli(), args(port), { env: { ...process.env, HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await waitForPort(port, 15_000, child);
    for (const p of extraPorts) await waitForPort(p, 15_000, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${out}`);
  }
  return {
    port,
    home,
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/** `twitch mock-api generate` + `twitch mock-api start -p PORT` in a private HOME; returns the client created. */
export async function startMockApi(): Promise<CliServer & { clientId: string; clientSecret: string }> {
  const home = cliHome();
  const gen = runCli(home, ['mock-api', 'generate'], 60_000);
  const clientId = /Client-ID:\s*(\S+)/.exec(gen)?.[1];
  const clientSecret = /Secret:\s*(\S+)/.exec(gen)?.[1];
  if (!clientId || !clientSecret) throw new Error(`mock-api generate printed no client: ${gen}`);
  const srv = await startServer((p) => ['mock-api', 'start', '-p', String(p)], home);
  return { ...srv, clientId, clientSecret };
}

export const CLI_CONTROL_PORT = 44747;
const LOCK = path.join(os.tmpdir(), 'spacehub-twitch-cli-eventsub.lock');

/** One `event websocket start-server` per machine (its control port is fixed): a lock file held by pid. */
export async function withCliLock<T>(fn: () => Promise<T>, timeoutMs = 300_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      const holder = Number(fs.readFileSync(LOCK, 'utf8') || 0);
      if (holder && !alive(holder)) fs.rmSync(LOCK, { force: true });
      else if (Date.now() > until) throw new Error(`the Twitch CLI EventSub lock ${LOCK} is held by pid ${holder}`);
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(LOCK, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `twitch event websocket start-server -p PORT -S` (subscriptions required, as on Twitch). Hold `withCliLock`. */
export async function startEventSubServer(opts: { requireSubscription?: boolean } = {}): Promise<CliServer & { wsUrl: string; trigger(event: string, ...flags: string[]): string; cli(...args: string[]): string }> {
  const home = cliHome();
  const srv = await startServer((p) => ['event', 'websocket', 'start-server', '-p', String(p), ...(opts.requireSubscription === false ? [] : ['-S'])], home, [CLI_CONTROL_PORT]);
  return {
    ...srv,
    wsUrl: `ws://127.0.0.1:${srv.port}/ws`,
    trigger: (event, ...flags) => runCli(home, ['event', 'trigger', event, '--transport=websocket', ...flags]),
    cli: (...args) => runCli(home, args),
  };
}
