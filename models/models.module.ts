import type { CommandModule, ServiceModule } from '../shared/lifecycle/process.contract';
import type { Config } from '../shared/config/config';
import { ClickHouseRepository } from '../shared/clickhouse/clickhouse.repository';
import { createRedis } from '../shared/redis/redis';
import { clickhouseSettingsOf } from '../shared/runtime';
import { retrainSchedule } from './retrain.schedule';
import type { RetrainClients } from './retrain.scheduler';

/**
 * The models part's entries in the `spacehub` CLI (cli/registry.ts). Bodies are imported on demand so
 * that other commands, and `spacehub all` with retraining off, do not load TensorFlow.js.
 */
export const retrainSchedulerService: ServiceModule = {
  name: 'retrain-scheduler',
  describe: 'retrain the models on MODELS_RETRAIN_CRON / MODELS_RETRAIN_EVERY_MINUTES (BullMQ; off unless set)',
  inAll: true,
  async start(rt) {
    if (!retrainSchedule(rt.config)) {
      rt.logger.info({ module: 'models.retrain' }, 'scheduled retraining is off');
      return { close: async () => undefined };
    }
    const { RetrainScheduler } = await import('./retrain.scheduler');
    const s = new RetrainScheduler(rt.config, rt.logger, createRetrainClients(rt.config));
    await s.start();
    return { close: () => s.close() };
  },
};

/** The retrain scheduler's clients (this is its composition root; the scheduler closes them). */
export function createRetrainClients(config: Config): RetrainClients {
  return {
    queueConnection: createRedis(config.REDIS_URL, { forBullMQ: true }),
    workerConnection: createRedis(config.REDIS_URL, { forBullMQ: true }),
    clickhouse: new ClickHouseRepository(clickhouseSettingsOf(config)),
  };
}

export const trainCommand: CommandModule = {
  name: 'train',
  describe: 'train the viewer and timing models on the history in ClickHouse; prints a table (JSON with --json or when piped)',
  options: [
    { flags: '--model <name>', describe: 'viewers, timing or all', default: 'all' },
    { flags: '--channel <list>', describe: 'only these channels, comma-separated PLATFORM:ID (default: every channel)' },
    { flags: '--since <date>', describe: 'ISO date or days ago like 30d (default: 180 days ago)' },
    { flags: '--until <date>', describe: 'ISO date or days ago (default: now)' },
    { flags: '--seed <n>', describe: 'training seed (default: MODELS_SEED)' },
    { flags: '--holdout-days <n>', describe: 'last days held out for evaluation (default: MODELS_HOLDOUT_DAYS)' },
    { flags: '--epochs <n>', describe: "epochs for each model (default: each model's own)" },
  ],
  run: async (args, out) => (await import('./models.commands')).runTrain(args, out),
};

export const backfillCommand: CommandModule = {
  name: 'backfill',
  describe: 'write weeks of simulator history to ClickHouse for models and demos',
  options: [
    { flags: '--weeks <n>', describe: 'weeks of history', default: '6' },
    { flags: '--channels <n>', describe: 'simulator channels (default: SIMULATOR_CHANNELS, the channels the simulator serves)' },
    { flags: '--seed <n>', describe: 'world and noise seed (default: SIMULATOR_SEED)' },
    { flags: '--noise <sigma>', describe: 'log-normal sigma of session-to-session swings (polls get half)', default: '0.2' },
    { flags: '--competition', describe: 'a world with category competition (platforms/README.md), and its competition samples written to category_competition' },
    { flags: '--to <date>', describe: 'end of the history, ISO date (default: now, to the hour)' },
    { flags: '--chat', describe: 'also write chat counts per minute (slower)' },
  ],
  run: async (args, out) => (await import('./models.commands')).runBackfill(args, out),
};

export const modelsCommand: CommandModule = {
  name: 'models',
  describe: 'recent training runs, or a prediction/recommendation from the latest models',
  subcommands: [
    { name: 'runs', describe: 'recent training runs, newest first', options: [{ flags: '--limit <n>', describe: 'how many', default: '10' }] },
    {
      name: 'predict',
      describe: 'expected viewers of a stream on a channel',
      options: [
        { flags: '--channel <platform:id>', describe: 'e.g. twitch:123456 (required)' },
        { flags: '--at <date>', describe: 'stream start, ISO date (default: in an hour)' },
        { flags: '--duration <minutes>', describe: 'planned length (default: the channel\'s typical)' },
      ],
    },
    { name: 'recommend', describe: 'best hours of the week to stream on a channel', options: [{ flags: '--channel <platform:id>', describe: 'e.g. twitch:123456 (required)' }] },
    {
      name: 'evaluate',
      describe: 'train both models on simulator histories per seed × length and compare them with every baseline and the noise floor (no services needed)',
      options: [
        { flags: '--seeds <list>', describe: 'history seeds, comma-separated', default: '1,2,3,4,5' },
        { flags: '--weeks <list>', describe: 'history lengths in weeks, comma-separated', default: '4,12' },
        { flags: '--channels <n>', describe: 'simulator channels per history', default: '48' },
        { flags: '--noise <sigma>', describe: 'session noise sigma (polls get half), as backfill --noise', default: '0.2' },
        { flags: '--draws <n>', describe: 'noise draws of each holdout week scored (the backfill\'s own + fresh ones)', default: '4' },
        { flags: '--epochs <n>', describe: "epochs for each model (default: each model's own)" },
        { flags: '--competition', describe: 'worlds with category competition, their samples given to the models (as backfill --competition)' },
        { flags: '--competition-world-only', describe: 'the same worlds without their samples for the models (the feature\'s gain is the difference)' },
      ],
    },
  ],
  run: async (args, out) => (await import('./models.commands')).runModels(args, out),
};

export const modelCommands: CommandModule[] = [trainCommand, backfillCommand, modelsCommand];
