/**
 * The simulator's synthetic world: channels whose live sessions, viewers, followers and chat are pure
 * functions of (seed, time). Nothing is stored, so the simulator server, the models' history
 * generator and the tests all see the same numbers for the same instant, in any order, in any process.
 *
 * Shape of the signal (what the models are meant to learn):
 * - each channel has a base audience, a preferred local start hour and a per-weekday propensity to stream;
 * - concurrent viewers follow a daily curve (peak around 20:00 local) and a weekly one (weekends higher),
 *   ramp up in the first minutes of a session, taper at the end, and carry smooth noise;
 * - followers grow steadily plus a little per live minute; chat scales with viewers, with bursts.
 *
 * Tests can override liveness with `forceLive` (the only mutable state, kept per world instance).
 */
import { hashString, mix, unit } from './world.hash';
import { createCompetition, type Competition } from './world.competition';

export type SimPlatform = 'twitch' | 'youtube';

export interface SimChannel {
  platform: SimPlatform;
  channelId: string;
  login: string;
  displayName: string;
  baseViewers: number;
  category: string;
  categoryId: string;
  language: string;
  /** Hours east of UTC of the creator's audience: shifts the daily curve and the start hour. */
  utcOffsetHours: number;
  preferredStartHour: number;
  /** Probability of streaming on each local weekday, Sunday first. */
  weekdayPropensity: number[];
  /** Chat messages per viewer per minute. */
  chatRate: number;
  followersBase: number;
  followersPerDay: number;
  createdAt: number;
}

export interface ChannelState {
  live: boolean;
  viewers: number;
  streamId: string | null;
  startedAt: number | null;
  title: string;
  category: string;
  categoryId: string;
  followers: number;
}

export interface SimSession {
  streamId: string;
  startedAt: number;
  /** null while the session has no end yet (a forced-live session without a later override). */
  endedAt: number | null;
}

export interface SimChatMessage {
  id: string;
  authorId: string;
  authorName: string;
  publishedAt: number;
  text: string;
}

export interface ChatSummary {
  messages: number;
  chatterIds: string[];
}

export interface World {
  readonly seed: number;
  readonly channels: SimChannel[];
  /** The other channels of the world's categories (world.competition.ts); null unless `WorldOptions.competition`. */
  readonly competition: Competition | null;
  channel(channelId: string): SimChannel | undefined;
  byLogin(login: string): SimChannel | undefined;
  stateAt(channelId: string, tMs: number): ChannelState;
  /** Viewers at `tMs` of a session from sessionsBetween that runs then: stateAt's viewers without finding the session again (history generation). */
  viewersInSession(channelId: string, session: SimSession, tMs: number): number;
  sessionsBetween(channelId: string, fromMs: number, toMs: number): SimSession[];
  chatBetween(channelId: string, fromMs: number, toMs: number): ChatSummary;
  /** The individual messages in [fromMs, toMs), oldest first, at most `limit`. */
  chatMessagesBetween(channelId: string, fromMs: number, toMs: number, limit?: number): SimChatMessage[];
  followersAt(channelId: string, tMs: number): number;
  /** From `atMs` (default now) on, the channel is live (or offline) regardless of its schedule. */
  forceLive(channelId: string, live: boolean, atMs?: number): void;
  clearOverrides(channelId?: string): void;
}

export interface WorldOptions {
  seed: number;
  channels: number;
  /** Clock used by `forceLive` when no time is given. Channels alternate Twitch, YouTube, Twitch, … */
  now?: () => number;
  /** Multiplies every channel's chat rate (tests that need chat within seconds); default 1. */
  chatScale?: number;
  /**
   * Twitch channels beyond `channels`, made on demand from their id (`bulkTwitchChannelId(i)`, i <
   * this) and never listed in `channels`, so a world of 100,000 Twitch channels costs nothing until
   * a request names one (bench/ingest-scale: building 200,000 channels eagerly took 4-24 s and
   * ~150 MB here). Reachable by id only: not by login, not through the OAuth pages.
   */
  bulkTwitchChannels?: number;
  /**
   * Category competition (world.competition.ts, issue 22.3): the rest of each category's directory, and
   * Twitch channels' viewers scaled by its viewers per live channel in the hour. Off by default, so every
   * existing seed's history and figures stay what they were.
   */
  competition?: boolean;
}

