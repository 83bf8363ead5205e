import { SingleBar } from 'cli-progress';
import { loadConfig, Config } from '../shared/config/config';
import { createLogger, Logger } from '../shared/logging/logger';
import { ClickHouseRepository, migrate } from '../shared/clickhouse/clickhouse.repository';
import { clickhouseSettingsOf } from '../shared/runtime';
import { AppError } from '../shared/errors/app-error';
import type { Args } from '../shared/lifecycle/process.contract';
import type { ModelKind } from './artifact.store';
import type { TrainingProgress } from './trainer';
import { ModelInputError } from './errors';

/**
 * What the models' CLI commands share: ClickHouse only (training needs neither Kafka nor the Schema
 * Registry), flag parsing with typed errors, and one way to turn an error into a message and exit code.
 */
export interface CommandContext {
  config: Config;
  logger: Logger;
  repo: ClickHouseRepository;
}

export async function withClickHouse<T>(fn: (ctx: CommandContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const settings = clickhouseSettingsOf(config);
  const repo = new ClickHouseRepository(settings);
  try {
    await repo.waitUntilReady(15_000);
    await migrate(settings);
    return await fn({ config, logger, repo });
  } finally {
    await repo.close();
  }
}

/** Runs a command body; typed errors become "spacehub <cmd>: message" and exit 1. */
export async function runCommand(name: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof ModelInputError) {
      console.error(`spacehub ${name}: ${err.message}`);
      return 2;
    }
    if (err instanceof AppError) {
      console.error(`spacehub ${name}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

export function flagString(args: Args, name: string): string | undefined {
  const v = args.flags[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new ModelInputError(`--${name} needs a value`);
  return v;
}

export function flagInt(args: Args, name: string, min: number, max: number): number | undefined {
  const v = flagString(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new ModelInputError(`--${name} must be an integer between ${min} and ${max}, got "${v}"`);
  return n;
}

export function flagNumber(args: Args, name: string, min: number, max: number): number | undefined {
  const v = flagString(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new ModelInputError(`--${name} must be a number between ${min} and ${max}, got "${v}"`);
  return n;
}

/** ISO date/time (or "30d" = 30 days ago) → epoch ms. */
export function flagTime(args: Args, name: string, now = Date.now()): number | undefined {
  const v = flagString(args, name);
  if (v === undefined) return undefined;
  const rel = /^(\d+)d$/.exec(v);
  if (rel) return now - Number(rel[1]) * 86_400_000;
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw new ModelInputError(`--${name} must be an ISO date (2026-11-01 or 2026-11-01T18:00:00Z) or a number of days like 30d, got "${v}"`);
  return t;
}

export function parseModels(v: string | undefined): ModelKind[] {
  if (v === undefined || v === 'all') return ['viewers', 'timing'];
  if (v === 'viewers' || v === 'timing') return [v];
  throw new ModelInputError(`--model must be viewers, timing or all, got "${v}"`);
}

/** A progress bar on a terminal (epochs, loss, ETA); a log line per quarter otherwise (CI, pipes). */
export function progressReporter(logger: Logger): TrainingProgress {
  let bar: SingleBar | undefined;
  let total = 0;
  if (process.stderr.isTTY) {
    return {
      begin(model, epochs) {
        bar = new SingleBar({
          format: `${model.padEnd(8)} |{bar}| {value}/{total} epochs | loss {loss} | ETA {eta_formatted}`,
          stream: process.stderr,
          hideCursor: true,
          etaBuffer: 10,
        });
        bar.start(epochs, 0, { loss: '-' });
      },
      epoch(_model, epoch, loss) {
        bar?.update(epoch, { loss: loss.toFixed(5) });
      },
      end() {
        bar?.stop();
        bar = undefined;
      },
    };
  }
  return {
    begin(model, epochs) {
      total = epochs;
      logger.info({ module: 'models.train', model, epochs }, 'training started');
    },
    epoch(model, epoch, loss) {
      if (epoch === total || epoch % Math.max(1, Math.ceil(total / 4)) === 0) logger.info({ module: 'models.train', model, epoch, of: total, loss }, 'training progress');
    },
    end() {},
  };
}
