import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { tf } from './tf.backend';
import type { Normalization, Vocabulary } from './features';
import { ModelArtifactError, ModelNotReadyError } from './errors';
import type { ViewerServingDecision } from './viewers.model';
import type { TimingServingDecision } from './timing.model';
import type { RankNoise } from './slot-ranking';

/**
 * Versioned model artifacts on disk:
 *
 *   MODELS_DIR/<model>/<version>/model.json   layers topology + weight manifest (TF.js format)
 *   MODELS_DIR/<model>/<version>/weights.bin  weights
 *   MODELS_DIR/<model>/<version>/meta.json    features, normalisation, vocabulary, metrics, data range, sha256 of the weights
 *   MODELS_DIR/<model>/LATEST                 the version serving processes load
 *
 * A version directory is complete before LATEST names it (written to a temp file and renamed), so a
 * reader never sees half an artifact. Versions sort by time. tfjs-node's file:// handler is not
 * available without tfjs-node, so we save through tf.io.withSaveHandler and load through fromMemory —
 * the same on every backend.
 */
export type ModelKind = 'viewers' | 'timing';
export const MODEL_KINDS: ModelKind[] = ['viewers', 'timing'];
/**
 * 2 (issue 22): the nets correct the channel's audience profile (profile.fit.ts) and carry `weekdayPrior`
 * and `residualWeight`. Format 1 nets corrected the seasonal baseline on one feature fewer: scoring them
 * with this code would be wrong, so they are refused (retrain) instead of served.
 * 3 (issue 22, MAE): the viewer net corrects the profile's *median* (no log-bias scale: viewers.model.ts
 * VIEWER_POINT), so a format-2 viewer net scored now would be off by that scale.
 * 4 (issue 22.3): with category competition samples the profile both nets correct has one more
 * regressor (competition.feature.ts), shrunk toward `competitionPrior`, stored with the model; a
 * format-3 net would be scored against a profile it was not trained on.
 * 5 (issue 22): the profile's weekdays may be the channel's estimated local days (`localPeakHour`,
 * profile.fit.ts chooseWeekdayLabels) and `weekdayPrior` is indexed by those labels; a format-4 net
 * corrects a profile labelled by stream days.
 */
export const ARTIFACT_FORMAT = 5;

export interface ModelMeta {
  format: number;
  model: ModelKind;
  version: string;
  runId: string;
  createdAt: string;
  backend: string;
  seed: number;
  featureNames: string[];
  normalization: Normalization;
  vocabulary: Vocabulary;
  /** How the output maps to viewers: log((v+1)/(level+1)) with level from the channel context. */
  target: 'log_ratio_to_session_level' | 'log_ratio_to_hourly_level_gaussian';
  lookbackDays: number;
  metrics: Record<string, number>;
  dataRange: { from: string; to: string; holdoutFrom: string };
  params: Record<string, unknown>;
  weightsSha256: string;
  /**
   * What the registry serves from this artifact, decided on its holdout: the net, or the baseline it
   * lost to (viewers.model.ts / timing.model.ts). Absent in artifacts from before issue 22: the net.
   */
  serving?: ViewerServingDecision | TimingServingDecision;
  /** Timing: conformal 80 % half-width in predicted sigmas (absent = the Gaussian 1.2816). */
  intervalZ?: number;
  /** Weekday effects pooled over the training channels: the prior of each channel's profile (profile.fit.ts). */
  weekdayPrior?: number[];
  /** The competition coefficient pooled over the training channels with samples (features.ts; format 4; absent: 0). */
  competitionPrior?: number;
  /** How the profile labels weekdays (format 5): the local peak hour of estimated local days, or null / absent: stream days. */
  localPeakHour?: number | null;
  /** The weight of the net's correction over the profile, chosen on the calibration week (absent: all of it). */
  residualWeight?: number;
  /**
   * Timing: how the calibration week's log errors split between a stream day and its hours (slot-ranking.ts);
   * the top slots after the first follow their chance of being the best. Absent: every slot by the median.
   */
  rankNoise?: RankNoise;
}

export interface LoadedModel {
  model: tf.LayersModel;
  meta: ModelMeta;
  path: string;
}

export function newVersion(at: Date, runId: string): string {
  return `${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${runId.slice(0, 8)}`;
}

function concatWeights(data: ArrayBuffer | ArrayBuffer[]): Buffer {
  return Array.isArray(data) ? Buffer.concat(data.map((b) => Buffer.from(b))) : Buffer.from(data);
}

