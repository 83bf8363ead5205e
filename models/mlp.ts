import { tf } from './tf.backend';
import { seededRandom, shuffled } from './seeded-random';

/**
 * The one network shape both models use: a small dense net on standardised features. Determinism:
 * every initialiser takes a seed derived from the run's seed, batches come from a seeded shuffle done
 * here (tfjs' own shuffle uses Math.random), and no dropout is used.
 */
export interface MlpSpec {
  inputDim: number;
  hidden: number[];
  outputs: number;
  seed: number;
  l2?: number;
}

export function buildMlp(spec: MlpSpec): tf.LayersModel {
  const model = tf.sequential();
  spec.hidden.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        units,
        activation: 'relu',
        inputShape: i === 0 ? [spec.inputDim] : undefined,
        kernelInitializer: tf.initializers.heNormal({ seed: spec.seed + i }),
        kernelRegularizer: spec.l2 ? tf.regularizers.l2({ l2: spec.l2 }) : undefined,
      }),
    );
  });
  model.add(
    tf.layers.dense({
      units: spec.outputs,
      inputShape: spec.hidden.length === 0 ? [spec.inputDim] : undefined,
      kernelInitializer: tf.initializers.glorotUniform({ seed: spec.seed + 100 }),
    }),
  );
  return model;
}

export type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;

/**
 * Gaussian negative log-likelihood for a [mean, log-variance] output: the network learns how unsure it
 * is per input, which becomes the uncertainty of a slot's score.
 */
export const gaussianNll: LossFn = (yTrue, yPred) =>
  tf.tidy(() => {
    const mu = yPred.slice([0, 0], [-1, 1]);
    const logVar = yPred.slice([0, 1], [-1, 1]).clipByValue(-7, 5);
    return tf.mean(tf.add(logVar, tf.div(tf.square(tf.sub(yTrue.slice([0, 0], [-1, 1]), mu)), tf.exp(logVar))).mul(0.5)) as tf.Scalar;
  });

/**
 * Huber loss weighted per sample: targets carry [value, weight]. Weighting by the channel's level makes
 * log-space training care about big channels as much as the viewer-space MAE we report does.
 * tfjs-layers' fit() has no sampleWeight and wants targets shaped like the output, so a model trained
 * with this loss has two outputs and only the first is a prediction.
 */
export const weightedHuber: LossFn = (yTrue, yPred) =>
  tf.tidy(() => {
    const y = yTrue.slice([0, 0], [-1, 1]);
    const w = yTrue.slice([0, 1], [-1, 1]);
    const err = tf.abs(tf.sub(y, yPred.slice([0, 0], [-1, 1])));
    const quadratic = tf.minimum(err, 1);
    const huber = tf.add(tf.mul(0.5, tf.square(quadratic)), tf.sub(err, quadratic));
    return tf.div(tf.sum(tf.mul(huber, w)), tf.sum(w)) as tf.Scalar;
  });

export interface FitOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  loss: 'meanSquaredError' | 'huberLoss' | LossFn;
  /**
   * At most this many optimizer steps per epoch: with more samples the batch grows instead
   * (batchSize is then the minimum). A step of these small nets costs the same at 64 rows as at 1,000
   * (tfjs' per-kernel overhead), so training time stays flat as channels are added.
   */
  maxStepsPerEpoch?: number;
  onEpoch?: (epoch: number, loss: number) => void;
}

/** The batch size of an epoch of `samples` rows: `batchSize`, or larger so an epoch has at most `maxStepsPerEpoch` steps. */
export function effectiveBatchSize(samples: number, batchSize: number, maxStepsPerEpoch?: number): number {
  return maxStepsPerEpoch ? Math.max(batchSize, Math.ceil(samples / maxStepsPerEpoch)) : batchSize;
}

export interface FitResult {
  epochs: number;
  samples: number;
  finalLoss: number;
  trainMs: number;
}

export async function fitMlp(model: tf.LayersModel, x: number[][], y: number[][], o: FitOptions): Promise<FitResult> {
  const order = shuffled(
    x.map((_, i) => i),
    seededRandom(o.seed),
  );
  const xs = tf.tensor2d(order.map((i) => x[i]!));
  const ys = tf.tensor2d(order.map((i) => y[i]!));
  const loss = o.loss === 'huberLoss' ? (a: tf.Tensor, b: tf.Tensor) => tf.losses.huberLoss(a, b) as tf.Scalar : o.loss;
  model.compile({ optimizer: tf.train.adam(o.learningRate), loss });
  const started = Date.now();
  let finalLoss = NaN;
  try {
    await model.fit(xs, ys, {
      epochs: o.epochs,
      batchSize: effectiveBatchSize(x.length, o.batchSize, o.maxStepsPerEpoch),
      shuffle: false,
      verbose: 0,
      callbacks: {
        onEpochEnd: async (epoch, logs) => {
          finalLoss = Number(logs?.loss);
          o.onEpoch?.(epoch + 1, finalLoss);
        },
      },
    });
  } finally {
    xs.dispose();
    ys.dispose();
  }
  if (!Number.isFinite(finalLoss)) throw new Error(`training diverged: loss is ${finalLoss}`);
  return { epochs: o.epochs, samples: x.length, finalLoss, trainMs: Date.now() - started };
}

/** Predicts in one batch; returns plain rows. */
export function predictRows(model: tf.LayersModel, x: number[][]): number[][] {
  if (x.length === 0) return [];
  return tf.tidy(() => {
    const out = model.predict(tf.tensor2d(x)) as tf.Tensor2D;
    return out.arraySync();
  });
}

/** How a model of this folder is trained: the time split, the seed and the network's hyper-parameters. */
export interface TrainingOptions {
  /** Epoch ms: samples before it train, samples from it on are the holdout. */
  splitAt: number;
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  hidden: number[];
  l2: number;
  /** See FitOptions.maxStepsPerEpoch (absent: every epoch is ⌈samples / batchSize⌉ steps). */
  maxStepsPerEpoch?: number;
  onEpoch?: (epoch: number, loss: number) => void;
}

/** What training a model of this folder yields besides its scorer: features, holdout metrics, sizes. */
export interface TrainingOutcome {
  featureNames: string[];
  metrics: Record<string, number>;
  fit: FitResult;
  trainSamples: number;
  holdoutSamples: number;
  channels: number;
}
