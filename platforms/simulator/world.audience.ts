/**
 * The world's audience events during live sessions — raids into the channel, new subscriptions,
 * resubscriptions (shared sub messages), gifted subscriptions and cheers — as a pure function of
 * (seed, channel, minute), like chat: any instant can be computed alone, in any process.
 *
 * Rates per live minute, scaled by the minute's concurrent viewers V (a 1,000-viewer stream gets about
 * 24 new subs, 36 resubs, 6 gifts and 18 cheers an hour — the order of magnitude Twitch creators
 * report), and about one raid per 40 live minutes after the first 5:
 *   subscribe 0.0004·V, resubscribe 0.0006·V, gift 0.0001·V, cheer 0.0003·V, raid 1/40.
 * `scale` multiplies every rate (tests; a raid at most once a minute).
 */
import { hashString, mix, unit } from './world.hash';
import type { World } from './world';

const MINUTE = 60_000;

export type SimTier = '1000' | '2000' | '3000';
export interface SimActor { id: string; login: string; name: string }

export type SimAudienceEvent = { id: string; at: number } & (
  | { kind: 'raid'; from: SimActor; viewers: number }
  | { kind: 'subscribe'; user: SimActor; tier: SimTier; gifted: boolean }
  | { kind: 'resubscribe'; user: SimActor; tier: SimTier; cumulativeMonths: number; streakMonths: number | null; durationMonths: number; text: string }
  /** `gifter` null = anonymous. */
  | { kind: 'gift'; gifter: SimActor | null; tier: SimTier; total: number; cumulativeTotal: number | null }
  | { kind: 'cheer'; user: SimActor | null; bits: number; text: string }
);

const RATES = { subscribe: 0.0004, resubscribe: 0.0006, gift: 0.0001, cheer: 0.0003 } as const;
const RAID_PER_MINUTE = 1 / 40;
const GIFT_SIZES = [1, 1, 1, 1, 5, 5, 10, 20];
const BITS = [1, 100, 100, 100, 250, 500, 1000, 5000];

const tierOf = (u: number): SimTier => (u < 0.85 ? '1000' : u < 0.95 ? '2000' : '3000');
const actor = (prefix: string, h: number): SimActor => {
  const id = String(10_000_000 + (h % 890_000_000));
  return { id, login: `${prefix}${id}`, name: `${prefix[0]!.toUpperCase()}${prefix.slice(1)}${id}` };
};
/** floor(x), plus one with probability frac(x). */
const countOf = (x: number, u: number) => Math.floor(x) + (u < x - Math.floor(x) ? 1 : 0);

function minuteEvents(world: World, channelId: string, minute: number, sessionStart: number, scale: number): SimAudienceEvent[] {
  const t = minute * MINUTE;
  const viewers = world.stateAt(channelId, t).viewers;
  const h = mix(hashString(`${world.seed}:audience:${channelId}`), minute);
  const out: SimAudienceEvent[] = [];
  const at = (salt: number) => t + Math.floor(unit(mix(h, salt)) * MINUTE);
  let salt = 1000;
  const next = () => mix(h, salt++);
  for (const kind of ['subscribe', 'resubscribe', 'gift', 'cheer'] as const) {
    const n = Math.min(200, countOf(viewers * RATES[kind] * scale, unit(next())));
    for (let i = 0; i < n; i++) {
      const id = `${channelId}.${minute}.${kind}.${i}`;
      const e = next();
      switch (kind) {
        case 'subscribe':
          out.push({ id, at: at(e), kind, user: actor('sub', mix(e, 1)), tier: tierOf(unit(mix(e, 2))), gifted: false });
          break;
        case 'resubscribe': {
          const months = 2 + (mix(e, 3) % 59);
          out.push({
            id, at: at(e), kind, user: actor('sub', mix(e, 1)), tier: tierOf(unit(mix(e, 2))), cumulativeMonths: months,
            // Viewers choose whether to share their streak (null otherwise, as on Twitch).
            streakMonths: unit(mix(e, 4)) < 0.6 ? 1 + (mix(e, 5) % months) : null, durationMonths: [1, 1, 1, 3, 6][mix(e, 6) % 5]!,
            text: `${months} months in orbit!`,
          });
          break;
        }
        case 'gift': {
          const anonymous = unit(mix(e, 4)) < 0.1;
          const total = GIFT_SIZES[mix(e, 3) % GIFT_SIZES.length]!;
          out.push({ id, at: at(e), kind, gifter: anonymous ? null : actor('gifter', mix(e, 1)), tier: tierOf(unit(mix(e, 2))), total, cumulativeTotal: anonymous ? null : total + (mix(e, 5) % 200) });
          break;
        }
        case 'cheer': {
          const bits = BITS[mix(e, 3) % BITS.length]!;
          out.push({ id, at: at(e), kind, user: unit(mix(e, 4)) < 0.05 ? null : actor('cheerer', mix(e, 1)), bits, text: `Cheer${bits} go go go` });
          break;
        }
      }
    }
  }
  if (t - sessionStart >= 5 * MINUTE && unit(next()) < Math.min(1, RAID_PER_MINUTE * scale)) {
    const e = next();
    out.push({ id: `${channelId}.${minute}.raid.0`, at: at(e), kind: 'raid', from: actor('raider', mix(e, 1)), viewers: 3 + Math.floor(unit(mix(e, 2)) * Math.max(20, viewers * 0.6)) });
  }
  return out;
}

/** The audience events in [fromMs, toMs), oldest first, at most `limit`; none while offline. */
export function audienceEventsBetween(world: World, channelId: string, fromMs: number, toMs: number, o: { scale?: number; limit?: number } = {}): SimAudienceEvent[] {
  const scale = o.scale ?? 1;
  const limit = o.limit ?? Infinity;
  const out: SimAudienceEvent[] = [];
  for (const s of world.sessionsBetween(channelId, fromMs, toMs)) {
    const end = Math.min(toMs, s.endedAt ?? toMs);
    for (let m = Math.floor(Math.max(fromMs, s.startedAt) / MINUTE); m * MINUTE < end && out.length < limit; m++) {
      if (m * MINUTE < s.startedAt) continue; // the minute the session starts in: from its next whole minute
      for (const e of minuteEvents(world, channelId, m, s.startedAt, scale).sort((a, b) => a.at - b.at)) {
        if (e.at >= fromMs && e.at < toMs && e.at < end) out.push(e);
        if (out.length >= limit) break;
      }
    }
  }
  return out.sort((a, b) => a.at - b.at);
}
