import type { CommandModule, ServiceModule } from '../shared/lifecycle/process.contract';
import { HeartbeatProducer } from '../ingest/heartbeat.producer';
import { createRawSink } from '../processors/processor.wiring';
import { processService } from '../processors/processor.module';
import { tokensCommand, usersCommand } from './auth.commands';
import { simulateService } from '../platforms/simulator/simulate.service';
import { apiService } from '../api/api.service';
import { gatewayService } from '../gateway/gateway.service';
import { modelCommands, retrainSchedulerService } from '../models/models.module';
import { ingestService } from '../ingest/ingest.module';
import { dlqCommand } from '../ingest/dlq.command';
import { keysCommand } from './keys.command';
import { notifyService } from '../notifications/notify.service';
import { statusCommand } from './status.command';

/**
 * Every service and command of the `spacehub` CLI, declared once. Start-up fails on a duplicate name
 * (STYLE: immich's job registry). Add a part by adding its module here; cli/program.ts builds the
 * commander program (help, flags, suggestions) from these declarations. See cli/README.md.
 */
export const SERVICES: ServiceModule[] = [
  // First: in simulator mode the other services talk to it.
  simulateService,
  {
    name: 'heartbeat',
    describe: 'emit a heartbeat event to Kafka every HEARTBEAT_INTERVAL_MS',
    inAll: true,
    async start(rt) {
      const hb = new HeartbeatProducer(rt, 'spacehub');
      await hb.start();
      return { close: () => hb.close() };
    },
  },
  {
    name: 'sink',
    describe: 'land raw snapshots and heartbeats from Kafka in ClickHouse',
    inAll: true,
    async start(rt) {
      const sink = createRawSink(rt);
      await sink.start();
      return { close: () => sink.close() };
    },
  },
  apiService,
  gatewayService,
  processService,
  ingestService,
  retrainSchedulerService,
  notifyService,
];

export const COMMANDS: CommandModule[] = [statusCommand, usersCommand, tokensCommand, keysCommand, ...modelCommands, dlqCommand];

export function checkRegistry(): void {
  const names = [...SERVICES.map((s) => s.name), ...COMMANDS.map((c) => c.name), 'all', 'bootstrap', 'help'];
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`spacehub: two commands are named "${dup}"`);
  for (const c of COMMANDS) {
    const subs = (c.subcommands ?? []).map((s) => s.name);
    const d = subs.find((n, i) => subs.indexOf(n) !== i);
    if (d) throw new Error(`spacehub: "${c.name}" has two subcommands named "${d}"`);
  }
}
