import type { ClickHouseRepository } from '../shared/clickhouse/clickhouse.repository';
import { sealAfterBatch } from '../shared/clickhouse/rollups';
import type { DataVersions } from '../shared/redis/data-version';
import { chDateTime, chDateTime64, parseChDateTime, type MetricsWindowRecord, type StreamSessionRecord } from '../shared/clickhouse/tables';
import { gaussian, seededRandom } from './seeded-random';
import type { ChannelHistory } from './channel-history';

/**
 * Backfill: weeks of history from the deterministic simulator world, written as the processors would
 * have written it (metric definitions: processors/state/window.accumulator.ts — metrics_1m one row per
 * channel and live minute from two 30-second polls; stream_sessions one `ended` row per session with the
 * processors' summary), so models, tests and demos have data without waiting
 * weeks for the live pipeline. Rows are keyed like the processors' (ReplacingMergeTree), so running a
 * backfill twice replaces instead of doubling.
 *
 * `noise` adds what the world leaves out on purpose — session-to-session swings (a raid, a popular
 * game, a bad title) and minute jitter — so evaluations run on realistically noisy data. It is seeded.
 * Offline minutes are not written (the models read live minutes only); sessions still running at `to`
 * are left out.
 */
export interface HistoryWorld {
  readonly channels: ReadonlyArray<HistoryChannel>;
  /** Sessions overlapping [fromMs, toMs); endedAt null while one has no end yet. */
  sessionsBetween(channelId: string, fromMs: number, toMs: number): Array<{ streamId: string; startedAt: number; endedAt: number | null }>;
  stateAt(channelId: string, tMs: number): { viewers: number; title: string; category: string };
  /** stateAt's viewers at `tMs` of a session of sessionsBetween running then, when the world can give them directly (faster). */
  viewersInSession?(channelId: string, session: { streamId: string; startedAt: number; endedAt: number | null }, tMs: number): number;
  followersAt(channelId: string, tMs: number): number;
  chatMessagesBetween(channelId: string, fromMs: number, toMs: number): Array<{ publishedAt: number; authorId: string }>;
}

/** What the backfill reads of a channel of the world. */
export interface HistoryChannel {
  platform: string;
  channelId: string;
  login: string;
}

export interface BackfillOptions {
  fromMs: number;
  toMs: number;
  /** Channel ids to include; default all of the world's channels. */
  channelIds?: string[];
  /** Log-normal sigma of a per-session audience factor (0 = the world as it is). */
  sessionNoise?: number;
  /** Log-normal sigma of per-poll jitter. */
  pollNoise?: number;
  /** Seed of the noise. */
  seed?: number;
  /** Chat counts per minute from the world (costly for big channels; the models do not read them). */
  chat?: boolean;
  /**
   * A channel's paid subscribers (Twitch: total and points) at an instant, as the live pipeline reads
   * them (platforms/simulator/subscribers.sim.ts `paidSubscribersOf`); null or absent: not known, NULL.
   */
  paidSubscribersAt?: (c: HistoryChannel, tMs: number) => { total: number; points: number } | null;
  /** user_id written with each row; default "sim:<login>". */
  userIdOf?: (c: HistoryChannel) => string;
  /** ReplacingMergeTree version; default now. */
  version?: number;
  /**
   * Also the minutes so far of sessions still live at `toMs` (without noise, as the live pipeline will
   * see them, and without a session row: the pipeline opens the session when it polls the channel, and
   * its running summary then covers these minutes). The first-start demo uses it, so a channel that is
   * live when the demo starts shows its stream from the start.
   */
  includeLive?: boolean;
  /**
   * Bumped for every channel written, after its rows and rollup are in ClickHouse, so that the API's
   * cached series of those channels are recomputed (shared/redis/data-version.ts). The CLI passes one;
   * without it a running API serves its cached series until they age out (API_SERIES_CACHE_MAX_AGE_SECONDS).
   */
  dataVersions?: Pick<DataVersions, 'bump'>;
}

/**
 * The backfill writes the processors' own rows (shared/clickhouse/tables.ts): one definition of
 * metrics_1m and stream_sessions and of their DateTime text for every writer.
 */
export type MetricRow = MetricsWindowRecord;
export type SessionRow = StreamSessionRecord & { ended_at: string; status: 'ended' };

const MINUTE = 60_000;
const POLL_MS = 30_000;

