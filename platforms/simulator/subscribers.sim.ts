/**
 * The simulated world's Twitch paid subscribers (issue 18.3), a pure function of (world, channel, time)
 * like everything the simulator serves: a base of 1–3 % of the followers (by channel), plus what each
 * stream brings in — about 0.15 % of the channel's usual audience per live minute, ±50 % by stream —
 * of which half lapses every two days after the stream (subscriptions not renewed). So a live channel's
 * total climbs during the stream, as the demo should show, and settles back between streams.
 * Tiers: 85 % tier 1, 10 % tier 2, 5 % tier 3 (points 1, 2, 6, as on Twitch).
 */
import { hashString, mix, unit } from './world.hash';
import type { SimChannel, World } from './world';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Sessions older than this contribute less than 1/11 of their gain: not looked at. */
const LOOKBACK_MS = 7 * DAY;
const HALF_LIFE_MS = 2 * DAY;

export interface SimSubscribers {
  total: number;
  points: number;
  tierOf(rank: number): string;
}

export function subscribersAt(world: World, c: SimChannel, tMs: number): SimSubscribers {
  const h = hashString(`subs:${c.channelId}`);
  const base = world.followersAt(c.channelId, tMs) * (0.01 + 0.02 * unit(h));
  const perMinute = Math.max(0.01, c.baseViewers * 0.0015);
  let gained = 0;
  for (const s of world.sessionsBetween(c.channelId, tMs - LOOKBACK_MS, tMs + 1)) {
    if (s.startedAt > tMs) continue;
    const end = s.endedAt === null ? tMs : Math.min(tMs, s.endedAt);
    const rate = perMinute * (0.5 + unit(hashString(`subs:${s.streamId}`)));
    const kept = tMs > end ? 0.5 ** ((tMs - end) / HALF_LIFE_MS) : 1;
    gained += rate * Math.max(0, (end - s.startedAt) / MINUTE) * kept;
  }
  const total = Math.max(1, Math.floor(base + gained));
  const t2 = Math.round(total * 0.1);
  const t3 = Math.round(total * 0.05);
  const tierOf = (rank: number) => {
    const u = unit(mix(h, rank));
    return u < 0.85 ? '1000' : u < 0.95 ? '2000' : '3000';
  };
  return { total, points: total - t2 - t3 + 2 * t2 + 6 * t3, tierOf };
}

/**
 * The world's paid subscribers as the history backfill asks for them (models/history.ts
 * `paidSubscribersAt`): a Twitch channel's total and points at an instant, null for YouTube (no paid
 * subscriber figure there) or a channel the world does not have.
 */
export function paidSubscribersOf(world: World): (c: { platform: string; channelId: string }, tMs: number) => { total: number; points: number } | null {
  const byId = new Map(world.channels.map((c) => [c.channelId, c]));
  return (c, tMs) => {
    const sim = byId.get(c.channelId);
    if (!sim || c.platform !== 'twitch') return null;
    const { total, points } = subscribersAt(world, sim, tMs);
    return { total, points };
  };
}