/** Ids of bulk Twitch channels: 10 digits, so they never meet the 9-digit ids of `channels`. */
const BULK_TWITCH_ID_BASE = 1_000_000_000;
/** Bulk channel i is made like channel BULK_INDEX_BASE + 2i (an even index: Twitch) of the same seed. */
const BULK_INDEX_BASE = 10_000_000;
export const bulkTwitchChannelId = (i: number): string => String(BULK_TWITCH_ID_BASE + i);

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Followers are counted from here; history before it is clamped at the base. */
const FOLLOWERS_EPOCH = Date.UTC(2024, 0, 1);

/** The world's categories: [name, Twitch game id]. */
export const CATEGORIES: ReadonlyArray<readonly [string, string]> = [
  ['Just Chatting', '509658'],
  ['Minecraft', '27471'],
  ['Fortnite', '33214'],
  ['League of Legends', '21779'],
  ['Valorant', '516575'],
  ['Grand Theft Auto V', '32982'],
  ['Counter-Strike', '32399'],
  ['Science & Technology', '509670'],
  ['Music', '26936'],
  ['Art', '509660'],
];
const ADJECTIVES = ['cosmic', 'lunar', 'stellar', 'orbital', 'solar', 'nebula', 'quasar', 'comet', 'galactic', 'astro', 'rocket', 'meteor'];
const NOUNS = ['pilot', 'voyager', 'ranger', 'drifter', 'cadet', 'pioneer', 'nomad', 'captain', 'scout', 'rover', 'falcon', 'otter'];
const LANGUAGES = ['en', 'en', 'en', 'de', 'fr', 'es', 'pt', 'ja'];
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function idChars(h: number, n: number, salt: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += B64URL[mix(h, salt + i) & 63];
  return s;
}

function makeChannel(seed: number, index: number): SimChannel {
  const h = mix(seed, index + 1);
  const platform: SimPlatform = index % 2 === 0 ? 'twitch' : 'youtube';
  const name = `${ADJECTIVES[mix(h, 1) % ADJECTIVES.length]}_${NOUNS[mix(h, 2) % NOUNS.length]}${index}`;
  const [category, categoryId] = CATEGORIES[mix(h, 3) % CATEGORIES.length]!;
  // Audiences are heavy-tailed: most channels are small, a few are large.
  const baseViewers = Math.round(15 + 4000 * unit(mix(h, 4)) ** 4);
  const channelId = platform === 'twitch' ? String(100000000 + (mix(h, 5) % 800000000)) : `UC${idChars(h, 22, 100)}`;
  const propensityBias = 0.35 + 0.5 * unit(mix(h, 6));
  return {
    platform,
    channelId,
    login: name,
    displayName: name.replace(/(^|_)([a-z])/g, (_m, sep: string, c: string) => (sep ? ' ' : '') + c.toUpperCase()),
    baseViewers,
    category,
    categoryId,
    language: LANGUAGES[mix(h, 7) % LANGUAGES.length]!,
    utcOffsetHours: [-8, -5, 0, 1, 2, 9][mix(h, 8) % 6]!,
    preferredStartHour: 14 + (mix(h, 9) % 8),
    weekdayPropensity: Array.from({ length: 7 }, (_, d) => Math.min(0.95, propensityBias * (d === 0 || d === 6 ? 1.3 : 1) + 0.2 * (unit(mix(h, 20 + d)) - 0.5))),
    chatRate: 0.01 + 0.05 * unit(mix(h, 10)),
    followersBase: Math.round(baseViewers * (20 + 60 * unit(mix(h, 11)))),
    followersPerDay: Math.max(1, baseViewers * (0.05 + 0.3 * unit(mix(h, 12)))),
    createdAt: FOLLOWERS_EPOCH - (mix(h, 13) % 1000) * DAY,
  };
}