/** Generates the rows for one channel (pure: same world, options and seed → same rows). */
export function channelHistoryRows(world: HistoryWorld, channelId: string, o: BackfillOptions): { metrics: MetricRow[]; sessions: SessionRow[] } {
  const c = world.channels.find((x) => x.channelId === channelId);
  if (!c) throw new Error(`backfill: the simulator world has no channel ${channelId}`);
  const userId = o.userIdOf ? o.userIdOf(c) : `sim:${c.login}`;
  const version = o.version ?? Date.now();
  const random = seededRandom(((o.seed ?? 1) * 2654435761) ^ hash(channelId));
  const metrics: MetricRow[] = [];
  const sessions: SessionRow[] = [];
  for (const s of world.sessionsBetween(channelId, o.fromMs, o.toMs)) {
    const open = s.endedAt === null || s.endedAt > o.toMs;
    if (s.startedAt < o.fromMs || (open && !o.includeLive)) continue;
    const endedAt = open ? o.toMs : s.endedAt!;
    const noisy = !open;
    const sessionFactor = o.sessionNoise && noisy ? Math.exp(o.sessionNoise * gaussian(random) - o.sessionNoise ** 2 / 2) : 1;
    const chatByMinute = new Map<number, { messages: number; chatters: Set<string> }>();
    if (o.chat) {
      for (const m of world.chatMessagesBetween(channelId, s.startedAt, endedAt)) {
        const k = Math.floor(m.publishedAt / MINUTE) * MINUTE;
        const b = chatByMinute.get(k) ?? { messages: 0, chatters: new Set<string>() };
        b.messages++;
        b.chatters.add(m.authorId);
        chatByMinute.set(k, b);
      }
    }
    const rows: MetricRow[] = [];
    let prevFollowers = world.followersAt(channelId, s.startedAt);
    let prevPaid = o.paidSubscribersAt?.(c, s.startedAt) ?? null;
    for (let w = Math.floor(s.startedAt / MINUTE) * MINUTE; w < endedAt && (!open || w + MINUTE <= endedAt); w += MINUTE) {
      const polls: number[] = [];
      for (let t = w; t < w + MINUTE; t += POLL_MS) {
        if (t < s.startedAt || t >= endedAt) continue;
        const v = world.stateAt(channelId, t).viewers;
        const jitter = o.pollNoise && noisy ? Math.exp(o.pollNoise * gaussian(random) - o.pollNoise ** 2 / 2) : 1;
        polls.push(Math.max(1, Math.round(v * sessionFactor * jitter)));
      }
      if (polls.length === 0) continue;
      const avg = polls.reduce((a, b) => a + b, 0) / polls.length;
      const followers = world.followersAt(channelId, w);
      const chat = chatByMinute.get(w);
      const paid = o.paidSubscribersAt?.(c, w) ?? null;
      rows.push({
        platform: c.platform,
        channel_id: channelId,
        user_id: userId,
        window_start: chDateTime(w),
        samples: polls.length,
        avg_viewers: avg,
        peak_viewers: Math.max(...polls),
        min_viewers: Math.min(...polls),
        // processors/state/window.accumulator.ts: avgViewers × the window's length (1 minute).
        viewer_minutes: avg,
        followers,
        follower_delta: followers - prevFollowers,
        chat_messages: chat?.messages ?? 0,
        unique_chatters: chat?.chatters.size ?? 0,
        engagement_rate: chat && avg > 0 ? chat.chatters.size / avg : 0,
        messages_per_viewer_minute: chat && avg > 0 ? chat.messages / avg : 0,
        live: 1,
        stream_id: s.streamId,
        version,
        // processors/state/window.accumulator.ts: the delta against the carried total, 0 when either is unknown.
        paid_subscribers: paid?.total ?? null,
        paid_subscriber_delta: paid && prevPaid ? paid.total - prevPaid.total : 0,
        subscription_points: paid?.points ?? null,
      });
      prevFollowers = followers;
      if (paid) prevPaid = paid;
    }
    if (rows.length === 0) continue;
    metrics.push(...rows);
    if (open) continue;
    const state = world.stateAt(channelId, s.startedAt);
    sessions.push({
      platform: c.platform,
      channel_id: channelId,
      user_id: userId,
      stream_id: s.streamId,
      started_at: chDateTime64(s.startedAt),
      ended_at: chDateTime64(endedAt),
      duration_seconds: Math.round((endedAt - s.startedAt) / 1000),
      peak_viewers: Math.max(...rows.map((r) => r.peak_viewers)),
      // The processors' session summary: mean of the windows' avg_viewers, Σ viewer_minutes / 60.
      avg_viewers: rows.reduce((a, r) => a + r.avg_viewers, 0) / rows.length,
      hours_watched: rows.reduce((a, r) => a + r.viewer_minutes, 0) / 60,
      followers_gained: rows.reduce((a, r) => a + r.follower_delta, 0),
      // The processors' summary: NULL unless some window knew the paid subscribers.
      paid_subscribers_gained: rows.some((r) => r.paid_subscribers != null) ? rows.reduce((a, r) => a + (r.paid_subscriber_delta ?? 0), 0) : null,
      chat_messages: rows.reduce((a, r) => a + r.chat_messages, 0),
      title: state.title,
      category: state.category,
      status: 'ended',
      version,
    });
  }
  return { metrics, sessions };
}

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export interface BackfillResult {
  channels: number;
  sessions: number;
  metricRows: number;
}

