import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ConfigError, parseConfig } from '../../shared/config/config';
import { repoPath } from '../../shared/paths';

const run = promisify(execFile);

/**
 * Issue 17: the platform simulator approves any login, so a production process refuses to run on it
 * unless DEMO_DEPLOYMENT says this is a public demo; and `npm start` writes `.env` (which holds the
 * token-encryption key ring) readable by its owner only.
 */
describe('security: production guards and secrets at rest', () => {
  it('NODE_ENV=production with PLATFORMS_MODE=simulator is refused, naming the flag that allows a demo', () => {
    let err: unknown;
    try {
      parseConfig({ NODE_ENV: 'production', PLATFORMS_MODE: 'simulator' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe('PLATFORMS_MODE');
    expect((err as Error).message).toMatch(/DEMO_DEPLOYMENT=true/);
    expect(parseConfig({ NODE_ENV: 'production', PLATFORMS_MODE: 'simulator', DEMO_DEPLOYMENT: 'true' }).PLATFORMS_MODE).toBe('simulator');
    expect(parseConfig({ NODE_ENV: 'production', PLATFORMS_MODE: 'live' }).PLATFORMS_MODE).toBe('live');
    expect(parseConfig({ NODE_ENV: 'development', PLATFORMS_MODE: 'simulator' }).PLATFORMS_MODE).toBe('simulator');
  });

  it('a production process on the simulator does not start (exit 1, the reason on stderr)', async () => {
    const r = await run(repoPath('bin', 'spacehub'), ['simulate'], {
      env: { ...process.env, SPACEHUB_DEV: '1', NODE_ENV: 'production', PLATFORMS_MODE: 'simulator', DEMO_DEPLOYMENT: '', LOG_LEVEL: 'silent' },
      cwd: os.tmpdir(),
      timeout: 120_000,
    }).then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/PLATFORMS_MODE/);
    expect(r.stderr).toMatch(/simulator/);
  }, 150_000);

  describe('scripts/init-env.sh (what npm start runs first)', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spacehub-env-'));
      fs.copyFileSync(repoPath('.env.example'), path.join(dir, '.env.example'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const mode = (f: string) => fs.statSync(f).mode & 0o777;

    it('creates .env with mode 0600 and a fresh key ring', async () => {
      await run('bash', [repoPath('scripts', 'init-env.sh'), dir]);
      const env = path.join(dir, '.env');
      expect(mode(env)).toBe(0o600);
      expect(fs.readFileSync(env, 'utf8')).toMatch(/^TOKEN_ENCRYPTION_KEYS=k1:[A-Za-z0-9+/]{43}=$/m);
    });

    it('tightens an existing, world-readable .env to 0600 and leaves its content alone', async () => {
      const env = path.join(dir, '.env');
      fs.writeFileSync(env, 'TOKEN_ENCRYPTION_KEYS=k1:abc\n', { mode: 0o644 });
      fs.chmodSync(env, 0o644);
      await run('bash', [repoPath('scripts', 'init-env.sh'), dir]);
      expect(mode(env)).toBe(0o600);
      expect(fs.readFileSync(env, 'utf8')).toBe('TOKEN_ENCRYPTION_KEYS=k1:abc\n');
    });
  });
});
