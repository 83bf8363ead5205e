import fs from 'node:fs';
import path from 'node:path';
import type { BenchReport } from '../bench-result';
import { mergeReport, README_END, README_START, readmeTable, ReadmeMarkersError, replaceBetweenMarkers, reportMarkdown } from './report-render';

const fixture = (): BenchReport => JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures/latest.sample.json'), 'utf8')) as BenchReport;

describe('bench report rendering (bench/reports/latest.json → README table)', () => {
  it('renders one row per figure, a failed bench as one row, and a figure without samples as n/a', () => {
    expect(readmeTable(fixture()).split('\n')).toEqual([
      '| bench | figure | value | baseline (same run) | baseline value | ratio |',
      '|---|---|---:|---|---:|---:|',
      '| platforms | token reads | 16,619 ops/s | 2 × HGET | 27,589 ops/s | 0.60× |',
      '| platforms | slot p50 | 0.59 ms | cpu backend | 0.71 ms | 0.83× |',
      '| gateway | **failed: timed out after 140 s** | | | | |',
      // NaN (an empty percentile) is written to JSON as null.
      '| live-latency | observation → client p99, early firing (n=0) | n/a s | closed windows only | 70.25 s | n/a |',
      '',
      'Run on 2 × Test CPU, 8.0 GB RAM, Node v20.0.0, load average at start 0.50 / 0.40 / 0.30 (1/5/15 min), at end 1.50 / 0.90 / 0.50 (2026-12-01, 270 s wall in all).',
    ]);
  });

  it('replaces only the text between the markers, keeping the markers and everything around them', () => {
    const doc = `# Title\n\nintro\n${README_START}\nold table\nold line\n${README_END}\n\nafter\n`;
    expect(replaceBetweenMarkers(doc, 'NEW')).toBe(`# Title\n\nintro\n${README_START}\nNEW\n${README_END}\n\nafter\n`);
    // Idempotent: a second regeneration with the same content changes nothing.
    expect(replaceBetweenMarkers(replaceBetweenMarkers(doc, 'NEW'), 'NEW')).toBe(replaceBetweenMarkers(doc, 'NEW'));
  });

  it('refuses a document whose markers are missing, reversed or doubled', () => {
    expect(() => replaceBetweenMarkers('no markers', 'x')).toThrow(ReadmeMarkersError);
    expect(() => replaceBetweenMarkers(`${README_END}\n${README_START}`, 'x')).toThrow(ReadmeMarkersError);
    expect(() => replaceBetweenMarkers(`${README_START}\n${README_END}\n${README_START}\n${README_END}`, 'x')).toThrow(ReadmeMarkersError);
  });

  it('merges an --only run by bench name: replaces that bench, appends a new one, keeps the rest and records the partial run', () => {
    const previous = fixture();
    const partial: BenchReport = {
      machine: { ...previous.machine, startedAt: '2026-12-02T08:00:00.000Z', loadAtStart: '3.00 / 2.00 / 1.00' },
      benches: [
        { name: 'gateway', command: 'g', seconds: 30, exitCode: 0, result: { bench: 'gateway', params: {}, figures: [] } },
        { name: 'models', command: 'm', seconds: 8, exitCode: 0 },
      ],
    };
    const merged = mergeReport(previous, partial);
    expect(merged.benches.map((o) => [o.name, o.seconds])).toEqual([['platforms', 9.4], ['gateway', 30], ['live-latency', 95], ['models', 8]]);
    expect(merged.machine.startedAt).toBe('2026-12-01T10:00:00.000Z');
    expect(merged.machine.partialRuns).toEqual([{ benches: ['gateway', 'models'], startedAt: '2026-12-02T08:00:00.000Z', loadAtStart: '3.00 / 2.00 / 1.00' }]);
    expect(reportMarkdown(merged)).toContain('Re-run alone afterwards (`--only`): gateway, models at 2026-12-02T08:00:00.000Z, load average 3.00 / 2.00 / 1.00.');
    expect(mergeReport(undefined, partial)).toBe(partial);
  });

  it('lists each bench with its wall time against its budget in the markdown report', () => {
    const md = reportMarkdown(fixture());
    expect(md).toContain('| platforms | `npx tsx bench/platforms.bench.ts --n 1000` | n=1000 | 9 | 10 | ok |');
    expect(md).toContain('| gateway | `npx tsx bench/gateway.bench.ts` |  | 200 | 35 | timed out after 140 s |');
  });
});