/** Writes the history of every selected channel to ClickHouse in batches. */
export async function backfillHistory(repo: ClickHouseRepository, world: HistoryWorld, o: BackfillOptions, onChannel?: (done: number, total: number) => void): Promise<BackfillResult> {
  const ids = o.channelIds ?? world.channels.map((c) => c.channelId);
  const version = o.version ?? Date.now();
  const result: BackfillResult = { channels: 0, sessions: 0, metricRows: 0 };
  let pending: MetricRow[] = [];
  const written = new Map<string, { platform: string; channelId: string }>();
  const flush = async () => {
    await repo.insert('backfill metrics_1m', 'metrics_1m', pending);
    pending = [];
  };
  for (const [i, id] of ids.entries()) {
    const { metrics, sessions } = channelHistoryRows(world, id, { ...o, version });
    pending.push(...metrics);
    for (const m of metrics) written.set(`${m.platform}:${m.channel_id}`, { platform: m.platform, channelId: m.channel_id });
    if (pending.length >= 50_000) await flush();
    await repo.insert('backfill stream_sessions', 'stream_sessions', sessions);
    result.channels++;
    result.sessions += sessions.length;
    result.metricRows += metrics.length;
    onChannel?.(i + 1, ids.length);
  }
  await flush();
  // The hourly rollup of the hours just written (shared/clickhouse/rollups.ts): the API reads complete hours from it.
  // Then the data versions: what was written and where the rollup now ends (a rewrite of sealed hours changes the sealed version).
  const sealed = await sealAfterBatch(repo, [...written.values()], o.fromMs, o.toMs);
  await o.dataVersions?.bump(sealed);
  return result;
}

/**
 * The same rows as ChannelHistory without a round trip through ClickHouse (benchmarks, unit tests).
 * Mirrors history.repository.ts: live minutes rolled up to UTC hours, ended sessions.
 */
export function historyFromRows(platform: string, channelId: string, rows: { metrics: MetricRow[]; sessions: SessionRow[] }): ChannelHistory {
  const hours = new Map<number, { sum: number; n: number; followers: number | null }>();
  for (const m of rows.metrics) {
    if (!m.live) continue;
    const h = Math.floor(parseChDateTime(m.window_start) / 3_600_000) * 3_600_000;
    const b = hours.get(h) ?? { sum: 0, n: 0, followers: null };
    b.sum += m.avg_viewers;
    b.n++;
    if (m.followers !== null) b.followers = Math.max(b.followers ?? 0, m.followers);
    hours.set(h, b);
  }
  return {
    platform,
    channelId,
    sessions: rows.sessions
      .map((s) => ({ streamId: s.stream_id, startedAt: parseChDateTime(s.started_at), endedAt: parseChDateTime(s.ended_at), avgViewers: s.avg_viewers, peakViewers: s.peak_viewers, category: s.category }))
      .sort((a, b) => a.startedAt - b.startedAt),
    hours: [...hours.entries()].sort((a, b) => a[0] - b[0]).map(([hourStart, b]) => ({ hourStart, viewers: b.sum / b.n, liveMinutes: b.n, followers: b.followers })),
  };
}

