import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testEncryptionKeys } from '../support/stack';

/**
 * A private native stack (own STACK_DIR, own ports, the main stack's downloaded servers) plus the
 * pipeline as real child processes (`bin/spacehub simulate|ingest|process`), so the fault suite can
 * kill -9 brokers and services without touching the shared stack other suites use.
 */
export const ROOT = path.resolve(__dirname, '../..');

// Ports no other stack here uses (shared 1xxxx, stack-restart test 26xxx–29xxx). All below Linux's
// ephemeral range (32768–60999): a listener there can find its port taken by an outgoing connection
// of any process (a faults run lost a restarted ingest to EADDRINUSE on its metrics port, then 47464).
export const PORTS = { kafka: 24092, controller: 24093, registry: 24081, clickhouse: 24123, redis: 24379, simulator: 24090, ingestMetrics: 24464, processMetrics: 24465, simulateMetrics: 24466 };

export type ServiceName = 'simulate' | 'ingest' | 'process';

export class PrivateStack {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spacehub-faults-'));
  private readonly children = new Map<ServiceName, ChildProcess>();
  private readonly logOffsets = new Map<ServiceName, number>();
  private readonly stackEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: process.env.HOME, JAVA_HOME: process.env.JAVA_HOME,
    STACK_DIR: this.dir,
    STACK_KAFKA_PORT: String(PORTS.kafka), STACK_KAFKA_CONTROLLER_PORT: String(PORTS.controller),
    STACK_SCHEMA_REGISTRY_PORT: String(PORTS.registry), STACK_CLICKHOUSE_PORT: String(PORTS.clickhouse),
    STACK_REDIS_PORT: String(PORTS.redis),
    // Reuse the jars and the registry build of the main stack instead of fetching them again.
    SPACEHUB_STACK_LIB_DIR: path.join(ROOT, '.stack', 'lib'),
    SPACEHUB_NO_DOTENV: '1',
  };
  /** What every service and the test's own runtime see: the private stack's endpoints. */
  readonly env: Record<string, string>;

  constructor(channels: number, extra: Record<string, string> = {}) {
    this.env = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      KAFKA_BROKERS: `127.0.0.1:${PORTS.kafka}`,
      SCHEMA_REGISTRY_URL: `http://127.0.0.1:${PORTS.registry}/apis/ccompat/v7`,
      CLICKHOUSE_URL: `http://127.0.0.1:${PORTS.clickhouse}`,
      REDIS_URL: `redis://127.0.0.1:${PORTS.redis}`,
      KAFKA_TOPIC_PREFIX: 'faults',
      KAFKA_PARTITIONS: '3',
      CLICKHOUSE_DATABASE: 'faults',
      REDIS_KEY_PREFIX: 'faults',
      TOKEN_ENCRYPTION_KEYS: testEncryptionKeys(),
      PLATFORMS_MODE: 'simulator',
      SIMULATOR_PORT: String(PORTS.simulator),
      SIMULATOR_CHANNELS: String(channels),
      SIMULATOR_DEMO_CHANNELS: String(channels),
      ...extra,
    };
  }

  stack(cmd: string, ...args: string[]): string {
    return execFileSync('bash', [path.join(ROOT, 'infra/stack.sh'), cmd, ...args], { env: this.stackEnv, cwd: os.tmpdir(), stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 180_000 });
  }

  pidOf(service: 'kafka' | 'clickhouse' | 'redis' | 'registry'): number {
    return Number(fs.readFileSync(path.join(this.dir, 'run', `${service}.pid`), 'utf8').trim());
  }

  /** kill -9 of one stack server, by the pid its start wrote. */
  killServer(service: 'kafka' | 'clickhouse'): void {
    process.kill(this.pidOf(service), 'SIGKILL');
  }

  start(service: ServiceName): void {
    this.logOffsets.set(service, fs.existsSync(path.join(this.dir, `${service}.log`)) ? fs.statSync(path.join(this.dir, `${service}.log`)).size : 0);
    const metricsPort = { simulate: PORTS.simulateMetrics, ingest: PORTS.ingestMetrics, process: PORTS.processMetrics }[service];
    const log = fs.openSync(path.join(this.dir, `${service}.log`), 'a');
    const child = spawn(path.join(ROOT, 'bin/spacehub'), [service], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SPACEHUB_DEV: '1', ...this.env, METRICS_PORT: String(metricsPort) },
      stdio: ['ignore', log, log],
      // Own process group: a kill reaches the service and nothing else.
      detached: true,
    });
    fs.closeSync(log);
    this.children.set(service, child);
  }

  /** kill -9 (the fault) or TERM (a clean stop) of a service this suite started, by its process group id. */
  async stop(service: ServiceName, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const child = this.children.get(service);
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try { process.kill(-child.pid, signal); } catch { return; }
    const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 20_000);
    await exited;
    clearTimeout(timer);
    this.children.delete(service);
  }

  /** When the service last started printed `spacehub ready` (polled; ms since the epoch). */
  async readyAt(service: ServiceName, timeoutMs = 180_000): Promise<number> {
    const file = path.join(this.dir, `${service}.log`);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').slice(this.logOffsets.get(service) ?? 0) : '';
      if (text.includes('spacehub ready')) return Date.now();
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${service} did not report ready within ${timeoutMs} ms:\n${this.logTail(service)}`);
  }

  alive(service: ServiceName): boolean {
    const c = this.children.get(service);
    return !!c && c.exitCode === null && c.signalCode === null;
  }

  /** How a service that is no longer alive ended ("exited 1", "killed by SIGKILL"), or "running". */
  exitOf(service: ServiceName): string {
    const c = this.children.get(service);
    if (!c) return 'not started (or stopped by this suite)';
    if (c.signalCode !== null) return `killed by ${c.signalCode}`;
    return c.exitCode !== null ? `exited ${c.exitCode}` : 'running';
  }

  logTail(service: ServiceName, lines = 30): string {
    try {
      return fs.readFileSync(path.join(this.dir, `${service}.log`), 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  async close(): Promise<void> {
    for (const s of ['ingest', 'process', 'simulate'] as const) await this.stop(s, 'SIGTERM').catch(() => undefined);
    try { this.stack('down'); } catch { /* already down */ }
    if (!process.env.KEEP_FAULTS_DIR) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
