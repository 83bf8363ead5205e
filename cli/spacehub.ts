import { ConfigError, loadConfig } from '../shared/config/config';
import { bootstrap, createRuntime, Runtime } from '../shared/runtime';
import { Closer, onShutdown } from '../shared/lifecycle/lifecycle';
import { AppError } from '../shared/errors/app-error';
import { ClickHouseRepository } from '../shared/clickhouse/clickhouse.repository';
import { COMMANDS, SERVICES, checkRegistry } from './registry';
import { runProgram } from './program';
import { keyValues, Output } from '../shared/lifecycle/command-output';
import { createOutput, routeLogsToStderr } from './output';
import type { Args, RunningService, ServiceModule } from '../shared/lifecycle/process.contract';

/** The `spacehub` entry point: logs to stderr, commander parses (cli/program.ts), then one handler runs. */

/** `spacehub all` in simulator mode on an empty database: history and models before "ready" (models/demo-history.ts). */
async function firstStart(rt: Runtime): Promise<void> {
  const { ensureDemoHistory } = await import('../models/demo-history');
  const { progressReporter } = await import('../models/cli-support');
  const { DEMO_USER_ID } = await import('../platforms/simulator/simulate.service');
  const { createRedis } = await import('../shared/redis/redis');
  const { DataVersions } = await import('../shared/redis/data-version');
  const repo = new ClickHouseRepository(rt.clickhouseSettings);
  // An API already serving (another process of the deployment) sees the written channels as changed.
  const redis = createRedis(rt.config.REDIS_URL);
  try {
    const dataVersions = new DataVersions(redis, rt.config.REDIS_KEY_PREFIX);
    await ensureDemoHistory({ config: rt.config, logger: rt.logger, repo, progress: progressReporter(rt.logger), dataVersions }, { userId: DEMO_USER_ID });
  } finally {
    await repo.close();
    redis.disconnect();
  }
}

async function runServices(selected: ServiceModule[], args: Args, out: Output, opts: { all: boolean }): Promise<number> {
  const config = loadConfig();
  const rt = createRuntime(config);
  await bootstrap(rt);
  if (opts.all) await firstStart(rt);
  const closer = new Closer();
  onShutdown(async (signal) => {
    rt.logger.info({ signal }, 'shutting down');
    await closer.close((svc, err) => rt.logger.error({ service: svc, err }, 'close failed'));
  }, config.SHUTDOWN_GRACE_MS);
  const urls: Record<string, string> = {};
  for (const svc of selected) {
    const running: RunningService = await svc.start(rt, args);
    closer.add(svc.name, () => running.close());
    Object.assign(urls, running.urls ?? {});
    rt.logger.info({ service: svc.name }, 'service started');
  }
  const services = selected.map((s) => s.name);
  rt.logger.info({ services, urls }, 'ready');
  out.result({ status: 'ready', message: 'spacehub ready', services, urls }, (r) => `${keyValues(Object.entries(r.urls).map(([k, v]) => [`  ${k}`, v]))}\nspacehub ready`);
  return new Promise<number>(() => undefined); // runs until a signal
}

async function runBootstrap(out: Output): Promise<number> {
  const rt = createRuntime(loadConfig());
  await bootstrap(rt);
  out.result({ status: 'bootstrapped' }, () => 'bootstrap complete');
  return 0;
}

/** The whole CLI on `argv` (without node and script); resolves with the exit code. Services never resolve. */
export async function runCli(argv: string[]): Promise<number> {
  routeLogsToStderr();
  checkRegistry();
  return runProgram({ services: SERVICES, commands: COMMANDS }, { runServices, bootstrap: runBootstrap, output: (json) => createOutput({ json }) }, argv);
}

// Run as a program (bin/spacehub); imported (test/support/cli-help.driver.ts), it only exports runCli.
if (require.main === module) main();

function main(): void {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof ConfigError || err instanceof AppError) console.error(`spacehub: ${err.message}`);
      else console.error('spacehub: fatal:', err);
      process.exit(1);
    },
  );
}
