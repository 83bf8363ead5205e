import { ConfigError, loadConfig } from '../shared/config/config';
import { bootstrap, createRuntime } from '../shared/runtime';
import { Closer, onShutdown } from '../shared/lifecycle/lifecycle';
import { AppError } from '../shared/errors/app-error';
import { COMMANDS, SERVICES, checkRegistry } from './registry';
import { parseArgs, RunningService } from './service';

function help(): string {
  const lines = [
    'usage: spacehub <command> [options]',
    '',
    '  all                 bootstrap, then run every service in this process (what npm start runs)',
    '  bootstrap           wait for Kafka, Schema Registry, ClickHouse, Redis; migrate; create topics; register schemas',
    ...SERVICES.map((s) => `  ${s.name.padEnd(19)} ${s.describe}`),
    ...COMMANDS.map((c) => `  ${(c.usage ?? c.name).padEnd(19)} ${c.describe}`),
  ];
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  checkRegistry();
  const [name, ...rest] = argv;
  const args = parseArgs(rest);
  if (!name || name === 'help' || name === '--help') {
    console.log(help());
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command) return command.run(args);

  const config = loadConfig();
  const rt = createRuntime(config);
  if (name === 'bootstrap') {
    await bootstrap(rt);
    rt.logger.info('bootstrap complete');
    return 0;
  }
  const selected = name === 'all' ? SERVICES.filter((s) => s.inAll) : SERVICES.filter((s) => s.name === name);
  if (selected.length === 0) {
    console.error(`spacehub: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  await bootstrap(rt);
  const closer = new Closer();
  onShutdown(async (signal) => {
    rt.logger.info({ signal }, 'shutting down');
    await closer.close((svc, err) => rt.logger.error({ service: svc, err: (err as Error).message }, 'close failed'));
  }, config.SHUTDOWN_GRACE_MS);
  const urls: Record<string, string> = {};
  for (const svc of selected) {
    const running: RunningService = await svc.start(rt, args);
    closer.add(svc.name, () => running.close());
    Object.assign(urls, running.urls ?? {});
    rt.logger.info({ service: svc.name }, 'service started');
  }
  rt.logger.info({ services: selected.map((s) => s.name), urls }, 'ready');
  for (const [k, v] of Object.entries(urls)) console.log(`  ${k.padEnd(12)} ${v}`);
  console.log('spacehub ready');
  return new Promise<number>(() => undefined); // runs until a signal
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof AppError) console.error(`spacehub: ${err.message}`);
    else console.error('spacehub: fatal:', err);
    process.exit(1);
  },
);
