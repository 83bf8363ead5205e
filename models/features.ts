import type { ChannelHistory, HourRecord } from './channel-history';
import { chooseWeekdayLabels, fitProfile, profileHour, PROFILE_HARMONICS, type ProfileFit } from './profile.fit';
import { competitionAt, competitionIndexAsOf, type CompetitionIndex } from './competition.feature';
import { DAY_MS, HOUR_MS, hourOfWeek } from './time';

/**
 * Feature engineering shared by training and serving — one code path, so a served prediction sees
 * exactly the features the model was trained on. Everything is computed "as of" an instant from data
 * strictly before it (no look-ahead): in training the instant is the sample's start, in serving it is now.
 */
export { DAY_MS, HOUR_MS, hourOfWeek };
export const WEEK_MS = 7 * DAY_MS;
export const SLOTS_PER_WEEK = 168;

/** History that counts as "recent" for channel levels and profiles. */
export const LOOKBACK_DAYS = 28;
/**
 * History the seasonal (channel × hour-of-week) baseline reads: a slot recurs once a week, so it needs
 * more weeks than the levels do to be seen more than a few times.
 */
export const SEASONAL_LOOKBACK_DAYS = 84;
/** Shrinkage of a slot's mean toward the channel mean: a slot seen n times weighs n / (n + K). */
export const SEASONAL_SHRINKAGE = 2;
/** Below these a channel gets InsufficientDataError instead of a number. */
export const MIN_SESSIONS = 3;
export const MIN_LIVE_HOURS = 6;
/** An hour counts as a live hour when at least this many of its minutes were live. */
export const MIN_LIVE_MINUTES_PER_HOUR = 20;


