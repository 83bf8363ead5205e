import { readOnlyClickhouseSettingsOf, type Runtime } from '../../shared/runtime';
import { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import { ModelRegistry } from '../../models/model.registry';
import type { PredictionPort } from '../ports';

/**
 * The models part's ModelRegistry as the API's PredictionPort (the seam where the compiler checks the
 * fit). It hot-reloads new versions from MODELS_DIR; until one is trained it throws MODEL_NOT_READY,
 * which the API answers as 404 "no model is trained".
 */
export async function modelParts(rt: Runtime): Promise<{ predictions: PredictionPort; close(): Promise<void> }> {
  const repo = new ClickHouseRepository(readOnlyClickhouseSettingsOf(rt.config));
  const registry = new ModelRegistry(repo, {
    modelsDir: rt.config.MODELS_DIR,
    reloadIntervalMs: rt.config.MODELS_RELOAD_INTERVAL_MS,
    backend: rt.config.MODELS_BACKEND,
    logger: rt.logger,
  });
  await registry.start();
  return {
    predictions: registry,
    close: async () => {
      await registry.close();
      await repo.close();
    },
  };
}