/** Viewer multiplier by local hour of day: ~0.25 at 08:00, 1.0 at 20:00. */
export function dailyFactor(localHour: number): number {
  return 0.625 + 0.375 * Math.cos((2 * Math.PI * (localHour - 20)) / 24);
}

/** Viewer multiplier by local weekday, Sunday first. */
export const WEEKLY_FACTOR = [1.2, 0.85, 0.9, 0.95, 1.0, 1.1, 1.25];

export function createWorld(opts: WorldOptions): World {
  const seed = opts.seed | 0;
  const channels = Array.from({ length: opts.channels }, (_, i) => makeChannel(seed, i));
  const byId = new Map(channels.map((c) => [c.channelId, c]));
  const byLoginMap = new Map(channels.map((c) => [c.login.toLowerCase(), c]));
  const overrides = new Map<string, Array<{ atMs: number; live: boolean }>>();
  const now = opts.now ?? Date.now;
  const chatScale = opts.chatScale ?? 1;
  const competition = opts.competition ? createCompetition(seed, CATEGORIES.map(([, id]) => id)) : null;
  const channelHash = new Map(channels.map((c) => [c.channelId, hashString(`${seed}:${c.channelId}`)]));
  const hashOf = (c: SimChannel): number => channelHash.get(c.channelId) ?? hashString(`${seed}:${c.channelId}`);

  const bulk = Math.max(0, opts.bulkTwitchChannels ?? 0);
  // One state read looks its channel up a few times in a row: keep the last bulk channel made.
  let lastBulk: SimChannel | undefined;
  const bulkIndex = (channelId: string): number | null => {
    if (bulk === 0 || !/^\d{10}$/.test(channelId)) return null;
    const i = Number(channelId) - BULK_TWITCH_ID_BASE;
    return i >= 0 && i < bulk ? i : null;
  };
  const bulkChannel = (channelId: string): SimChannel | undefined => {
    if (lastBulk?.channelId === channelId) return lastBulk;
    const i = bulkIndex(channelId);
    if (i === null) return undefined;
    lastBulk = { ...makeChannel(seed, 2 * (BULK_INDEX_BASE + i)), channelId };
    return lastBulk;
  };
  const lookup = (channelId: string): SimChannel | undefined => byId.get(channelId) ?? bulkChannel(channelId);

  const need = (channelId: string): SimChannel => {
    const c = lookup(channelId);
    if (!c) throw new Error(`simulator world: unknown channel ${channelId}`);
    return c;
  };

  const streamIdFor = (c: SimChannel, startedAt: number): string => {
    const h = mix(hashOf(c), Math.floor(startedAt / 1000));
    return c.platform === 'twitch' ? String(40000000000 + (h % 900000000) * 10 + (mix(h, 1) % 10)) : idChars(h, 11, 300);
  };

  /** The scheduled session that starts on local day `day` (days since epoch), if any. */
  const scheduledOn = (c: SimChannel, day: number): { startedAt: number; endedAt: number } | null => {
    const h = mix(hashOf(c), day);
    const weekday = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
    if (unit(mix(h, 1)) >= c.weekdayPropensity[weekday]!) return null;
    // Start hours spread ±3 h around the preferred one, so history covers several slots per channel.
    const startLocalMin = c.preferredStartHour * 60 + Math.round((unit(mix(h, 2)) - 0.5) * 360);
    const startedAt = day * DAY + startLocalMin * MINUTE - c.utcOffsetHours * HOUR;
    const durationMin = 90 + Math.round(unit(mix(h, 3)) * 270);
    return { startedAt, endedAt: startedAt + durationMin * MINUTE };
  };

  const scheduledBetween = (c: SimChannel, fromMs: number, toMs: number): Array<SimSession & { endedAt: number }> => {
    const out: Array<SimSession & { endedAt: number }> = [];
    const off = c.utcOffsetHours * HOUR;
    // A session starting on the previous local day can run past midnight; sessions last < 1 day.
    const firstDay = Math.floor((fromMs + off) / DAY) - 1;
    const lastDay = Math.floor((toMs + off) / DAY);
    for (let d = firstDay; d <= lastDay; d++) {
      const s = scheduledOn(c, d);
      if (s && s.endedAt > fromMs && s.startedAt < toMs) out.push({ streamId: streamIdFor(c, s.startedAt), ...s });
    }
    return out;
  };

  const sessionsBetween = (channelId: string, fromMs: number, toMs: number): SimSession[] => {
    const c = need(channelId);
    const ovs = overrides.get(channelId) ?? [];
    if (ovs.length === 0) return scheduledBetween(c, fromMs, toMs);
    // Segments between overrides: before the first, the schedule rules; after each, the override does.
    const out: SimSession[] = [];
    const firstAt = ovs[0]!.atMs;
    for (const s of scheduledBetween(c, fromMs, Math.min(toMs, firstAt))) {
      if (s.startedAt >= firstAt) continue;
      if (s.endedAt > firstAt) {
        // The override cuts the scheduled session; forced-live continues it (same stream), offline ends it.
        if (ovs[0]!.live) continue;
        out.push({ ...s, endedAt: firstAt });
      } else out.push(s);
    }
    for (let i = 0; i < ovs.length; i++) {
      const o = ovs[i]!;
      // Consecutive live overrides are one session; it begins at the first of them.
      if (!o.live || (i > 0 && ovs[i - 1]!.live)) continue;
      let startedAt = o.atMs;
      if (i === 0) {
        // Forcing live while a scheduled session runs keeps that stream going.
        const running = scheduledBetween(c, o.atMs, o.atMs + 1).find((s) => s.startedAt <= o.atMs && s.endedAt > o.atMs);
        if (running) startedAt = running.startedAt;
      }
      let j = i + 1;
      while (j < ovs.length && ovs[j]!.live) j++;
      const endedAt = j < ovs.length ? ovs[j]!.atMs : null;
      if (startedAt < toMs && (endedAt === null || endedAt > fromMs)) out.push({ streamId: streamIdFor(c, startedAt), startedAt, endedAt });
    }
    return out.sort((a, b) => a.startedAt - b.startedAt);
  };

  const sessionAt = (channelId: string, tMs: number): SimSession | null =>
    sessionsBetween(channelId, tMs, tMs + 1).find((s) => s.startedAt <= tMs && (s.endedAt === null || s.endedAt > tMs)) ?? null;

  const followersAt = (channelId: string, tMs: number): number => {
    const c = need(channelId);
    const days = Math.max(0, (tMs - FOLLOWERS_EPOCH) / DAY);
    return Math.floor(c.followersBase + c.followersPerDay * days);
  };

  /** Smooth noise: hashed values every 10 minutes, linearly interpolated, ±12%. */
  const noise = (c: SimChannel, tMs: number): number => {
    const h = hashOf(c);
    const k = tMs / (10 * MINUTE);
    const k0 = Math.floor(k);
    const a = unit(mix(h, k0 * 2 + 1));
    const b = unit(mix(h, (k0 + 1) * 2 + 1));
    const v = a + (b - a) * (k - k0);
    return 0.88 + 0.24 * v;
  };

  const viewersAt = (c: SimChannel, s: SimSession, tMs: number): number => {
    const local = tMs + c.utcOffsetHours * HOUR;
    const localHour = (((local % DAY) + DAY) % DAY) / HOUR;
    const weekday = (((Math.floor(local / DAY) + 4) % 7) + 7) % 7;
    const sinceStart = (tMs - s.startedAt) / MINUTE;
    const ramp = Math.min(1, 0.35 + 0.65 * (sinceStart / 20));
    const untilEnd = s.endedAt === null ? Infinity : (s.endedAt - tMs) / MINUTE;
    const taper = Math.min(1, 0.6 + 0.4 * (untilEnd / 15));
    // Competition is Twitch's directory: it moves Twitch channels' audiences only.
    const rivalry = competition && c.platform === 'twitch' ? competition.factorAt(c.categoryId, tMs) : 1;
    return Math.max(1, Math.round(c.baseViewers * dailyFactor(localHour) * WEEKLY_FACTOR[weekday]! * ramp * taper * noise(c, tMs) * rivalry));
  };

  const titleOf = (c: SimChannel, s: SimSession | null): string =>
    s ? `${c.displayName} live: ${c.category} #${Math.floor(s.startedAt / DAY) % 1000}` : `${c.displayName} — ${c.category}`;

  const stateAt = (channelId: string, tMs: number): ChannelState => {
    const c = need(channelId);
    const s = sessionAt(channelId, tMs);
    return {
      live: s !== null,
      viewers: s ? viewersAt(c, s, tMs) : 0,
      streamId: s?.streamId ?? null,
      startedAt: s?.startedAt ?? null,
      title: titleOf(c, s),
      category: c.category,
      categoryId: c.categoryId,
      followers: followersAt(channelId, tMs),
    };
  };

  /** Messages of one whole minute, deterministic; empty while offline. */
  const minuteMessages = (c: SimChannel, minute: number, sessions: SimSession[]): SimChatMessage[] => {
    const t = minute * MINUTE;
    const s = sessions.find((x) => x.startedAt <= t && (x.endedAt === null || x.endedAt > t));
    if (!s) return [];
    const viewers = viewersAt(c, s, t);
    const h = mix(hashOf(c), minute);
    // Bursts: about one 5-minute block in ten has triple chat (a raid, a clutch play).
    const burst = unit(mix(hashOf(c), Math.floor(minute / 5) * 7 + 3)) < 0.1 ? 3 : 1;
    const expected = Math.min(600, viewers * c.chatRate * burst * chatScale);
    const count = Math.floor(expected) + (unit(mix(h, 1)) < expected - Math.floor(expected) ? 1 : 0);
    const pool = Math.max(10, Math.round(c.baseViewers * 0.4));
    const out: SimChatMessage[] = [];
    for (let i = 0; i < count; i++) {
      const r = unit(mix(h, 100 + i));
      // Skewed toward a few regulars: the square of a uniform favours small indices.
      const author = Math.floor(pool * r * r);
      out.push({
        id: `${c.channelId}.${minute}.${i}`,
        authorId: `${c.platform === 'twitch' ? '' : 'UC'}${c.channelId.slice(-6)}${author}`,
        authorName: `viewer${author}`,
        publishedAt: t + Math.floor(unit(mix(h, 1000 + i)) * MINUTE),
        text: `message ${i} in minute ${minute}`,
      });
    }
    return out.sort((a, b) => a.publishedAt - b.publishedAt);
  };

  const chatMessagesBetween = (channelId: string, fromMs: number, toMs: number, limit = Infinity): SimChatMessage[] => {
    const c = need(channelId);
    const sessions = sessionsBetween(channelId, fromMs - MINUTE, toMs + MINUTE);
    const out: SimChatMessage[] = [];
    if (sessions.length === 0) return out;
    for (let m = Math.floor(fromMs / MINUTE); m * MINUTE < toMs && out.length < limit; m++) {
      for (const msg of minuteMessages(c, m, sessions)) {
        if (msg.publishedAt >= fromMs && msg.publishedAt < toMs) out.push(msg);
        if (out.length >= limit) break;
      }
    }
    return out;
  };

  const chatBetween = (channelId: string, fromMs: number, toMs: number): ChatSummary => {
    const msgs = chatMessagesBetween(channelId, fromMs, toMs);
    return { messages: msgs.length, chatterIds: [...new Set(msgs.map((m) => m.authorId))].sort() };
  };

  return {
    seed,
    channels,
    competition,
    channel: lookup,
    byLogin: (login) => byLoginMap.get(login.toLowerCase()),
    stateAt,
    viewersInSession: (channelId, session, tMs) => viewersAt(need(channelId), session, tMs),
    sessionsBetween,
    chatBetween,
    chatMessagesBetween,
    followersAt,
    forceLive(channelId, live, atMs = now()) {
      if (bulkIndex(channelId) === null) need(channelId); // a bulk id is known without making its channel
      const list = (overrides.get(channelId) ?? []).filter((o) => o.atMs < atMs);
      list.push({ atMs, live });
      overrides.set(channelId, list);
    },
    clearOverrides(channelId) {
      if (channelId) overrides.delete(channelId);
      else overrides.clear();
    },
  };
}