/**
 * What `historyFromRows(channelHistoryRows(world, id, o))` gives — the history a backfill writes and
 * history.repository.ts reads back — computed without the rows, and the same world without the noise
 * (the evaluation's oracle) from the same polls: one pass over the world instead of two, no DateTime
 * text written and parsed (models/evaluate.ts; history.unit.test.ts proves both equal the rows' path).
 * Ended sessions only (no `includeLive`), no chat (the models do not read it).
 */
export function simulatedHistories(world: HistoryWorld, channelId: string, o: Omit<BackfillOptions, 'includeLive' | 'chat' | 'userIdOf' | 'version' | 'channelIds' | 'dataVersions'>): { noisy: ChannelHistory; clean: ChannelHistory } {
  const c = world.channels.find((x) => x.channelId === channelId);
  if (!c) throw new Error(`backfill: the simulator world has no channel ${channelId}`);
  const random = seededRandom(((o.seed ?? 1) * 2654435761) ^ hash(channelId));
  type Hour = { sum: number; n: number; followers: number };
  const noisyHours = new Map<number, Hour>();
  const cleanHours = new Map<number, Hour>();
  const noisy: ChannelHistory = { platform: c.platform, channelId, sessions: [], hours: [] };
  const clean: ChannelHistory = { platform: c.platform, channelId, sessions: [], hours: [] };
  const addHour = (hours: Map<number, Hour>, w: number, avg: number, followers: number) => {
    const h = Math.floor(w / 3_600_000) * 3_600_000;
    const b = hours.get(h);
    if (b) {
      b.sum += avg;
      b.n++;
      b.followers = Math.max(b.followers, followers);
    } else hours.set(h, { sum: avg, n: 1, followers });
  };
  for (const s of world.sessionsBetween(channelId, o.fromMs, o.toMs)) {
    if (s.startedAt < o.fromMs || s.endedAt === null || s.endedAt > o.toMs) continue;
    const endedAt = s.endedAt;
    const sessionFactor = o.sessionNoise ? Math.exp(o.sessionNoise * gaussian(random) - o.sessionNoise ** 2 / 2) : 1;
    let noisySum = 0;
    let noisyPeak = 0;
    let cleanSum = 0;
    let cleanPeak = 0;
    let minutes = 0;
    for (let w = Math.floor(s.startedAt / MINUTE) * MINUTE; w < endedAt; w += MINUTE) {
      let nSum = 0;
      let cSum = 0;
      let polls = 0;
      for (let t = w; t < w + MINUTE; t += POLL_MS) {
        if (t < s.startedAt || t >= endedAt) continue;
        const v = world.viewersInSession ? world.viewersInSession(channelId, s, t) : world.stateAt(channelId, t).viewers;
        const jitter = o.pollNoise ? Math.exp(o.pollNoise * gaussian(random) - o.pollNoise ** 2 / 2) : 1;
        const nv = Math.max(1, Math.round(v * sessionFactor * jitter));
        const cv = Math.max(1, Math.round(v));
        nSum += nv;
        cSum += cv;
        noisyPeak = Math.max(noisyPeak, nv);
        cleanPeak = Math.max(cleanPeak, cv);
        polls++;
      }
      if (polls === 0) continue;
      const followers = world.followersAt(channelId, w);
      addHour(noisyHours, w, nSum / polls, followers);
      addHour(cleanHours, w, cSum / polls, followers);
      noisySum += nSum / polls;
      cleanSum += cSum / polls;
      minutes++;
    }
    if (minutes === 0) continue;
    const category = world.stateAt(channelId, s.startedAt).category;
    noisy.sessions.push({ streamId: s.streamId, startedAt: s.startedAt, endedAt, avgViewers: noisySum / minutes, peakViewers: noisyPeak, category });
    clean.sessions.push({ streamId: s.streamId, startedAt: s.startedAt, endedAt, avgViewers: cleanSum / minutes, peakViewers: cleanPeak, category });
  }
  for (const [history, hours] of [[noisy, noisyHours], [clean, cleanHours]] as const) {
    history.sessions.sort((a, b) => a.startedAt - b.startedAt);
    history.hours = [...hours.entries()].sort((a, b) => a[0] - b[0]).map(([hourStart, b]) => ({ hourStart, viewers: b.sum / b.n, liveMinutes: b.n, followers: b.followers }));
  }
  return { noisy, clean };
}
