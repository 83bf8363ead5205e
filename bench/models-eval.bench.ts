/**
 * Models evaluation bench (issue 22): `npx tsx bench/models-eval.bench.ts [--seeds 1,2,3,4,5] [--weeks 4,12] [--channels 48] [--draws 4] [--epochs N] [--competition | --competition-world-only]`.
 * The same harness as `spacehub models evaluate` (models/evaluate.ts): per history seed × length, both
 * models trained on simulator history (in memory, no servers) and scored on the holdout week next to
 * every baseline and the oracle — the simulator's expected viewers before noise, the noise floor.
 * Prints the per-seed tables; the report gets the tables and, as figures, the model against its best
 * baseline of the same run.
 */
import { parseArgs } from '../shared/lifecycle/process.contract';
import { evaluateModels, EVALUATION_DEFAULTS } from '../models/evaluate';
import { renderEvaluation, summarize } from '../models/evaluation.report';
import { useBackend } from '../models/tf.backend';
import { emitBenchResult, figure } from './bench-result';

const args = parseArgs(process.argv.slice(2));
const list = (v: unknown, d: number[]) => (typeof v === 'string' ? v.split(',').map(Number) : d);
const SEEDS = list(args.flags.seeds, EVALUATION_DEFAULTS.seeds);
const WEEKS = list(args.flags.weeks, EVALUATION_DEFAULTS.weeks);
const CHANNELS = Number(args.flags.channels ?? EVALUATION_DEFAULTS.channels);
const DRAWS = Number(args.flags.draws ?? EVALUATION_DEFAULTS.holdoutDraws);
const EPOCHS = args.flags.epochs === undefined ? undefined : Number(args.flags.epochs);
// --competition-world-only: the competition world without its samples given to the models (the feature's gain = the difference).
const WORLD_ONLY = args.flags['competition-world-only'] === true;
const COMPETITION = args.flags.competition === true || WORLD_ONLY;

async function main() {
  const backend = await useBackend('auto');
  const t0 = Date.now();
  const cases = await evaluateModels({
    ...EVALUATION_DEFAULTS, seeds: SEEDS, weeks: WEEKS, channels: CHANNELS, holdoutDraws: DRAWS, competition: COMPETITION, competitionSamples: !WORLD_ONLY,
    epochs: EPOCHS === undefined ? undefined : { viewers: EPOCHS, timing: EPOCHS },
    onCase: (c) => console.log(`weeks ${c.weeks} seed ${c.seed}: viewers MAE ${c.viewers.mae} (best baseline ${c.viewers.bestBaseline} ${c.viewers.baselines[c.viewers.bestBaseline]}, oracle ${c.viewers.oracle}, gap closed ${c.viewers.gapClosed}, serves ${c.viewers.served}); timing hit@3 ${c.timing.hitAt3.model} (best baseline ${c.timing.hitAt3[c.timing.bestBaseline]}, random ${c.timing.random}, oracle ${c.timing.oracle}) — ${c.seconds} s`),
  });
  const table = renderEvaluation(cases);
  console.log(`\n${cases.length} histories (${CHANNELS} channels each, backend ${backend}) in ${((Date.now() - t0) / 1000).toFixed(0)} s\n\n${table}`);
  const s = summarize(cases);
  const mean = (f: (c: (typeof cases)[number]) => number) => cases.reduce((a, c) => a + f(c), 0) / cases.length;
  emitBenchResult({
    bench: 'models-eval',
    params: { seeds: SEEDS.join(','), weeks: WEEKS.join(','), channels: CHANNELS, draws: DRAWS, epochs: EPOCHS ?? 'default', ...(COMPETITION ? { competition: WORLD_ONLY ? 'world only' : 'with samples' } : {}) },
    figures: [
      figure('viewer model holdout MAE (mean over histories)', mean((c) => c.viewers.mae), 'viewers', 'best baseline of each history, same holdout', mean((c) => c.viewers.baselines[c.viewers.bestBaseline])),
      figure('served viewer number holdout MAE (net or fallback baseline)', mean((c) => c.viewers.servedMae), 'viewers', 'best baseline of each history, same holdout', mean((c) => c.viewers.baselines[c.viewers.bestBaseline])),
      figure('oracle (noise floor) holdout MAE', mean((c) => c.viewers.oracle), 'viewers', 'best baseline of each history, same holdout', mean((c) => c.viewers.baselines[c.viewers.bestBaseline])),
      figure('share of the baseline→oracle gap closed (worst history)', s.minGapClosed, '', 'mean over histories', s.meanGapClosed),
      figure('timing model hit@3 (mean over histories)', mean((c) => c.timing.hitAt3.model), '', 'best baseline of each history', mean((c) => c.timing.hitAt3[c.timing.bestBaseline])),
      figure('timing model hit@3 (mean over histories)', mean((c) => c.timing.hitAt3.model), '', 'random', mean((c) => c.timing.random)),
      figure('timing regret vs the oracle\'s best slot (mean over histories)', mean((c) => c.timing.regret), 'expected viewers', 'the best baseline\'s top slot, same regret', mean((c) => c.timing.baselineRegret)),
      figure('viewer 80 % interval coverage (pooled over every holdout)', s.viewerCoverage.coverage, '', 'target', 0.8),
      figure('timing 80 % interval coverage (pooled over every holdout)', s.timingCoverage.coverage, '', 'target', 0.8),
    ],
    details: table,
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
