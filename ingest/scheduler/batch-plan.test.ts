import { TWITCH_MAX_IDS_PER_CALL, TWITCH_POINTS_PER_MINUTE } from '../../platforms/twitch/twitch.external';
import { batchSchedulerId, dueThisRun, idsPerRun, parseBatchSchedulerId, planRun, shardOf } from './batch-plan';

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

  describe('at 100,000 Twitch channels (10 % live), 30 s live / 300 s offline, one app token', () => {
    const liveEveryMs = 30_000;
    const offlineEveryMs = 300_000;
    const budget = { idsPerCall: TWITCH_MAX_IDS_PER_CALL, pointsPerMinute: TWITCH_POINTS_PER_MINUTE };
    const channels = Array.from({ length: 100_000 }, (_, i) => String(100_000_000 + i * 7_919));
    const isLive = new Map(channels.map((id, i) => [id, i % 10 === 0] as const));
    const t0 = 1_700_000_010_000;
    const membersOf = (shards: number) => {
      const members = Array.from({ length: shards }, () => [] as string[]);
      for (const id of channels) members[shardOf(id, shards)]!.push(id);
      return members;
    };
    const members8 = membersOf(8);
    const members12 = membersOf(12);

    /**
     * The shards' runs of the first 10 minutes from a fresh deployment (no last-known state): every
     * shard's scheduler runs at once when created and then every live interval, as BullMQ's do. At
     * 4 min 10 s the shard count is re-planned 8 → 12: the new shards' schedulers start then, off the
     * old ones' phase, and every channel moves to its new shard with its last-known state. Each run
     * asks what the plan names, 100 ids a call, and records what it saw. Returns the calls of each run.
     */
    function firstTenMinutes(maxIdsOf: (shards: number) => number | undefined) {
      const known = new Map<string, boolean>();
      const runs: Array<{ at: number; calls: number; asked: number }> = [];
      const replanAt = t0 + 250_000;
      const starts = (shards: number, at: number, from: number) => Array.from({ length: shards - from }, (_, i) => ({ shard: from + i, first: at }));
      const schedulers = starts(8, t0, 0);
      let shards = 8;
      for (let at = t0; at < t0 + 600_000; at += 5_000) {
        if (at === replanAt) {
          shards = 12;
          schedulers.push(...starts(12, at, 8));
        }
        const members = shards === 8 ? members8 : members12;
        for (const s of schedulers) {
          if (at < s.first || (at - s.first) % liveEveryMs !== 0) continue;
          const due = planRun({ members: members[s.shard]!.map((id) => ({ channelId: id, live: known.get(id) ?? null })), slot: at, liveEveryMs, offlineEveryMs, maxIds: maxIdsOf(shards) });
          for (const id of due) known.set(id, isLive.get(id)!);
          runs.push({ at, calls: Math.ceil(due.length / TWITCH_MAX_IDS_PER_CALL), asked: due.length });
        }
      }
      // Every minute, wherever it starts (any run's time): the calls of the runs inside it.
      const minutes = runs.map((r) => runs.filter((x) => x.at >= r.at && x.at < r.at + 60_000).reduce((n, x) => n + x.calls, 0));
      const perMinute = Array.from({ length: 10 }, (_, m) => runs.filter((x) => x.at >= t0 + m * 60_000 && x.at < t0 + (m + 1) * 60_000).reduce((n, x) => n + x.calls, 0));
      return { known, minutes, perMinute };
    }

    it('keeps every minute of the first 10 — the first after start and after a shard re-plan included — inside the bucket', () => {
      const bounded = firstTenMinutes((shards) => idsPerRun(budget, { shards, liveEveryMs }));
      expect(Math.max(...bounded.minutes)).toBeLessThanOrEqual(TWITCH_POINTS_PER_MINUTE * 0.8);
      // The first pass still ends within minutes: every channel seen, live ones asked every run since.
      expect(bounded.known.size).toBe(channels.length);
      // Without the bound the first run alone asks about all 100,000 (8 shards × ⌈12,500 / 100⌉ calls).
      const unbounded = firstTenMinutes(() => undefined);
      expect(unbounded.perMinute[0]).toBeGreaterThan(TWITCH_POINTS_PER_MINUTE);
      // Steady state (the last minutes, every channel known) is the unbounded plan's: the bound costs nothing there.
      expect(bounded.perMinute.slice(6)).toEqual(unbounded.perMinute.slice(6));
    });

    it('asks a lone new channel in its first run, and always the live and due ones before never-seen ones', () => {
      const maxIds = idsPerRun(budget, { shards: 8, liveEveryMs });
      expect(maxIds).toBe(4_000); // 800 × 0.8 points a minute, 2 runs a minute, 8 shards: 40 calls of 100 ids
      const members = channels.slice(0, 12_500).map((id, i) => ({ channelId: id, live: i === 0 ? null : isLive.get(id)! }));
      expect(planRun({ members, slot: t0, liveEveryMs, offlineEveryMs, maxIds })).toContain(channels[0]);
      const fresh = channels.slice(0, 12_500).map((id, i) => ({ channelId: id, live: i < 5_000 ? (i % 2 === 0) : null }));
      const due = planRun({ members: fresh, slot: t0, liveEveryMs, offlineEveryMs, maxIds });
      expect(due).toHaveLength(maxIds);
      for (const m of fresh.filter((m) => m.live === true)) expect(due).toContain(m.channelId);
      expect(planRun({ members: fresh, slot: t0, liveEveryMs, offlineEveryMs, maxIds })).toEqual(due);
    });
  });

  it('names batch schedulers so they cannot be mistaken for a channel\'s', () => {
    expect(batchSchedulerId('twitch', 3)).toBe('batch_twitch_3.snapshot');
    expect(parseBatchSchedulerId('batch_twitch_3.snapshot')).toEqual({ platform: 'twitch', shard: 3 });
    expect(parseBatchSchedulerId('ch_abc.snapshot')).toBeNull();
  });
});
