import type { Args } from '../shared/lifecycle/process.contract';
import type { Output } from '../shared/lifecycle/command-output';
import { createWorld } from '../platforms/simulator/world';
import { paidSubscribersOf } from '../platforms/simulator/subscribers.sim';
import { parseChannelArg } from './channel-history';
import { DAY_MS, HOUR_MS } from './features';
import { backfillHistory } from './history';
import { backfillCompetition } from './competition.history';
import { DataVersions } from '../shared/redis/data-version';
import { createRedis } from '../shared/redis/redis';
import { ModelRegistry } from './model.registry';
import { ModelRunsRepository } from './model-runs.repository';
import { trainModels } from './trainer';
import { flagInt, flagNumber, flagString, flagTime, parseModels, progressReporter, runCommand, withClickHouse } from './cli-support';
import { ModelInputError } from './errors';
import { renderTrainingSummaries } from './training.report';
import { evaluateModels, EVALUATION_DEFAULTS } from './evaluate';
import { renderEvaluation, summarize } from './evaluation.report';
import { loadConfig } from '../shared/config/config';
import { createLogger } from '../shared/logging/logger';
import { useBackend } from './tf.backend';

/**
 * The models' CLI command bodies, loaded on demand by models.module.ts (so other `spacehub` commands do
 * not load TensorFlow.js). Exit 0 = done, 1 = data or artifact problem, 2 = bad arguments.
 */

/** `spacehub train`: see models/README.md. A table on a terminal, JSON with --json or in a pipe; logs on stderr. */
export const runTrain = (args: Args, out: Output): Promise<number> =>
  runCommand('train', async () => {
    const models = parseModels(flagString(args, 'model'));
    const channels = flagString(args, 'channel')?.split(',').filter(Boolean).map(parseChannelArg);
    const since = flagTime(args, 'since');
    const until = flagTime(args, 'until');
    const seedFlag = flagInt(args, 'seed', 0, 2 ** 31 - 1);
    const holdoutFlag = flagInt(args, 'holdout-days', 1, 90);
    const epochs = flagInt(args, 'epochs', 1, 10_000);
    return withClickHouse(async ({ config, logger, repo }) => {
      const summaries = await trainModels(
        { repo, logger },
        {
          models,
          channels,
          since,
          until,
          seed: seedFlag ?? config.MODELS_SEED,
          holdoutDays: holdoutFlag ?? config.MODELS_HOLDOUT_DAYS,
          epochs: epochs === undefined ? undefined : { viewers: epochs, timing: epochs },
          trigger: 'cli',
          backend: config.MODELS_BACKEND,
          modelsDir: config.MODELS_DIR,
          progress: progressReporter(logger),
        },
      );
      out.result(summaries, renderTrainingSummaries);
      return 0;
    });
  });

/** `spacehub backfill`: weeks of simulator history into metrics_1m and stream_sessions. */
export const runBackfill = (args: Args, out: Output): Promise<number> =>
  runCommand('backfill', async () => {
    const weeks = flagInt(args, 'weeks', 1, 104) ?? 6;
    const noise = flagNumber(args, 'noise', 0, 2) ?? 0.2;
    const to = Math.floor((flagTime(args, 'to') ?? Date.now()) / HOUR_MS) * HOUR_MS;
    return withClickHouse(async ({ config, logger, repo }) => {
      const seed = flagInt(args, 'seed', 0, 2 ** 31 - 1) ?? config.SIMULATOR_SEED;
      const channels = flagInt(args, 'channels', 1, 10_000) ?? config.SIMULATOR_CHANNELS;
      // Same seed and channel count as the simulator by default, so the history is of the channels it serves.
      const competition = args.flags.competition === true;
      const world = createWorld({ seed, channels, competition });
      // A running API's series cache learns of the rewritten channels through their data versions.
      const redis = createRedis(config.REDIS_URL);
      const r = await backfillHistory(
        repo,
        world,
        {
          fromMs: to - weeks * 7 * DAY_MS, toMs: to, sessionNoise: noise, pollNoise: noise / 2, seed, chat: args.flags.chat === true,
          dataVersions: new DataVersions(redis, config.REDIS_KEY_PREFIX), paidSubscribersAt: paidSubscribersOf(world),
        },
        (done, total) => {
          if (done === total || done % 10 === 0) logger.info({ module: 'models.backfill', done, total }, 'channels written');
        },
      ).finally(() => redis.disconnect());
      // The competition samples ingest's sampler would have taken (issue 22.3), so the models have them.
      const samples = competition ? await backfillCompetition(repo, world, { fromMs: to - weeks * 7 * DAY_MS, toMs: to, everyMs: 60_000 * (config.INGEST_COMPETITION_SAMPLE_MINUTES || 10) }) : 0;
      out.result({ ...r, competitionSamples: samples, from: new Date(to - weeks * 7 * DAY_MS).toISOString(), to: new Date(to).toISOString() }, (x) =>
        `${x.channels} channels, ${x.sessions} sessions, ${x.metricRows} minute rows${competition ? `, ${x.competitionSamples} competition samples` : ''} written (${x.from} → ${x.to})`,
      );
      return 0;
    });
  });

