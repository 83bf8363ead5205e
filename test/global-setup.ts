import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * Brings the native stack up (idempotent; external endpoints from the environment are used as they
 * are) and exports the endpoints to every test worker.
 */
export default async function globalSetup(): Promise<void> {
  const root = path.resolve(__dirname, '..');
  if (!process.env.SPACEHUB_TEST_NO_STACK) {
    execFileSync('bash', [path.join(root, 'infra/stack.sh'), 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const env = execFileSync('bash', [path.join(root, 'infra/stack.sh'), 'env'], { encoding: 'utf8' });
  for (const line of env.trim().split('\n')) {
    const i = line.indexOf('=');
    process.env[line.slice(0, i)] = line.slice(i + 1);
  }
}
