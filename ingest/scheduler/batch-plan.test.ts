import { batchSchedulerId, dueThisRun, parseBatchSchedulerId, shardOf } from './batch-plan';

describe('batch plan (issue 18.1)', () => {
  const ids = Array.from({ length: 1000 }, (_, i) => String(100_000 + i * 7));

  it('spreads channels over the shards, deterministically', () => {
    const counts = new Array(8).fill(0);
    for (const id of ids) counts[shardOf(id, 8)]++;
    for (const n of counts) expect(n).toBeGreaterThan(1000 / 8 / 2);
    expect(ids.map((id) => shardOf(id, 8))).toEqual(ids.map((id) => shardOf(id, 8)));
  });

  it('asks a live (or never seen) channel every run and an offline one once per offline interval, in turn', () => {
    const liveEveryMs = 30_000;
    const offlineEveryMs = 300_000; // every 10th run
    const slots = Array.from({ length: 10 }, (_, i) => 1_700_000_010_000 + i * liveEveryMs);
    for (const id of ids.slice(0, 50)) {
      expect(slots.every((slot) => dueThisRun({ channelId: id, live: true, slot, liveEveryMs, offlineEveryMs }))).toBe(true);
      expect(slots.every((slot) => dueThisRun({ channelId: id, live: null, slot, liveEveryMs, offlineEveryMs }))).toBe(true);
      expect(slots.filter((slot) => dueThisRun({ channelId: id, live: false, slot, liveEveryMs, offlineEveryMs }))).toHaveLength(1);
    }
    // Offline channels are spread over the runs, not all asked in the same one.
    const perRun = slots.map((slot) => ids.filter((id) => dueThisRun({ channelId: id, live: false, slot, liveEveryMs, offlineEveryMs })).length);
    for (const n of perRun) expect(n).toBeGreaterThan(1000 / 10 / 2);
    expect(perRun.reduce((a, b) => a + b, 0)).toBe(1000);
  });

  it('names batch schedulers so they cannot be mistaken for a channel\'s', () => {
    expect(batchSchedulerId('twitch', 3)).toBe('batch_twitch_3.snapshot');
    expect(parseBatchSchedulerId('batch_twitch_3.snapshot')).toEqual({ platform: 'twitch', shard: 3 });
    expect(parseBatchSchedulerId('ch_abc.snapshot')).toBeNull();
  });
});
