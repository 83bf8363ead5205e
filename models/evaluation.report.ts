import type { CaseEvaluation } from './evaluate';

/**
 * The evaluation as markdown tables (a terminal, bench/reports, models/README.md): one row per history
 * seed × length, the model next to each baseline and the oracle (noise floor) on the same holdout.
 */
const pct = (x: number) => (Number.isFinite(x) ? `${Math.round(x * 100)} %` : 'n/a');
const n1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const n2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');

export function renderEvaluation(cases: CaseEvaluation[]): string {
  const viewers = [
    '| weeks | seed | holdout sessions (all draws) | model MAE | channel mean | same hour last week | channel × hour-of-week | oracle (noise floor) | gap closed | served | 80 % interval coverage |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|',
    ...cases.map((c) => {
      const v = c.viewers;
      const b = (k: keyof typeof v.baselines) => (k === v.bestBaseline ? `**${n1(v.baselines[k])}**` : n1(v.baselines[k]));
      return `| ${c.weeks} | ${c.seed} | ${v.sessions} | ${n1(v.mae)} | ${b('channel-mean')} | ${b('same-hour-last-week')} | ${b('channel-hour-of-week')} | ${n1(v.oracle)} | ${pct(v.gapClosed)} | ${v.served} | ${n2(v.interval80Coverage)} |`;
    }),
  ];
  const timing = [
    '| weeks | seed | channels ranked (all draws) | model hit@3 | random | channel mean | same hour last week | channel × hour-of-week | oracle hit@3 | model ÷ random | regret (expected viewers) | best baseline: regret | regret share | 80 % interval coverage |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...cases.map((c) => {
      const t = c.timing;
      const b = (k: keyof typeof t.hitAt3) => (k === t.bestBaseline ? `**${n2(t.hitAt3[k])}**` : n2(t.hitAt3[k]));
      return `| ${c.weeks} | ${c.seed} | ${t.channels} | ${n2(t.hitAt3.model)} | ${n2(t.random)} | ${b('channel-mean')} | ${b('same-hour-last-week')} | ${b('channel-hour-of-week')} | ${n2(t.oracle)} | ${n2(t.hitAt3.model / t.random)}× | ${n1(t.regret)} | ${n1(t.baselineRegret)} | ${pct(t.regretShare)} | ${n2(t.interval80Coverage)} |`;
    }),
  ];
  const s = summarize(cases);
  const pooled = (p: { coverage: number; se: number; n: number }) => `${p.coverage.toFixed(3)} ± ${p.se.toFixed(3)} (${p.n} samples)`;
  const draws = cases[0]?.viewers.draws ?? 1;
  const lines = [
    ...(cases.some((c) => c.competition)
      ? [`Worlds with category competition (Twitch audiences follow their category's viewers per live channel); ${cases.some((c) => c.competitionSamples) ? 'the models had the competition samples of each history (every 10 minutes, as `spacehub backfill --competition`)' : 'the models had no competition samples (--competition-world-only)'}.`, '']
      : []),
    `Holdout: the last week of each history, ${draws === 1 ? 'the backfill\'s noise' : `${draws} noise draws of it (the backfill's own and ${draws - 1} more on the same world sessions; the models are trained once, on the history before the split)`}. Oracle = the simulator's expected viewers before noise, as the MAE-optimal point (the conditional median: × exp(−σ²/2)).`,
    '',
    'Viewer potential (MAE in viewers on the holdout week; bold = best baseline; gap closed = (best baseline − model) / (best baseline − oracle)):',
    '',
    ...viewers,
    '',
    'Optimal time (hit@3 on the slots each channel streamed in the holdout; regret = oracle\'s best slot − the model\'s top slot, in the simulator\'s expected viewers):',
    '',
    ...timing,
    '',
    `Goals: viewer model closes ≥ 50 % of the gap on ${s.viewerGapMet}/${cases.length} cases, is not worse than the best baseline on ${s.viewerNotWorse}/${cases.length}; served number not worse on ${s.servedNotWorse}/${cases.length}; ` +
      `timing hit@3 ≥ best baseline on ${s.timingBeatsBaseline}/${cases.length}, ≥ 2× random on ${s.timingTwiceRandom}/${cases.length}; ` +
      `80 % intervals within 0.78–0.82 on ${s.viewerCoverageMet}/${cases.length} (viewers) and ${s.timingCoverageMet}/${cases.length} (timing); ` +
      `the oracle is beaten by a baseline on ${s.oracleBeaten}/${cases.length}.`,
    '',
    `Pooled 80 % interval coverage over every holdout (± binomial standard error): viewers ${pooled(s.viewerCoverage)}, timing ${pooled(s.timingCoverage)} (live hours).`,
  ];
  return lines.join('\n');
}

export interface EvaluationSummary {
  cases: number;
  viewerGapMet: number;
  viewerNotWorse: number;
  servedNotWorse: number;
  timingBeatsBaseline: number;
  timingTwiceRandom: number;
  viewerCoverageMet: number;
  timingCoverageMet: number;
  minGapClosed: number;
  meanGapClosed: number;
  /** Histories on which some baseline's holdout MAE is below the oracle's (the floor) — 0 when the floor holds. */
  oracleBeaten: number;
  /** Coverage of all holdouts together: share inside, its binomial standard error √(p(1 − p)/n), n. */
  viewerCoverage: { coverage: number; se: number; n: number };
  timingCoverage: { coverage: number; se: number; n: number };
}

/** Pooled coverage of inside/total counts, with the binomial standard error of a share of n samples. */
export function pooledCoverage(parts: Array<{ inside: number; n: number }>): { coverage: number; se: number; n: number } {
  const n = parts.reduce((a, p) => a + p.n, 0);
  const coverage = parts.reduce((a, p) => a + p.inside, 0) / n;
  return { coverage, se: Math.sqrt((coverage * (1 - coverage)) / n), n };
}

export function summarize(cases: CaseEvaluation[]): EvaluationSummary {
  const count = (f: (c: CaseEvaluation) => boolean) => cases.filter(f).length;
  const inBand = (x: number) => x >= 0.78 && x <= 0.82;
  // Over the histories that have a gap (n/a — the best baseline at or below the oracle — has no share to close).
  const gaps = cases.map((c) => c.viewers.gapClosed).filter((g) => Number.isFinite(g));
  return {
    cases: cases.length,
    viewerGapMet: count((c) => c.viewers.gapClosed >= 0.5),
    viewerNotWorse: count((c) => c.viewers.mae <= c.viewers.baselines[c.viewers.bestBaseline]),
    servedNotWorse: count((c) => c.viewers.servedMae <= c.viewers.baselines[c.viewers.bestBaseline] + 1e-9),
    timingBeatsBaseline: count((c) => c.timing.hitAt3.model >= c.timing.hitAt3[c.timing.bestBaseline]),
    timingTwiceRandom: count((c) => c.timing.hitAt3.model >= 2 * c.timing.random),
    viewerCoverageMet: count((c) => inBand(c.viewers.interval80Coverage)),
    timingCoverageMet: count((c) => inBand(c.timing.interval80Coverage)),
    minGapClosed: gaps.length ? Math.min(...gaps) : NaN,
    meanGapClosed: gaps.length ? gaps.reduce((a, b) => a + b, 0) / gaps.length : NaN,
    oracleBeaten: count((c) => Math.min(...Object.values(c.viewers.baselines)) < c.viewers.oracle),
    viewerCoverage: pooledCoverage(cases.map((c) => ({ inside: c.viewers.interval80Inside, n: c.viewers.sessions }))),
    timingCoverage: pooledCoverage(cases.map((c) => ({ inside: c.timing.interval80Inside, n: c.timing.hours }))),
  };
}
