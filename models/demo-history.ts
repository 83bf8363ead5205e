/**
 * The first start of the demo (`spacehub all` in simulator mode, what `npm start` runs): when ClickHouse
 * has no ended sessions yet, write SIMULATOR_DEMO_HISTORY_WEEKS of simulator history for the demo
 * channels (the write-side batch of `spacehub backfill`), then train both models when no artifact
 * exists, so the dashboard opens on weeks of data, sessions and recommendations. Each step is skipped
 * when what it makes exists, so later starts cost one count query. Runs before "ready" is printed.
 */
import type { ClickHouseRepository } from '../shared/clickhouse/clickhouse.repository';
import type { Config } from '../shared/config/config';
import type { Logger } from '../shared/logging/logger';
import type { DataVersions } from '../shared/redis/data-version';
import { createWorld } from '../platforms/simulator/world';
import { pickDemoChannels } from '../platforms/simulator/demo-seed';
import { paidSubscribersOf } from '../platforms/simulator/subscribers.sim';
import { latestIsCurrent, MODEL_KINDS } from './artifact.store';
import { DAY_MS } from './features';
import { backfillHistory, BackfillResult } from './history';
import { trainModels, TrainingProgress, TrainingSummary } from './trainer';
import { InsufficientDataError } from './errors';

export interface DemoHistoryResult {
  backfill: BackfillResult | 'skipped: history exists' | 'off';
  trained: TrainingSummary[] | `skipped: ${string}` | 'off';
}

const MINUTE = 60_000;

export async function ensureDemoHistory(
  deps: { config: Config; logger: Logger; repo: ClickHouseRepository; progress?: TrainingProgress; dataVersions?: Pick<DataVersions, 'bump'> },
  o: { userId: string; now?: number },
): Promise<DemoHistoryResult> {
  const c = deps.config;
  const log = deps.logger.child({ module: 'first-start' });
  const weeks = c.SIMULATOR_DEMO_HISTORY_WEEKS;
  if (weeks === 0 || c.PLATFORMS_MODE !== 'simulator' || c.SIMULATOR_DEMO_CHANNELS === 0) return { backfill: 'off', trained: 'off' };
  const [{ sessions }] = await deps.repo.query<{ sessions: number }>('first-start history check', "SELECT count() AS sessions FROM stream_sessions WHERE status = 'ended'", {});
  let backfill: DemoHistoryResult['backfill'] = 'skipped: history exists';
  if (Number(sessions) === 0) {
    // The simulator's own world (same seed and size), so the history is that of the channels it serves.
    const world = createWorld({ seed: c.SIMULATOR_SEED, channels: c.SIMULATOR_CHANNELS });
    const channels = pickDemoChannels(world.channels, c.SIMULATOR_DEMO_CHANNELS);
    const to = Math.floor((o.now ?? Date.now()) / MINUTE) * MINUTE;
    log.info({ weeks, channels: channels.length }, `first start: writing ${weeks} weeks of simulator history for the demo channels`);
    const started = Date.now();
    backfill = await backfillHistory(
      deps.repo,
      world,
      // The backfill command's default noise: sessions vary as real ones do.
      { fromMs: to - weeks * 7 * DAY_MS, toMs: to, channelIds: channels.map((x) => x.channelId), sessionNoise: 0.2, pollNoise: 0.1, seed: c.SIMULATOR_SEED, userIdOf: () => o.userId, includeLive: true, dataVersions: deps.dataVersions, paidSubscribersAt: paidSubscribersOf(world) },
      (done, total) => log.info({ done, total }, `history: ${done}/${total} channels written`),
    );
    log.info({ ...backfill, durationMs: Date.now() - started }, 'first start: history written');
  }
  // Artifacts of an older format are refused by the registry, so they count as none.
  if (MODEL_KINDS.every((k) => latestIsCurrent(c.MODELS_DIR, k))) return { backfill, trained: 'skipped: models exist' };
  log.info('first start: training the viewer and timing models');
  try {
    const trained = await trainModels(
      { repo: deps.repo, logger: deps.logger },
      {
        models: MODEL_KINDS,
        seed: c.MODELS_SEED,
        holdoutDays: c.MODELS_HOLDOUT_DAYS,
        trigger: 'first-start',
        backend: c.MODELS_BACKEND,
        modelsDir: c.MODELS_DIR,
        progress: deps.progress,
      },
    );
    return { backfill, trained };
  } catch (err) {
    // History collected by the pipeline itself may be too short to train on yet: the demo still starts.
    if (!(err instanceof InsufficientDataError)) throw err;
    log.warn({ err }, 'first start: models not trained');
    return { backfill, trained: `skipped: ${err.message}` };
  }
}
