import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ARTIFACT_FORMAT, latestIsCurrent, loadArtifact } from './artifact.store';

describe('artifact format: a model written by older code is refused, not mis-scored', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spacehub-artifact-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (kind: 'viewers' | 'timing', version: string, format: number) => {
    fs.mkdirSync(path.join(dir, kind, version), { recursive: true });
    fs.writeFileSync(path.join(dir, kind, version, 'meta.json'), JSON.stringify({ format, model: kind, version, featureNames: ['a'], normalization: { mean: [0], std: [1] } }));
    fs.writeFileSync(path.join(dir, kind, 'LATEST'), version);
  };

  it('a format-1 artifact (nets over the seasonal baseline) is a ModelArtifactError that says to retrain, and first start counts it as none', async () => {
    expect(ARTIFACT_FORMAT).toBe(5);
    write('viewers', '20261101T000000Z-aaaaaaaa', 1);
    expect(latestIsCurrent(dir, 'viewers')).toBe(false);
    await expect(loadArtifact(dir, 'viewers')).rejects.toMatchObject({
      code: 'MODEL_ARTIFACT_CORRUPT',
      message: expect.stringMatching(/artifact format 1, written by older code; this code reads format 5 \(retrain: spacehub train\)/),
    });
  });

  it('a format-4 artifact (a profile labelled by stream days only) is refused the same way', async () => {
    write('timing', '20261101T000000Z-cccccccc', 4);
    expect(latestIsCurrent(dir, 'timing')).toBe(false);
    await expect(loadArtifact(dir, 'timing')).rejects.toMatchObject({ code: 'MODEL_ARTIFACT_CORRUPT', message: expect.stringMatching(/artifact format 4, written by older code/) });
  });

  it('the current format counts as present; no LATEST counts as none', () => {
    write('timing', '20261102T000000Z-bbbbbbbb', ARTIFACT_FORMAT);
    expect(latestIsCurrent(dir, 'timing')).toBe(true);
    expect(latestIsCurrent(path.join(dir, 'empty'), 'timing')).toBe(false);
  });
});
