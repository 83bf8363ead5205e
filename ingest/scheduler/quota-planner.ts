/**
 * The YouTube quota planner (issue 18.3), pure. One Google Cloud project has one daily budget
 * (YOUTUBE_DAILY_QUOTA_UNITS, 10,000 by default, reset at midnight Pacific) for every creator it
 * serves. The planner splits what is left of it across four purposes:
 *
 * | purpose       | call                         | cost                           |
 * |---------------|------------------------------|--------------------------------|
 * | goLive        | liveBroadcasts.list          | 1 unit per offline creator     |
 *   (creators whose feed pushes go-live — a WebSub lease — only at a slow reconcile interval)
 * | liveRefresh   | videos.list (batched)        | 1 unit per 50 live streams     |
 * | chat          | liveChatMessages.list        | 5 units per live chat          |
 * | subscribers   | channels.list                | 1 unit per creator             |
 *
 * Each purpose has a target interval (what we would do with no quota) and a weight. The budget is
 * water-filled: every purpose gets a share by weight; one that needs less than its share at its
 * target keeps only what it needs and the rest is shared again among the others. A purpose's
 * interval is its target stretched by demand / allocation. Fairness across creators: within a
 * purpose every creator gets the same interval (equal units), whatever its audience. Chat's
 * achieved sampling rate (allocation / demand, ≤ 1) is what engagement figures from sampled chat
 * are flagged with — they are not scaled up.
 */
export const PURPOSES = ['goLive', 'liveRefresh', 'chat', 'subscribers'] as const;
export type Purpose = (typeof PURPOSES)[number];

export const YOUTUBE_VIDEOS_PER_UNIT = 50;
export const YOUTUBE_CHAT_UNITS = 5;

export interface QuotaPlanInput {
  /** Units left to spend before the reset. */
  remainingUnits: number;
  /** Milliseconds until the reset (Pacific midnight). */
  horizonMs: number;
  creators: number;
  live: number;
  /** Intervals we would poll at with unlimited quota. */
  targetMs: Record<Purpose, number>;
  weights?: Partial<Record<Purpose, number>>;
  /** Creators per subscriber-count call (1: channels.list per creator; up to 50 when batched). */
  subscribersPerCall?: number;
  /**
   * Offline creators whose go-live is pushed (an active WebSub lease on their feed): their go-live
   * poll is only a slow reconcile at `pushedGoLiveTargetMs` (the feed is not guaranteed).
   */
  pushedOffline?: number;
  pushedGoLiveTargetMs?: number;
}

export interface PurposePlan {
  /** Units this purpose would spend until the reset at its target interval. */
  demandUnits: number;
  /** Units planned for it until the reset. */
  plannedUnits: number;
  /** Interval to poll at (per creator for goLive, chat, subscribers; per batch for liveRefresh). */
  intervalMs: number;
}

export interface QuotaPlan {
  remainingUnits: number;
  horizonMs: number;
  creators: number;
  live: number;
  purposes: Record<Purpose, PurposePlan>;
  /** Planned / demanded chat polls (1 = every live chat at the full rate). */
  chatSamplingRate: number;
  /** Offline creators with pushed go-live, and their go-live poll interval (the reconcile target, stretched like goLive's). */
  pushedOffline: number;
  goLivePushedIntervalMs: number;
}

export const DEFAULT_WEIGHTS: Record<Purpose, number> = { liveRefresh: 0.3, goLive: 0.35, chat: 0.25, subscribers: 0.1 };

/** Purposes with no demand get nothing; their weight goes to the others. */
export function planQuota(input: QuotaPlanInput): QuotaPlan {
  const { horizonMs, targetMs } = input;
  const live = Math.max(0, Math.min(input.live, input.creators));
  const offline = Math.max(0, input.creators - live);
  const calls = (count: number, purpose: Purpose) => (count * horizonMs) / targetMs[purpose];
  const pushed = Math.max(0, Math.min(input.pushedOffline ?? 0, offline));
  const pushedTargetMs = Math.max(targetMs.goLive, input.pushedGoLiveTargetMs ?? targetMs.goLive);
  const demand: Record<Purpose, number> = {
    goLive: calls(offline - pushed, 'goLive') + (pushed * horizonMs) / pushedTargetMs,
    liveRefresh: calls(Math.ceil(live / YOUTUBE_VIDEOS_PER_UNIT), 'liveRefresh'),
    chat: YOUTUBE_CHAT_UNITS * calls(live, 'chat'),
    subscribers: calls(Math.ceil(input.creators / Math.max(1, input.subscribersPerCall ?? 1)), 'subscribers'),
  };
  const weights = { ...DEFAULT_WEIGHTS, ...input.weights };
  const planned: Record<Purpose, number> = { goLive: 0, liveRefresh: 0, chat: 0, subscribers: 0 };
  let left = Math.max(0, input.remainingUnits);
  let open = PURPOSES.filter((p) => demand[p] > 0 && weights[p] > 0);
  while (open.length && left > 1e-9) {
    const total = open.reduce((s, p) => s + weights[p], 0);
    const share = (p: Purpose) => (left * weights[p]) / total;
    const satisfied = open.filter((p) => demand[p] - planned[p] <= share(p));
    if (satisfied.length === 0) {
      for (const p of open) planned[p] += share(p);
      left = 0;
      break;
    }
    for (const p of satisfied) {
      left -= demand[p] - planned[p];
      planned[p] = demand[p];
    }
    open = open.filter((p) => !satisfied.includes(p));
  }
  const purposes = {} as Record<Purpose, PurposePlan>;
  // Nothing planned for a purpose with demand: wait for the reset.
  const stretched = (p: Purpose, target: number) => (demand[p] === 0 ? target : planned[p] <= 0 ? Math.max(target, horizonMs) : Math.ceil((target * demand[p]) / planned[p]));
  for (const p of PURPOSES) purposes[p] = { demandUnits: round2(demand[p]), plannedUnits: round2(planned[p]), intervalMs: stretched(p, targetMs[p]) };
  return {
    remainingUnits: input.remainingUnits,
    horizonMs,
    creators: input.creators,
    live,
    purposes,
    chatSamplingRate: demand.chat === 0 ? 1 : round4(Math.min(1, planned.chat / demand.chat)),
    pushedOffline: pushed,
    goLivePushedIntervalMs: stretched('goLive', pushedTargetMs),
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
