import crypto from 'node:crypto';
import { dueThisRun } from './batch-plan';

/**
 * An offline channel's turn (batch-plan.dueThisRun) is memoised per process: it must stay the SHA-256
 * turn it always was (no channel's phase moves, and processes of two versions agree during a rolling
 * deploy), and the turns must spread evenly.
 */
describe('batch plan: the memoised offline turn', () => {
  const liveEveryMs = 30_000;
  const offlineEveryMs = 300_000; // 10 turns
  const t0 = 1_700_000_010_000;
  const turnIn = (channelId: string) => {
    const due = Array.from({ length: 10 }, (_, i) => i).filter((i) => dueThisRun({ channelId, live: false, slot: t0 + i * liveEveryMs, liveEveryMs, offlineEveryMs }));
    expect(due).toHaveLength(1);
    return due[0]!;
  };
  /** The turn as it was computed before the memo: SHA-256 of `turn:<id>` on every run. */
  const sha256Turn = (channelId: string) => (crypto.createHash('sha256').update(`turn:${channelId}`).digest().readUInt32BE(0) - Math.round(t0 / liveEveryMs)) % 10;
  const mod10 = (x: number) => ((x % 10) + 10) % 10;

  it('is the SHA-256 turn, on the first call and on every later one', () => {
    const ids = Array.from({ length: 5_000 }, (_, i) => `uc${(i * 104_729).toString(36)}`);
    const first = ids.map(turnIn);
    expect(ids.map(turnIn)).toEqual(first);
    expect(first).toEqual(ids.map((id) => mod10(sha256Turn(id))));
  });

  it('spreads 100,000 channels over the 10 turns within 2 % of 10,000 each', () => {
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[turnIn(String(100_000_000 + i * 7_919))]++;
    for (const n of counts) expect(Math.abs(n - 10_000)).toBeLessThan(200);
  });
});