export async function saveArtifact(dir: string, model: tf.LayersModel, meta: Omit<ModelMeta, 'weightsSha256' | 'format'>): Promise<string> {
  const target = path.join(dir, meta.model, meta.version);
  fs.mkdirSync(target, { recursive: true });
  let weightsSha256 = '';
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = concatWeights(artifacts.weightData as ArrayBuffer | ArrayBuffer[]);
      weightsSha256 = crypto.createHash('sha256').update(weights).digest('hex');
      fs.writeFileSync(path.join(target, 'weights.bin'), weights);
      fs.writeFileSync(
        path.join(target, 'model.json'),
        JSON.stringify({ modelTopology: artifacts.modelTopology, format: 'layers-model', weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const full: ModelMeta = { format: ARTIFACT_FORMAT, ...meta, weightsSha256 };
  fs.writeFileSync(path.join(target, 'meta.json'), JSON.stringify(full, null, 2));
  // Read the artifact back before LATEST names it: a bad write fails the run, not a serving process.
  (await loadArtifact(dir, meta.model, meta.version)).model.dispose();
  const pointer = path.join(dir, meta.model, 'LATEST');
  const tmp = `${pointer}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, meta.version);
  fs.renameSync(tmp, pointer);
  return target;
}

/** The version LATEST names, or null when nothing was trained yet. */
export function latestVersion(dir: string, kind: ModelKind): string | null {
  try {
    const v = fs.readFileSync(path.join(dir, kind, 'LATEST'), 'utf8').trim();
    return /^[0-9TZ]+-[0-9a-f]+$/.test(v) ? v : null;
  } catch {
    return null;
  }
}

/** Whether LATEST names a version of the current artifact format (first start retrains when not). */
export function latestIsCurrent(dir: string, kind: ModelKind): boolean {
  const v = latestVersion(dir, kind);
  if (!v) return false;
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, kind, v, 'meta.json'), 'utf8')) as { format?: unknown }).format === ARTIFACT_FORMAT;
  } catch {
    return false;
  }
}

function readJson<T>(file: string, artifact: string): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ModelArtifactError(artifact, `${path.basename(file)} is missing`, err);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new ModelArtifactError(artifact, `${path.basename(file)} is not valid JSON`, err);
  }
}

/** Loads and verifies one version (default: LATEST). Any defect is a ModelArtifactError naming the file. */
export async function loadArtifact(dir: string, kind: ModelKind, version?: string): Promise<LoadedModel> {
  const v = version ?? latestVersion(dir, kind);
  if (!v) throw new ModelNotReadyError(kind, dir);
  const at = path.join(dir, kind, v);
  if (!fs.existsSync(at)) throw new ModelArtifactError(at, 'the version directory does not exist');
  const meta = readJson<ModelMeta>(path.join(at, 'meta.json'), at);
  if (typeof meta.format === 'number' && meta.format !== ARTIFACT_FORMAT && meta.model === kind) {
    throw new ModelArtifactError(at, `meta.json is artifact format ${meta.format}, written by older code; this code reads format ${ARTIFACT_FORMAT} (retrain: spacehub train)`);
  }
  if (meta.format !== ARTIFACT_FORMAT || meta.model !== kind || !Array.isArray(meta.featureNames) || !meta.normalization?.mean) {
    throw new ModelArtifactError(at, 'meta.json does not describe a model of this kind and format');
  }
  const json = readJson<{ modelTopology: object; weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }> }>(path.join(at, 'model.json'), at);
  let weights: Buffer;
  try {
    weights = fs.readFileSync(path.join(at, 'weights.bin'));
  } catch (err) {
    throw new ModelArtifactError(at, 'weights.bin is missing', err);
  }
  if (crypto.createHash('sha256').update(weights).digest('hex') !== meta.weightsSha256) throw new ModelArtifactError(at, 'weights.bin does not match its checksum');
  let model: tf.LayersModel;
  try {
    const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
    model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest?.[0]?.weights ?? [], weightData }));
  } catch (err) {
    throw new ModelArtifactError(at, `model.json does not load: ${(err as Error).message}`, err);
  }
  const inputDim = (model.inputs[0]?.shape ?? [])[1];
  if (inputDim !== meta.featureNames.length) {
    model.dispose();
    throw new ModelArtifactError(at, `the network takes ${inputDim} features but meta.json lists ${meta.featureNames.length}`);
  }
  return { model, meta, path: at };
}
