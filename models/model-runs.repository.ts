import type { ClickHouseRepository } from '../shared/clickhouse/clickhouse.repository';
import type { ModelKind } from './artifact.store';

/** One row of model_runs (migration 0300_models.sql). */
export interface ModelRun {
  runId: string;
  model: ModelKind;
  version: string;
  status: 'succeeded' | 'failed';
  trigger: 'cli' | 'schedule' | 'test' | 'first-start';
  backend: string;
  seed: number;
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  dataFrom: number | null;
  dataTo: number | null;
  holdoutFrom: number | null;
  channels: number;
  trainSamples: number;
  holdoutSamples: number;
  startedAt: number;
  finishedAt: number;
  artifactPath: string;
  error: string;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export class ModelRunsRepository {
  constructor(private readonly repo: ClickHouseRepository) {}

  async record(run: ModelRun): Promise<void> {
    await this.repo.insert('models: record run', 'model_runs', [
      {
        run_id: run.runId,
        model: run.model,
        version: run.version,
        status: run.status,
        trigger: run.trigger,
        backend: run.backend,
        seed: run.seed,
        params: JSON.stringify(run.params),
        // Map(String, Float64): only finite numbers (NaN/Infinity are not JSON).
        metrics: Object.fromEntries(Object.entries(run.metrics).filter(([, v]) => Number.isFinite(v))),
        data_from: iso(run.dataFrom),
        data_to: iso(run.dataTo),
        holdout_from: iso(run.holdoutFrom),
        channels: run.channels,
        train_samples: run.trainSamples,
        holdout_samples: run.holdoutSamples,
        started_at: iso(run.startedAt),
        finished_at: iso(run.finishedAt),
        duration_ms: Math.max(0, run.finishedAt - run.startedAt),
        artifact_path: run.artifactPath,
        error: run.error,
      },
    ]);
  }

  /** Newest runs first (for the API's model status and the CLI). */
  async recent(limit = 20, model?: ModelKind): Promise<Array<Record<string, unknown>>> {
    return this.repo.query(
      'models: recent runs',
      `SELECT run_id, model, version, status, trigger, backend, seed, params, metrics,
              data_from, data_to, holdout_from, channels, train_samples, holdout_samples,
              started_at, finished_at, duration_ms, artifact_path, error
       FROM model_runs FINAL
       WHERE {model:String} = '' OR model = {model:String}
       ORDER BY started_at DESC LIMIT {limit:UInt32}`,
      { model: model ?? '', limit },
    );
  }
}