/** `spacehub models runs|predict|recommend`: inspect runs and query the served models from a shell. */
export const runModels = (args: Args, out?: Output): Promise<number> =>
  runCommand('models', async () => {
    const [sub] = args.positional;
    if (sub === 'evaluate') return runEvaluate(args, out);
    if (sub !== 'runs' && sub !== 'predict' && sub !== 'recommend') throw new ModelInputError('usage: spacehub models runs [--limit N] | predict --channel PLATFORM:ID [--at DATE] [--duration MIN] | recommend --channel PLATFORM:ID | evaluate [--seeds 1,2,3,4,5] [--weeks 4,12] [--channels 48] [--draws 4] [--competition | --competition-world-only]');
    return withClickHouse(async ({ config, logger, repo }) => {
      if (sub === 'runs') {
        console.log(JSON.stringify(await new ModelRunsRepository(repo).recent(flagInt(args, 'limit', 1, 1000) ?? 10), null, 2));
        return 0;
      }
      const arg = flagString(args, 'channel');
      const ch = arg ? parseChannelArg(arg) : undefined;
      if (!ch?.platform) throw new ModelInputError('--channel must be PLATFORM:ID, e.g. twitch:123456');
      const channel = { platform: ch.platform, channelId: ch.channelId };
      const registry = new ModelRegistry(repo, { modelsDir: config.MODELS_DIR, reloadIntervalMs: config.MODELS_RELOAD_INTERVAL_MS, backend: config.MODELS_BACKEND, logger });
      try {
        await registry.start();
        const out =
          sub === 'predict'
            ? await registry.predictViewers(channel, flagTime(args, 'at') ?? Date.now() + HOUR_MS, { durationMinutes: flagInt(args, 'duration', 1, 1440) })
            : await registry.recommendSlots(channel);
        console.log(JSON.stringify(sub === 'recommend' && 'top' in out ? { ...out, slots: undefined } : out, null, 2));
        return 0;
      } finally {
        await registry.close();
      }
    });
  });

const intList = (args: Args, name: string, fallback: number[], max: number): number[] => {
  const v = flagString(args, name);
  if (v === undefined) return fallback;
  const xs = v.split(',').map((x) => Number(x.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < 0 || x > max)) throw new ModelInputError(`--${name} must be comma-separated integers between 0 and ${max}, got "${v}"`);
  return xs;
};

/** `spacehub models evaluate`: the honest evaluation (models/evaluate.ts) — in memory, no services. */
async function runEvaluate(args: Args, out?: Output): Promise<number> {
  const weeks = intList(args, 'weeks', EVALUATION_DEFAULTS.weeks, 104);
  if (weeks.some((w) => w < 3)) throw new ModelInputError('--weeks: each history needs at least 3 weeks (training, a calibration week, the holdout week)');
  const o = {
    ...EVALUATION_DEFAULTS,
    seeds: intList(args, 'seeds', EVALUATION_DEFAULTS.seeds, 2 ** 31 - 1),
    weeks,
    channels: flagInt(args, 'channels', 4, 1000) ?? EVALUATION_DEFAULTS.channels,
    noise: flagNumber(args, 'noise', 0, 2) ?? EVALUATION_DEFAULTS.noise,
    holdoutDraws: flagInt(args, 'draws', 1, 64) ?? EVALUATION_DEFAULTS.holdoutDraws,
    competition: args.flags.competition === true || args.flags['competition-world-only'] === true,
    competitionSamples: args.flags['competition-world-only'] !== true,
  };
  const epochs = flagInt(args, 'epochs', 1, 10_000);
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL).child({ module: 'models.evaluate' });
  await useBackend(config.MODELS_BACKEND, logger);
  const cases = await evaluateModels({
    ...o,
    epochs: epochs === undefined ? undefined : { viewers: epochs, timing: epochs },
    onCase: (c) => logger.info({ weeks: c.weeks, seed: c.seed, viewerMae: c.viewers.mae, gapClosed: c.viewers.gapClosed, hitAt3: c.timing.hitAt3.model, seconds: c.seconds }, 'history evaluated'),
  });
  const result = { params: { ...o, to: new Date(o.to).toISOString() }, summary: summarize(cases), cases };
  if (out) out.result(result, (r) => renderEvaluation(r.cases));
  else console.log(JSON.stringify(result, null, 2));
  return 0;
}
