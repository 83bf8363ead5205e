import { table } from '../shared/lifecycle/command-output';
import type { TrainingSummary } from './trainer';

/**
 * `spacehub train` for a person on a terminal: one row per trained model, then every holdout metric
 * next to its baselines (whatever the models report; columns per model), so the comparison that
 * matters — model against baseline on the same holdout — reads across one line.
 */
export function renderTrainingSummaries(summaries: TrainingSummary[]): string {
  const runs = table(summaries, [
    ['model', (s) => s.model],
    ['version', (s) => s.version],
    ['backend', (s) => s.backend],
    ['serves', (s) => s.serving],
    ['channels', (s) => s.channels],
    ['train samples', (s) => s.trainSamples],
    ['holdout samples', (s) => s.holdoutSamples],
    ['seconds', (s) => (s.durationMs / 1000).toFixed(1)],
  ]);
  const names = [...new Set(summaries.flatMap((s) => Object.keys(s.metrics)))];
  const metrics = table(names, [
    ['holdout metric', (n) => n],
    ...summaries.map((s): [string, (n: string) => string] => [s.model, (n) => (n in s.metrics ? String(s.metrics[n]) : '')]),
  ]);
  const where = summaries.map((s) => `${s.model}: ${s.artifactPath}`).join('\n');
  return `${runs}\n${metrics}\n${where}`;
}
