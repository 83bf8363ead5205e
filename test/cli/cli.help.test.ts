import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../shared/paths';

/**
 * The `spacehub` CLI as people and scripts run it (issue 20): --help of every command prints usage and
 * does nothing else, unknown commands and flags exit 2 with a suggestion, --version works, results are
 * JSON when piped. Every service endpoint in the environment is unreachable (port 1), so any attempt to
 * connect would show up as a failure, a hang or a recorded connection — and the state directories must
 * stay empty.
 */
interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spacehub-cli-help-'));
const modelsDir = path.join(tmp, 'models');
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  SPACEHUB_DEV: '1',
  LOG_LEVEL: 'info',
  KAFKA_BROKERS: '127.0.0.1:1',
  SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1/apis/ccompat/v7',
  CLICKHOUSE_URL: 'http://127.0.0.1:1',
  REDIS_URL: 'redis://127.0.0.1:1',
  API_PORT: '1',
  GATEWAY_PORT: '1',
  SIMULATOR_PORT: '1',
  METRICS_PORT: '1',
  MODELS_DIR: modelsDir,
  STATE_DIR: tmp,
  TOKEN_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
};

const run = (file: string, args: string[]) =>
  new Promise<Result>((resolve) => {
    execFile(file, args, { env, cwd: tmp, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
  });
const spacehub = (...args: string[]) => run(path.join(REPO_ROOT, 'bin', 'spacehub'), args);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('spacehub CLI', () => {
  it('--help of every registered command and subcommand exits 0, prints its usage, connects nowhere and writes nothing', async () => {
    const out = path.join(tmp, 'help-results.json');
    const r = await run(process.execPath, ['--import', path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs'), path.join(REPO_ROOT, 'test', 'support', 'cli-help.driver.ts'), out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const results = JSON.parse(fs.readFileSync(out, 'utf8')) as Array<{ argv: string[]; code: unknown; stdout: string; stderr: string; connections: string[]; exits: number[] }>;
    expect(results.length).toBeGreaterThan(20);
    for (const x of results) {
      const words = x.argv.filter((a) => a !== '--help' && a !== 'help');
      const argv = x.argv.join(' ');
      expect({ argv, code: x.code, connections: x.connections, exits: x.exits, stderr: x.stderr }).toEqual({ argv, code: 0, connections: [], exits: [], stderr: '' });
      expect({ argv, usage: x.stdout.split('\n')[0]!.startsWith(`Usage: spacehub${words.length ? ` ${words.join(' ')}` : ''} `) }).toEqual({ argv, usage: true });
    }
    // Nothing was created where models, the stack or the demo would write.
    expect(fs.readdirSync(tmp).filter((f) => f !== 'help-results.json')).toEqual([]);
  });

  it('flags are listed with their defaults in a command\'s --help (the built CLI as a subprocess)', async () => {
    const r = await spacehub('backfill', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--weeks <n>\s+weeks of history \(default: "6"\)/);
    expect(r.stdout).toMatch(/--json/);
    expect(fs.existsSync(modelsDir)).toBe(false);
  });

  it('an unknown command exits 2 and suggests the nearest one', async () => {
    const r = await spacehub('trian', '--model', 'all');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'trian'/);
    expect(r.stderr).toMatch(/Did you mean train\?/);
  });

  it('an unknown flag exits 2 and suggests the nearest one, before anything runs', async () => {
    const r = await spacehub('backfill', '--wekks', '3');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--wekks'/);
    expect(r.stderr).toMatch(/Did you mean --weeks\?/);
    const sub = await spacehub('dlq', 'list', '--limt', '3');
    expect(sub.code).toBe(2);
    expect(sub.stderr).toMatch(/Did you mean --limit\?/);
  });

  it('--version prints the package version and exits 0; no command at all prints usage and exits 2', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const v = await spacehub('--version');
    expect(v).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    const none = await spacehub();
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^Usage: spacehub/);
  });
});