/** sin/cos encoding: 23:00 and 00:00 are neighbours, as they are in reality. */
export function cyclic(value: number, period: number): [number, number] {
  const a = (2 * Math.PI * value) / period;
  return [Math.sin(a), Math.cos(a)];
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const logRatio = (v: number, ref: number): number => Math.log((v + 1) / (ref + 1));

/** Index of the first element with key >= t (binary search over a sorted array). */
function lowerBound<T>(items: T[], t: number, key: (x: T) => number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (key(items[mid]!) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A channel's summary as of one instant: levels, trend and its hour-of-day / hour-of-week profiles. */
export interface ChannelContext {
  asOf: number;
  platform: string;
  category: string;
  /** Sessions that ended inside the lookback window before asOf. */
  recentSessions: number;
  /** Sessions that ended inside the seasonal lookback before asOf: how much the audience profile has seen. */
  profileSessions: number;
  liveHours: number;
  /** Mean session avg viewers over the lookback (the level the viewer model predicts relative to). */
  level: number;
  /** The same over the last 7 days (level when none). */
  level7: number;
  /** Mean of every ended session before asOf — the "channel mean" baseline. */
  channelMean: number;
  /** Mean viewers of live hours over the lookback (the level of the timing model). */
  hourlyLevel: number;
  followers: number;
  /** log((viewers+1)/(hourlyLevel+1)) by UTC hour of day / of week, shrunk toward 0 when seen rarely; null = never seen. */
  hodProfile: Array<number | null>;
  howProfile: Array<number | null>;
  /** Live hours of the lookback window by hourStart, for "same hour last week". */
  hourAt: Map<number, HourRecord>;
  /** Followers about 7 days before asOf (the oldest count in that week when none is older): follower momentum. */
  followersWeekAgo: number;
  /** Live hours of the seasonal lookback by UTC hour of week, oldest first (the seasonal baseline, explanations). */
  seasonal: SeasonalProfile;
  /** The competition index of the channel's category as of asOf (competition.feature.ts); null without samples. */
  competition: CompetitionIndex | null;
}

export interface SeasonalProfile {
  /** Mean viewers of all live hours in the seasonal lookback: what a slot is shrunk toward. */
  level: number;
  /**
   * An additive day-of-week × hour decomposition of the same hours: log((v+1)/(level+1)) ≈ hod[h] +
   * dow[d] (UTC hour of day, UTC weekday, each shrunk toward 0), times `scale` so it is unbiased in
   * viewers. Each hour of the week borrows from every other hour of its day and every other day at its
   * hour — 7 and ~10 times the data of one slot.
   */
  hod: number[];
  dow: number[];
  scale: number;
  /** 168 slots; each the live hours seen in it (viewers and hour start), oldest first. */
  slots: Array<Array<{ hourStart: number; viewers: number }>>;
}

export type ContextResult = { ok: true; ctx: ChannelContext } | { ok: false; have: number; need: number; what: string };

export function channelContext(h: ChannelHistory, asOf: number): ContextResult {
  const from = asOf - LOOKBACK_DAYS * DAY_MS;
  const ended = h.sessions.filter((s) => s.endedAt <= asOf);
  const recent = ended.filter((s) => s.endedAt > from);
  if (recent.length < MIN_SESSIONS) return { ok: false, have: recent.length, need: MIN_SESSIONS, what: `stream sessions in the last ${LOOKBACK_DAYS} days` };
  // Hours that ended by asOf (an hour still running at asOf is partial and left out).
  const hi = lowerBound(h.hours, asOf + 1, (x) => x.hourStart + HOUR_MS);
  const lo = lowerBound(h.hours, from, (x) => x.hourStart);
  const hours = h.hours.slice(lo, hi).filter((x) => x.liveMinutes >= MIN_LIVE_MINUTES_PER_HOUR);
  if (hours.length < MIN_LIVE_HOURS) return { ok: false, have: hours.length, need: MIN_LIVE_HOURS, what: `live hours in the last ${LOOKBACK_DAYS} days` };

  const level = mean(recent.map((s) => s.avgViewers));
  const week = recent.filter((s) => s.endedAt > asOf - 7 * DAY_MS);
  const hourlyLevel = mean(hours.map((x) => x.viewers));
  const byHod: number[][] = Array.from({ length: 24 }, () => []);
  const byHow: number[][] = Array.from({ length: SLOTS_PER_WEEK }, () => []);
  for (const x of hours) {
    const how = hourOfWeek(x.hourStart);
    byHod[how % 24]!.push(x.viewers);
    byHow[how]!.push(x.viewers);
  }
  // Shrinkage: a slot seen once says less than one seen four times.
  const profile = (groups: number[][], prior: number) =>
    groups.map((g) => (g.length ? (g.length / (g.length + prior)) * logRatio(mean(g), hourlyLevel) : null));
  const categories = new Map<string, number>();
  for (const s of recent) if (s.category) categories.set(s.category, (categories.get(s.category) ?? 0) + 1);
  const category = [...categories.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? '';
  let followers = 0;
  for (let i = hi - 1; i >= 0; i--) {
    const f = h.hours[i]!.followers;
    if (f !== null) {
      followers = f;
      break;
    }
  }
  // Only the lookback window: "same hour last week" looks 7 days back from instants after asOf - 7 days.
  const hourAt = new Map<number, HourRecord>();
  for (const x of hours) hourAt.set(x.hourStart, x);
  const seasonalFrom = lowerBound(h.hours, asOf - SEASONAL_LOOKBACK_DAYS * DAY_MS, (x) => x.hourStart);
  const slots: SeasonalProfile['slots'] = Array.from({ length: SLOTS_PER_WEEK }, () => []);
  let seasonalSum = 0;
  let seasonalN = 0;
  for (let i = seasonalFrom; i < hi; i++) {
    const x = h.hours[i]!;
    if (x.liveMinutes < MIN_LIVE_MINUTES_PER_HOUR) continue;
    slots[hourOfWeek(x.hourStart)]!.push({ hourStart: x.hourStart, viewers: x.viewers });
    seasonalSum += x.viewers;
    seasonalN++;
  }
  const decomposition = decompose(slots, seasonalSum / seasonalN);
  let followersWeekAgo = followers;
  for (let i = lowerBound(h.hours, asOf - 7 * DAY_MS, (x) => x.hourStart); i < hi; i++) {
    const f = h.hours[i]!.followers;
    if (f !== null) {
      followersWeekAgo = f;
      break;
    }
  }
  return {
    ok: true,
    ctx: {
      asOf,
      platform: h.platform,
      category,
      recentSessions: recent.length,
      profileSessions: ended.filter((s) => s.endedAt > asOf - SEASONAL_LOOKBACK_DAYS * DAY_MS).length,
      liveHours: hours.length,
      level,
      level7: week.length ? mean(week.map((s) => s.avgViewers)) : level,
      channelMean: mean(ended.map((s) => s.avgViewers)),
      hourlyLevel,
      followers,
      hodProfile: profile(byHod, 2),
      howProfile: profile(byHow, 1),
      hourAt,
      followersWeekAgo,
      seasonal: { level: seasonalSum / seasonalN, slots, ...decomposition },
      competition: category && h.competition?.has(category) ? competitionIndexAsOf(h.competition.get(category)!, asOf) : null,
    },
  };
}

/** Shrinkage (in live hours) of the decomposition's hour-of-day and weekday effects toward 0. */
const HOD_SHRINKAGE = 3;
const DOW_SHRINKAGE = 10;

function decompose(slots: SeasonalProfile['slots'], level: number): { hod: number[]; dow: number[]; scale: number } {
  const hodSum = new Array<number>(24).fill(0);
  const hodN = new Array<number>(24).fill(0);
  const dowSum = new Array<number>(7).fill(0);
  const dowN = new Array<number>(7).fill(0);
  slots.forEach((seen, how) => {
    for (const x of seen) {
      hodSum[how % 24]! += logRatio(x.viewers, level);
      hodN[how % 24]!++;
    }
  });
  const hod = hodSum.map((s, h) => s / (hodN[h]! + HOD_SHRINKAGE));
  slots.forEach((seen, how) => {
    for (const x of seen) {
      dowSum[Math.floor(how / 24)]! += logRatio(x.viewers, level) - hod[how % 24]!;
      dowN[Math.floor(how / 24)]!++;
    }
  });
  const dow = dowSum.map((s, d) => s / (dowN[d]! + DOW_SHRINKAGE));
  let actual = 0;
  let fitted = 0;
  slots.forEach((seen, how) => {
    for (const x of seen) {
      actual += x.viewers + 1;
      fitted += (level + 1) * Math.exp(hod[how % 24]! + dow[Math.floor(how / 24)]!);
    }
  });
  return { hod, dow, scale: fitted > 0 ? actual / fitted : 1 };
}

/** The decomposition's estimate of one hour-of-week slot, in viewers. */
export function decomposedSlot(ctx: ChannelContext, how: number): number {
  const s = ctx.seasonal;
  return Math.max(0, s.scale * (s.level + 1) * Math.exp(s.hod[how % 24]! + s.dow[Math.floor(how / 24)]!) - 1);
}

/** The decomposition's estimate of a stream [start, start + durationMs), minute-weighted over its hours. */
export function decomposedEstimate(ctx: ChannelContext, start: number, durationMs: number): number {
  return overHours(start, durationMs, (how) => decomposedSlot(ctx, how));
}

function overHours(start: number, durationMs: number, slot: (how: number, hourStart: number) => number): number {
  const end = start + Math.max(durationMs, 60_000);
  let sum = 0;
  let weight = 0;
  for (let hs = Math.floor(start / HOUR_MS) * HOUR_MS; hs < end; hs += HOUR_MS) {
    const w = Math.min(end, hs + HOUR_MS) - Math.max(start, hs);
    sum += w * slot(hourOfWeek(hs), hs);
    weight += w;
  }
  return sum / weight;
}

/** The seasonal estimate of one hour-of-week slot: its mean shrunk toward the channel mean, n / (n + K). */
export function seasonalSlot(ctx: ChannelContext, how: number): number {
  const seen = ctx.seasonal.slots[how]!;
  let sum = 0;
  for (const x of seen) sum += x.viewers;
  return (sum + SEASONAL_SHRINKAGE * ctx.seasonal.level) / (seen.length + SEASONAL_SHRINKAGE);
}

/**
 * The channel × hour-of-week baseline of a stream [start, start + durationMs): the seasonal estimates of
 * the UTC hours it covers, weighted by the minutes it spends in each (a session's mean viewers is the
 * minute-weighted mean of its hours).
 */
export function seasonalBaseline(ctx: ChannelContext, start: number, durationMs: number): number {
  return overHours(start, durationMs, (how) => seasonalSlot(ctx, how));
}

const NO_PRIOR = [0, 0, 0, 0, 0, 0, 0];
const profiles = new WeakMap<ChannelContext, Map<string, ProfileFit>>();

/**
 * What every channel's profile is fitted with, pooled over a model's training channels and stored with
 * it (the scorers and the artifact's meta carry these fields): the weekday effects each channel's are
 * shrunk toward, how weekdays are labelled (profile.fit.ts `chooseWeekdayLabels`), and the competition
 * coefficient. Absent fields: no prior, stream days, 0.
 */
export interface ProfilePrior {
  weekdayPrior?: number[];
  localPeakHour?: number | null;
  competitionPrior?: number;
}

/** The prior's own fields of anything that carries one (a trained scorer, an artifact's meta): what is stored and loaded. */
export function profilePriorOf(x: ProfilePrior): ProfilePrior {
  return { weekdayPrior: x.weekdayPrior, localPeakHour: x.localPeakHour ?? null, competitionPrior: x.competitionPrior };
}

/** The prior's choices as training metrics: the weekday labelling (absent: stream days). */
export function profilePriorMetrics(x: ProfilePrior): Record<string, number> {
  return x.localPeakHour != null ? { weekday_local_peak_hour: x.localPeakHour } : {};
}

/**
 * The channel's fitted audience profile (profile.fit.ts) over the seasonal lookback's live hours, with
 * its weekday effects shrunk toward the prior's pooled effects. Memoised per context: training and
 * serving ask for it once per sample and once per slot.
 */
export function channelProfile(ctx: ChannelContext, prior: ProfilePrior = {}): ProfileFit {
  const weekdayPrior = prior.weekdayPrior ?? NO_PRIOR;
  const competitionPrior = prior.competitionPrior ?? 0;
  const localPeakHour = prior.localPeakHour ?? null;
  let byPrior = profiles.get(ctx);
  if (!byPrior) profiles.set(ctx, (byPrior = new Map()));
  const key = `${weekdayPrior.join(',')}/${competitionPrior}/${localPeakHour}`;
  let fit = byPrior.get(key);
  if (!fit) {
    // With competition samples, the category's viewers-per-channel index is one more regressor (competition.feature.ts).
    const index = ctx.competition;
    const extra = index ? { extra: (hs: number) => competitionAt(index, hs), extraPrior: competitionPrior } : {};
    byPrior.set(key, (fit = fitProfile(ctx.seasonal.slots.flat(), { weekdayPrior, localPeakHour, ...extra })));
  }
  return fit;
}

/**
 * The prior a model's profiles are fitted with, pooled over its training channels' contexts (as of the end of
 * its training data): the weekday labelling and effects (profile.fit.ts chooseWeekdayLabels), then the
 * competition coefficient under those labels.
 */
export function pooledProfilePrior(contexts: ChannelContext[]): ProfilePrior {
  const labels = chooseWeekdayLabels(contexts.map((ctx) => ctx.seasonal.slots.flat()));
  return { ...labels, competitionPrior: pooledCompetitionPrior(contexts, labels) };
}

/**
 * The competition coefficient shared by the channels: each channel's own (its profile fitted with the
 * index nearly unshrunk), averaged over the channels with competition samples, weighted by their live
 * hours — how strongly audiences follow their category's viewers per live channel. A channel seen a few
 * weeks mostly keeps it, one seen often its own (PROFILE_RIDGE_EXTRA). 0 when no channel has samples.
 */
export function pooledCompetitionPrior(contexts: ChannelContext[], prior: Omit<ProfilePrior, 'competitionPrior'> = {}): number {
  let sum = 0;
  let weight = 0;
  for (const ctx of contexts) {
    const index = ctx.competition;
    if (!index) continue;
    const hours = ctx.seasonal.slots.flat();
    const fit = fitProfile(hours, { weekdayPrior: prior.weekdayPrior, localPeakHour: prior.localPeakHour, extra: (hs) => competitionAt(index, hs), ridgeExtra: 1e-6 });
    sum += fit.coef[2 * PROFILE_HARMONICS + 1]! * hours.length;
    weight += hours.length;
  }
  return weight > 0 ? sum / weight : 0;
}

/**
 * The profile's estimate of a stream [start, start + durationMs), minute-weighted over its hours: its mean
 * (with the fit's log-bias scale), or its median (exp of the log fit; the viewer net's anchor).
 */
export function profileEstimate(ctx: ChannelContext, start: number, durationMs: number, prior: ProfilePrior = {}, point: 'mean' | 'median' = 'mean'): number {
  const fit = channelProfile(ctx, prior);
  const f = point === 'median' ? { ...fit, scale: 1 } : fit;
  return overHours(start, durationMs, (_how, hs) => profileHour(f, hs));
}

/** How much the seasonal baseline of a stream trusts its slots over the channel mean: mean n / (n + K) over its hours. */
function seasonalWeight(ctx: ChannelContext, start: number, durationMs: number): number {
  return overHours(start, durationMs, (how) => {
    const n = ctx.seasonal.slots[how]!.length;
    return n / (n + SEASONAL_SHRINKAGE);
  });
}

/** Mean live viewers in the hours [t, t + durationMs) one week earlier, or null when the channel was not live then. */
export function sameHourLastWeek(ctx: ChannelContext, t: number, durationMs: number): number | null {
  const first = Math.floor((t - WEEK_MS) / HOUR_MS) * HOUR_MS;
  const seen: number[] = [];
  for (let hs = first; hs < t - WEEK_MS + durationMs; hs += HOUR_MS) {
    const x = ctx.hourAt.get(hs);
    if (x) seen.push(x.viewers);
  }
  return seen.length ? mean(seen) : null;
}

/** One-hot vocabularies fixed at training time and stored with the model. */
export interface Vocabulary {
  platforms: string[];
  categories: string[];
}

const OTHER = '__other__';

export function buildVocabulary(platforms: string[], categories: string[], maxCategories = 12): Vocabulary {
  const count = (xs: string[]) => {
    const m = new Map<string, number>();
    for (const x of xs) if (x) m.set(x, (m.get(x) ?? 0) + 1);
    return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k]) => k);
  };
  return { platforms: [...count(platforms).sort(), OTHER], categories: [...count(categories).slice(0, maxCategories).sort(), OTHER] };
}

function oneHot(value: string, vocab: string[]): number[] {
  const i = vocab.indexOf(value);
  const at = i >= 0 ? i : vocab.length - 1;
  return vocab.map((_, k) => (k === at ? 1 : 0));
}

function profileOver(profile: Array<number | null>, indexOf: (hourStart: number) => number, t: number, durationMs: number): [number, number] {
  const vals: number[] = [];
  let total = 0;
  for (let hs = Math.floor(t / HOUR_MS) * HOUR_MS; hs < t + durationMs; hs += HOUR_MS) {
    total++;
    const p = profile[indexOf(hs)];
    if (p !== null && p !== undefined) vals.push(p);
  }
  return [vals.length ? mean(vals) : 0, total ? vals.length / total : 0];
}

/**
 * Features of the viewer model, which predicts the residual over the channel × hour-of-week baseline.
 * Only relative, scale-free quantities: what identifies a channel (its level, its followers) would let a
 * small net memorise channels from a few weeks of sessions instead of learning what generalises.
 */
export const VIEWER_FEATURE_NAMES = [
  'hod_sin', 'hod_cos', 'dow_sin', 'dow_cos',
  'trend_7d_vs_28d', 'log_duration_h', 'follower_momentum_7d',
  'seasonal_vs_level', 'seasonal_weight', 'decomposed_vs_seasonal', 'hod_profile_vs_seasonal',
  'last_week_vs_seasonal', 'last_week_seen', 'profile_vs_seasonal',
];

/** Features of "this channel starts a stream at `start` for `durationMs`"; the target is log((avg+1)/(profile+1)) (viewers.model.ts). */
export function viewerFeatures(ctx: ChannelContext, start: number, durationMs: number, category: string | null, vocab: Vocabulary, prior: ProfilePrior = {}): number[] {
  const lastWeek = sameHourLastWeek(ctx, start, durationMs);
  const seasonal = seasonalBaseline(ctx, start, durationMs);
  const how = hourOfWeek(start);
  const hod = how % 24 + (((start % HOUR_MS) + HOUR_MS) % HOUR_MS) / HOUR_MS;
  const [hodProfile] = profileOver(ctx.hodProfile, (hs) => hourOfWeek(hs) % 24, start, durationMs);
  return [
    ...cyclic(hod, 24),
    ...cyclic(Math.floor(how / 24), 7),
    logRatio(ctx.level7, ctx.level),
    Math.log(Math.max(durationMs, 10 * 60_000) / HOUR_MS),
    logRatio(ctx.followers, ctx.followersWeekAgo),
    logRatio(seasonal, ctx.level),
    seasonalWeight(ctx, start, durationMs),
    logRatio(decomposedEstimate(ctx, start, durationMs), seasonal),
    hodProfile - logRatio(seasonal, ctx.hourlyLevel),
    lastWeek === null ? 0 : logRatio(lastWeek, seasonal),
    lastWeek === null ? 0 : 1,
    logRatio(profileEstimate(ctx, start, durationMs, prior, 'mean'), seasonal),
    ...oneHot(ctx.platform, vocab.platforms),
    ...oneHot(category ?? ctx.category, vocab.categories),
  ];
}

export const TIMING_FEATURE_NAMES = [
  'dow_sin', 'dow_cos',
  'log_hourly_level', 'trend_7d_vs_28d', 'log_followers',
  'hod_profile', 'hod_seen', 'how_profile', 'how_seen',
];

/**
 * Features of "this channel is live in the UTC hour starting at `slotStart`"; the target is
 * log((v+1)/(hourlyLevel+1)) minus the slot's prior (timing.model.ts). "Same hour last week" is left out
 * on purpose: one noisy week made the ranking worse in our evaluation (hit rate 0.52 → 0.70 without it).
 */
export function timingFeatures(ctx: ChannelContext, slotStart: number, vocab: Vocabulary): number[] {
  const how = hourOfWeek(slotStart);
  const hod = ctx.hodProfile[how % 24] ?? null;
  const howP = ctx.howProfile[how] ?? null;
  return [
    // Weekday only: the daily curve is each channel's own (time zones differ), so UTC hour-of-day
    // features would teach every channel one global curve; the channel's profile carries it instead.
    ...cyclic(Math.floor(how / 24), 7),
    Math.log1p(ctx.hourlyLevel),
    logRatio(ctx.level7, ctx.level),
    Math.log1p(ctx.followers),
    hod ?? 0,
    hod === null ? 0 : 1,
    howP ?? 0,
    howP === null ? 0 : 1,
    ...oneHot(ctx.platform, vocab.platforms),
    ...oneHot(ctx.category, vocab.categories),
  ];
}

export function featureNames(base: string[], vocab: Vocabulary): string[] {
  return [...base, ...vocab.platforms.map((p) => `platform=${p}`), ...vocab.categories.map((c) => `category=${c}`)];
}

/** Per-column standardisation fitted on the training rows and stored in the artifact. */
export interface Normalization {
  mean: number[];
  std: number[];
}

export function fitNormalization(rows: number[][]): Normalization {
  const n = rows.length;
  const d = rows[0]?.length ?? 0;
  const m = new Array<number>(d).fill(0);
  const s = new Array<number>(d).fill(0);
  for (const r of rows) for (let j = 0; j < d; j++) m[j]! += r[j]! / n;
  for (const r of rows) for (let j = 0; j < d; j++) s[j]! += (r[j]! - m[j]!) ** 2 / n;
  // A constant column (e.g. one platform only) is centred but not scaled.
  return { mean: m, std: s.map((v) => (Math.sqrt(v) > 1e-9 ? Math.sqrt(v) : 1)) };
}

export function normalize(rows: number[][], n: Normalization): number[][] {
  return rows.map((r) => r.map((v, j) => (v - n.mean[j]!) / n.std[j]!));
}
