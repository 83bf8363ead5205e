import { renderTrainingSummaries } from './training.report';
import type { TrainingSummary } from './trainer';

const summary = (model: 'viewers' | 'timing', metrics: Record<string, number>): TrainingSummary => ({
  model, runId: `run-${model}`, version: `20261120T000000Z-${model === 'viewers' ? 'aa' : 'bb'}`, artifactPath: `/m/${model}`, backend: 'wasm',
  metrics, serving: model, trainSamples: 100, holdoutSamples: 20, channels: 4, durationMs: 1500,
});

describe('spacehub train table (for people on a terminal)', () => {
  it('has one row per model and one row per holdout metric with a column per model', () => {
    const text = renderTrainingSummaries([summary('viewers', { mae: 12.5, baseline_channel_mean_mae: 14 }), summary('timing', { hit_rate_at_3: 0.6 })]);
    const lines = text.split('\n');
    expect(lines.find((l) => l.includes('20261120T000000Z-aa'))).toMatch(/viewers.*wasm.*4.*100.*20.*1\.5/);
    expect(lines.find((l) => l.includes(' mae '))).toMatch(/mae\s+│\s+12\.5\s+│\s+│/);
    expect(lines.find((l) => l.includes('hit_rate_at_3'))).toMatch(/hit_rate_at_3\s+│\s+│\s+0\.6/);
    expect(text).toMatch(/timing: \/m\/timing/);
    expect(text).not.toMatch(/[{}"]/);
  });
});
