import { planQuota, type QuotaPlanInput } from './quota-planner';

const DAY = 86_400_000;
const targets = { liveRefresh: 30_000, goLive: 300_000, chat: 5_000, subscribers: 180_000 };
const base: QuotaPlanInput = { remainingUnits: 10_000, horizonMs: DAY, creators: 100, live: 15, targetMs: targets };

describe('YouTube quota planner (issue 18.3, hand-computed)', () => {
  it('100 creators, 15 live, 10,000 units: live refresh at its 30 s target, the rest water-filled by weight', () => {
    const p = planQuota(base);
    // Demands over a day at the targets:
    //   liveRefresh ceil(15/50)=1 batch × 2,880 = 2,880;  goLive 85 × 288 = 24,480;
    //   chat 15 × 5 × 17,280 = 1,296,000;                 subscribers 100 × 480 = 48,000.
    expect(p.purposes.liveRefresh.demandUnits).toBe(2880);
    expect(p.purposes.goLive.demandUnits).toBe(24_480);
    expect(p.purposes.chat.demandUnits).toBe(1_296_000);
    expect(p.purposes.subscribers.demandUnits).toBe(48_000);
    // Shares by weight 0.3/0.35/0.25/0.1 of 10,000: liveRefresh 3,000 ≥ 2,880 → capped, 120 back;
    // the other 7,120 by 0.35/0.25/0.1 (of 0.7): goLive 3,560, chat 2,542.86, subscribers 1,017.14.
    expect(p.purposes.liveRefresh.plannedUnits).toBe(2880);
    expect(p.purposes.liveRefresh.intervalMs).toBe(30_000); // 1-minute live resolution met (30 s)
    expect(p.purposes.goLive.plannedUnits).toBe(3560);
    expect(p.purposes.chat.plannedUnits).toBeCloseTo(2542.86, 2);
    expect(p.purposes.subscribers.plannedUnits).toBeCloseTo(1017.14, 2);
    // Intervals: target × demand / planned.
    expect(p.purposes.goLive.intervalMs).toBe(Math.ceil((300_000 * 24_480) / 3560)); // 2,062,922 ms ≈ 34 min
    expect(p.purposes.chat.intervalMs).toBe(Math.ceil((5_000 * 1_296_000) / ((7120 * 0.25) / 0.7))); // ≈ 42.5 min
    // Chat sampled at 2,542.86 / 1,296,000 of the full rate, and said so.
    expect(p.chatSamplingRate).toBeCloseTo(0.002, 4);
    const total = Object.values(p.purposes).reduce((s, x) => s + x.plannedUnits, 0);
    expect(total).toBeCloseTo(10_000, 1);
  });

  it('WebSub leases: offline creators whose go-live is pushed are polled only at the slow reconcile target, and chat gets the units', () => {
    // As ingest runs it (subscriber counts 50 a call), all 85 offline creators with an active lease, reconcile poll hourly.
    const polled = planQuota({ ...base, subscribersPerCall: 50 });
    const pushed = planQuota({ ...base, subscribersPerCall: 50, pushedOffline: 85, pushedGoLiveTargetMs: 3_600_000 });
    // goLive demand: 85 × 24 (hourly) = 2,040 instead of 85 × 288 = 24,480.
    expect(polled.purposes.goLive.demandUnits).toBe(24_480);
    expect(pushed.purposes.goLive.demandUnits).toBe(2040);
    // Shares of 10,000: liveRefresh 3,000 ≥ 2,880, goLive 3,500 ≥ 2,040, subscribers 1,000 ≥ 960 → all capped;
    // chat gets the other 10,000 − 2,880 − 2,040 − 960 = 4,120 (polled: 6,160 × 0.25/0.6 = 2,566.67).
    expect(pushed.purposes.goLive.plannedUnits).toBe(2040);
    expect(pushed.goLivePushedIntervalMs).toBe(3_600_000);
    expect(pushed.purposes.chat.plannedUnits).toBe(4120);
    expect(polled.purposes.chat.plannedUnits).toBeCloseTo(2566.67, 2);
    expect(pushed.purposes.chat.intervalMs).toBe(Math.ceil((5_000 * 1_296_000) / 4120)); // ≈ 26 min, polled ≈ 42 min
    expect(pushed.chatSamplingRate).toBeCloseTo(4120 / 1_296_000, 4);
    // Partly leased: 45 polled at the stretched interval, 40 at the reconcile one, both stretched alike.
    const part = planQuota({ ...base, subscribersPerCall: 50, pushedOffline: 40, pushedGoLiveTargetMs: 3_600_000 });
    expect(part.purposes.goLive.demandUnits).toBe(45 * 288 + 40 * 24);
    const stretch = part.purposes.goLive.demandUnits / part.purposes.goLive.plannedUnits;
    // (relative: the published demand and plan are rounded to cents)
    expect(part.purposes.goLive.intervalMs / (300_000 * stretch)).toBeCloseTo(1, 5);
    expect(part.goLivePushedIntervalMs / part.purposes.goLive.intervalMs).toBeCloseTo(12, 4);
  });

  it('spends no more than its demand when quota is plentiful: every purpose at its target, chat at the full rate', () => {
    const p = planQuota({ ...base, remainingUnits: 10_000_000, creators: 4, live: 1 });
    for (const x of Object.values(p.purposes)) expect(x.plannedUnits).toBe(x.demandUnits);
    expect(p.purposes.chat.intervalMs).toBe(5000);
    expect(p.chatSamplingRate).toBe(1);
  });

  it('is fair: every creator gets the same interval within a purpose, and twice the creators halve each one\'s share', () => {
    const small = planQuota({ ...base, remainingUnits: 2000, creators: 10, live: 2 });
    const big = planQuota({ ...base, remainingUnits: 2000, creators: 20, live: 4 });
    // Same budget, twice the demand everywhere except the batched live refresh (one batch either way).
    expect(big.purposes.goLive.intervalMs / small.purposes.goLive.intervalMs).toBeCloseTo(2, 1);
    expect(big.purposes.chat.intervalMs / small.purposes.chat.intervalMs).toBeCloseTo(2, 1);
    expect(big.purposes.liveRefresh.intervalMs).toBe(small.purposes.liveRefresh.intervalMs);
  });

  it('gives a purpose with no demand nothing: nobody live → no chat, no live refresh; its weight goes to the others', () => {
    const p = planQuota({ ...base, live: 0 });
    expect(p.purposes.chat.plannedUnits).toBe(0);
    expect(p.purposes.liveRefresh.plannedUnits).toBe(0);
    expect(p.chatSamplingRate).toBe(1);
    // goLive 0.35 and subscribers 0.1 of 10,000 (of 0.45): 7,777.78 and 2,222.22.
    expect(p.purposes.goLive.plannedUnits).toBeCloseTo(7777.78, 2);
    expect(p.purposes.subscribers.plannedUnits).toBeCloseTo(2222.22, 2);
  });

  it('with nothing left, waits for the reset', () => {
    const p = planQuota({ ...base, remainingUnits: 0, horizonMs: 3_600_000 });
    expect(p.purposes.goLive.intervalMs).toBe(3_600_000);
    expect(p.purposes.chat.plannedUnits).toBe(0);
  });
});
