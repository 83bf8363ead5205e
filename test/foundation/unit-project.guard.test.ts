import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

/**
 * The unit project's promise (jest.config.js, test/README.md): a test named *.unit.test.ts that reaches
 * for a service does not pass, hang or retry into a timeout — it fails with an error that names the
 * service and the fix, while the file's pure tests pass. Runs a fixture through the unit project's own
 * set-up in a child jest (the environment points at the real stack, as a developer's shell would).
 */
describe('unit project guard', () => {
  it('fails a unit test that reaches Redis with ServiceInUnitTestError naming it, and passes the pure one', async () => {
    const { projects } = (await import(path.join(ROOT, 'jest.config.js'))) as { projects: Array<{ displayName: string }> };
    const unit = projects.find((p) => p.displayName === 'unit');
    const config = { ...unit, rootDir: ROOT, testMatch: ['<rootDir>/test/foundation/fixtures/reaches-redis.unit.fixture.ts'] };
    const result = await run(process.execPath, [path.join(ROOT, 'node_modules/jest/bin/jest.js'), '--ci', '--forceExit', '--config', JSON.stringify(config)], {
      cwd: ROOT, env: { ...process.env, NODE_ENV: 'test' }, timeout: 100_000,
    }).then(() => ({ code: 0, out: '' }), (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, out: err.stdout + err.stderr }));
    expect(result.code).toBe(1);
    expect(result.out).toContain('ServiceInUnitTestError: A unit test tried to reach redis');
    expect(result.out).toContain('name it *.test.ts (an integration test');
    expect(result.out).toMatch(/✕ writes a key to Redis/);
    expect(result.out).toMatch(/✓ adds two numbers/);
    expect(result.out).not.toContain('Exceeded timeout');
  });
});
