import type { Config } from '../shared/config/config';

/** The retraining schedule from config: a cron pattern, an interval, or null (off — the default). */
export type RetrainSchedule = { pattern: string } | { every: number } | null;

export function retrainSchedule(c: Pick<Config, 'MODELS_RETRAIN_CRON' | 'MODELS_RETRAIN_EVERY_MINUTES'>): RetrainSchedule {
  if (c.MODELS_RETRAIN_CRON) return { pattern: c.MODELS_RETRAIN_CRON };
  if (c.MODELS_RETRAIN_EVERY_MINUTES > 0) return { every: c.MODELS_RETRAIN_EVERY_MINUTES * 60_000 };
  return null;
}
