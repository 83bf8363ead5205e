import type { CommandModule, ServiceModule } from '../cli/service';
import { retrainSchedule } from './retrain.schedule';

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
    const s = new RetrainScheduler(rt.config, rt.logger);
    await s.start();
    return { close: () => s.close() };
  },
};

export const trainCommand: CommandModule = {
  name: 'train',
  describe: 'train the viewer/timing models from ClickHouse ([--model viewers|timing|all] [--channel twitch:ID,…] [--since DATE|30d] [--until DATE] [--seed N] [--holdout-days N] [--epochs N])',
  run: async (args) => (await import('./models.commands')).runTrain(args),
};

export const backfillCommand: CommandModule = {
  name: 'backfill',
  describe: 'write weeks of simulator history to ClickHouse for models and demos ([--weeks 6] [--channels N] [--seed N] [--noise 0.2] [--to DATE] [--chat])',
  run: async (args) => (await import('./models.commands')).runBackfill(args),
};

export const modelsCommand: CommandModule = {
  name: 'models',
  usage: 'models runs|predict|recommend',
  describe: 'recent training runs, or a prediction/recommendation from the latest models (--channel twitch:ID [--at DATE] [--duration MIN])',
  run: async (args) => (await import('./models.commands')).runModels(args),
};

export const modelCommands: CommandModule[] = [trainCommand, backfillCommand, modelsCommand];
