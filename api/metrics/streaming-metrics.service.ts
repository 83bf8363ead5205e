import type { AppError } from '../../shared/errors/app-error';
import type { ChannelVersions } from '../../shared/redis/data-version';
import { ConnectionNotFoundError } from '../../shared/errors/connection-not-found';
import { parseAlertDetails } from '../../shared/events/alert-details';
import type { ConnectionDirectory, ConnectionRecord, PredictionPort, SlotScoreOut } from '../ports';
import { GRANULARITIES, Granularity, isoOf, MAX_SPAN_MS, TimeRange } from '../schemas/common.schemas';
import type { AlertListT, CreatorSummaryT, MetricSeriesT, SessionT, StreamMetricsT, StreamReportT } from '../schemas/responses.schemas';
import type { ChannelKey, MetricsRepository, SessionRow } from './metrics.repository';
import type { SeriesSource } from './series.cache';
import { pointOf, pointsJsonOf } from './series.points';
import { JsonBody } from '../http/json-body';

/** A window older than this is not evidence of being live now (1 min window + 2 min lateness + slack). */
export const FRESHNESS_MS = 10 * 60_000;
export const NO_MODEL_REASON = 'no model is trained yet: run `spacehub train`';

/**
 * The read side of the analytics: what one connected channel looks like now, its history by range
 * and granularity, its sessions, and a creator's cross-platform summary. The name and
 * `getStreamMetrics(userPlatformId)` come from the original module's public API; `userPlatformId` is
 * the id of a user's platform connection (`connectionId`).
 *
 * Authorisation is the caller's job (channels/channel-access.service.ts): this class answers for any
 * channel it is asked about.
 */
export class StreamingMetricsService {
  constructor(
    private readonly deps: {
      metrics: MetricsRepository;
      /** Where series come from: the series cache (series.cache.ts) in front of `metrics`, or `metrics` itself. */
      series?: SeriesSource;
      connections: ConnectionDirectory;
      predictions?: PredictionPort | null;
      clock?: () => number;
    },
  ) {}

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  /** The comprehensive current view of one connected channel. */
  async getStreamMetrics(userPlatformId: string): Promise<StreamMetricsT> {
    const conn = await this.deps.connections.get(userPlatformId);
    if (!conn) throw new ConnectionNotFoundError(userPlatformId);
    return this.currentView(conn);
  }

  async currentView(conn: ConnectionRecord): Promise<StreamMetricsT> {
    const now = this.now();
    const key: ChannelKey = { platform: conn.platform, channelId: conn.channelId };
    const [state, session] = await Promise.all([this.deps.metrics.latestState(key, now), this.deps.metrics.latestSession(key)]);
    const lastWindowMs = state.lastWindowStart ? Date.parse(isoOf(state.lastWindowStart)!) : null;
    const fresh = lastWindowMs !== null && now - lastWindowMs <= FRESHNESS_MS;
    const live = fresh && state.lastLive === 1;

    let sessionView: StreamMetricsT['session'] = null;
    let peak: number | null = null;
    let average: number | null = null;
    let sessionEngagement: number | null = null;
    if (session) {
      const startedMs = Date.parse(isoOf(session.started_at)!);
      const endedMs = session.ended_at ? Date.parse(isoOf(session.ended_at)!) : null;
      const open = session.status === 'live' && endedMs === null;
      // The session's figures come from its 1-minute windows, which are complete while the session is
      // still open (the session row itself is final only once the stream ended).
      const stats = await this.deps.metrics.windowStats(key, { fromMs: startedMs - (startedMs % 60_000), toMs: (endedMs ?? now) + 1 });
      peak = stats.liveMinutes > 0 ? stats.peakViewers : session.peak_viewers || null;
      average = stats.avgViewers ?? (session.avg_viewers || null);
      sessionEngagement = stats.engagementRate;
      sessionView = {
        streamId: session.stream_id,
        status: session.status,
        startedAt: isoOf(session.started_at)!,
        endedAt: isoOf(session.ended_at),
        durationSeconds: open ? Math.max(0, Math.floor((now - startedMs) / 1000)) : session.duration_seconds,
        title: session.title,
        category: session.category,
        hoursWatched: stats.liveMinutes > 0 ? stats.viewerMinutes / 60 : session.hours_watched,
        chatMessages: stats.liveMinutes > 0 ? stats.chatMessages : session.chat_messages,
      };
    }

    const [predictedPotential, bestNextSlot] = await Promise.all([this.potential(key, now), this.nextSlot(key)]);
    return {
      connectionId: conn.connectionId,
      platform: conn.platform,
      channelId: conn.channelId,
      login: conn.login,
      displayName: conn.displayName,
      connectionStatus: conn.status,
      asOf: new Date(now).toISOString(),
      live,
      lastWindowStart: lastWindowMs === null ? null : new Date(lastWindowMs).toISOString(),
      stale: !fresh,
      viewers: { current: live ? state.lastAvgViewers : null, peak, average },
      followers: { current: state.lastFollowers, growth24h: state.growth24h, growth7d: state.growth7d },
      session: sessionView,
      engagement: { current: live ? state.lastEngagementRate : null, sessionAverage: sessionEngagement },
      predictedPotential,
      bestNextSlot,
    };
  }

  /** A model's answer, or why there is none (no model trained, too little history): never a made-up number. */
  private async potential(key: ChannelKey, now: number): Promise<StreamMetricsT['predictedPotential']> {
    const p = this.deps.predictions;
    if (!p) return { value: null, reason: NO_MODEL_REASON };
    try {
      const v = await p.predictViewers(key, now);
      return { value: { startTime: v.startTime, durationMinutes: v.durationMinutes, expectedViewers: v.expectedViewers, interval: v.interval, baselines: v.baselines, model: v.model, holdout: v.holdout, explanation: v.explanation }, reason: null };
    } catch (err) {
      return { value: null, reason: reasonOf(err) };
    }
  }

  private async nextSlot(key: ChannelKey): Promise<StreamMetricsT['bestNextSlot']> {
    const p = this.deps.predictions;
    if (!p) return { value: null, reason: NO_MODEL_REASON };
    try {
      const best = (await p.recommendSlots(key, { top: 1 })).top[0];
      return best ? { value: slotOut(best), reason: null } : { value: null, reason: 'the model ranked no slot' };
    } catch (err) {
      return { value: null, reason: reasonOf(err) };
    }
  }

  async getMetricsSeries(key: ChannelKey, range: TimeRange, granularity: Granularity): Promise<MetricSeriesT> {
    const rows = await this.seriesSource.series(key, range, GRANULARITIES[granularity]);
    return { ...this.seriesHead(key, range, granularity), points: rows.map(pointOf) };
  }

  /**
   * The same series as a JsonBody: the points' JSON kept by the series cache (serialized once per
   * cached result), with this request's head around it. `versions`: the channel's data and sealed
   * versions when the caller read them already (the request guard's one Redis round trip).
   */
  async getMetricsSeriesBody(key: ChannelKey, range: TimeRange, granularity: Granularity, versions?: ChannelVersions): Promise<JsonBody> {
    const src = this.seriesSource;
    const step = GRANULARITIES[granularity];
    const points = src.seriesJson ? await src.seriesJson(key, range, step, versions) : pointsJsonOf(await src.series(key, range, step, versions));
    return JsonBody.withField(this.seriesHead(key, range, granularity), 'points', points);
  }

  private get seriesSource(): SeriesSource {
    return this.deps.series ?? this.deps.metrics;
  }

  private seriesHead(key: ChannelKey, range: TimeRange, granularity: Granularity): Omit<MetricSeriesT, 'points'> {
    return { platform: key.platform, channelId: key.channelId, granularity, from: new Date(range.fromMs).toISOString(), to: new Date(range.toMs).toISOString() };
  }

  async getSessions(key: ChannelKey, range: TimeRange, limit: number): Promise<SessionT[]> {
    return (await this.deps.metrics.sessions(key, range, limit)).map(sessionOut);
  }

  /**
   * One stream's report: the session, its windows, the peak moment, and the mean of the channel's
   * `compare` previous ended streams. While the stream is open its row is the running one the processors
   * keep (figures through its newest closed window); the duration is extended to now.
   */
  async getStreamReport(key: ChannelKey, streamId: string, compare: number): Promise<StreamReportT | null> {
    const row = await this.deps.metrics.session(key, streamId);
    if (!row) return null;
    const now = this.now();
    const session = sessionOut(row);
    const startedMs = Date.parse(session.startedAt);
    const endedMs = session.endedAt ? Date.parse(session.endedAt) : null;
    const open = session.status === 'live' && endedMs === null;
    // Windows of [start's minute, end rounded up to a minute): the offline window after the end is not the stream's.
    const range = { fromMs: startedMs - (startedMs % 60_000), toMs: Math.ceil((endedMs ?? now + 1) / 60_000) * 60_000 };
    const granularity = range.toMs - range.fromMs > MAX_SPAN_MS['1m'] ? '1h' : '1m';
    const [series, earlier] = await Promise.all([
      this.getMetricsSeries(key, range, granularity),
      this.deps.metrics.sessions(key, { fromMs: startedMs - MAX_SPAN_MS.sessions, toMs: startedMs }, compare),
    ]);
    const points = series.points;
    // The processors rewrite a live session's row with its running figures at every flush in which one of
    // its windows closed (processors/README.md); only the duration, "so far" at that flush, runs on to now.
    if (open) session.durationSeconds = Math.max(session.durationSeconds, Math.floor((now - startedMs) / 1000));
    const top = points.reduce<(typeof points)[number] | null>((best, p) => (best === null || p.peakViewers > best.peakViewers ? p : best), null);
    const previous = earlier.map(sessionOut).filter((s) => s.status === 'ended');
    const mean = (f: (s: SessionT) => number) => previous.reduce((a, s) => a + f(s), 0) / previous.length;
    return {
      platform: key.platform,
      channelId: key.channelId,
      session,
      granularity,
      points,
      peak: top && top.peakViewers > 0 ? { viewers: top.peakViewers, at: top.start } : null,
      comparison: {
        count: previous.length,
        previous,
        average: previous.length === 0 ? null : {
          durationSeconds: mean((s) => s.durationSeconds),
          peakViewers: mean((s) => s.peakViewers),
          avgViewers: mean((s) => s.avgViewers),
          hoursWatched: mean((s) => s.hoursWatched),
          followersGained: mean((s) => s.followersGained),
          chatMessages: mean((s) => s.chatMessages),
        },
      },
    };
  }

  /**
   * The user's alert history, newest first: the alerts of the channels they own now (a connection
   * that is not revoked), whoever else owns them and whichever user id the alert row carries, plus the
   * alerts about their own connections (reauth_required). A channel they left drops out of it.
   */
  async getAlerts(userId: string, range: TimeRange, limit: number): Promise<AlertListT> {
    const conns = (await this.deps.connections.listByUser(userId)).filter((c) => c.status !== 'revoked');
    const channels = [...new Map(conns.map((c) => [`${c.platform}:${c.channelId}`, { platform: c.platform, channelId: c.channelId }])).values()];
    const rows = await this.deps.metrics.alerts(userId, channels, range, limit);
    return {
      alerts: rows.map((a) => ({
        alertId: a.alertId,
        type: a.type,
        platform: a.platform,
        channelId: a.channelId,
        occurredAt: new Date(Number(a.occurredAtMs)).toISOString(),
        severity: a.severity,
        message: a.message,
        details: parseAlertDetails(a.details),
      })),
    };
  }

  /** Totals over the user's connected channels (revoked connections excluded). */
  async getCreatorSummary(userId: string, range: TimeRange): Promise<CreatorSummaryT> {
    const conns = (await this.deps.connections.listByUser(userId)).filter((c) => c.status !== 'revoked');
    // Two connections to one channel (reconnects) count the channel once.
    const byKey = new Map(conns.map((c) => [`${c.platform}:${c.channelId}`, c]));
    const keys: ChannelKey[] = [...byKey.values()].map((c) => ({ platform: c.platform, channelId: c.channelId }));
    const [totals, concurrency, sessions] = await Promise.all([
      this.deps.metrics.channelTotals(keys, range),
      this.deps.metrics.concurrency(keys, range),
      this.deps.metrics.sessionCounts(keys, range),
    ]);
    const totalsOf = new Map(totals.map((t) => [`${t.platform}:${t.channel_id}`, t]));
    const sessionsOf = new Map(sessions.map((s) => [`${s.platform}:${s.channel_id}`, Number(s.sessions)]));
    const channels = [...byKey.entries()].map(([k, c]) => {
      const t = totalsOf.get(k);
      return {
        connectionId: c.connectionId,
        platform: c.platform,
        channelId: c.channelId,
        displayName: c.displayName,
        liveMinutes: t?.liveMinutes ?? 0,
        hoursWatched: (t?.viewerMinutes ?? 0) / 60,
        avgViewers: t?.avgViewers ?? null,
        peakViewers: t?.peakViewers ?? 0,
        chatMessages: t?.chatMessages ?? 0,
        followersGained: t?.followerDelta ?? 0,
        followers: t?.lastFollowers ?? null,
        sessions: sessionsOf.get(k) ?? 0,
      };
    });
    const sum = (f: (c: (typeof channels)[number]) => number) => channels.reduce((a, c) => a + f(c), 0);
    return {
      userId,
      from: new Date(range.fromMs).toISOString(),
      to: new Date(range.toMs).toISOString(),
      totals: {
        channels: channels.length,
        liveMinutes: sum((c) => c.liveMinutes),
        hoursWatched: sum((c) => c.hoursWatched),
        peakConcurrentViewers: concurrency.peakConcurrent,
        avgConcurrentViewers: concurrency.avgConcurrent,
        chatMessages: sum((c) => c.chatMessages),
        followersGained: sum((c) => c.followersGained),
        followers: sum((c) => c.followers ?? 0),
        sessions: sum((c) => c.sessions),
      },
      channels,
    };
  }
}

export const slotOut = (s: SlotScoreOut) => ({ hourOfWeek: s.hourOfWeek, startsAt: s.startsAt, expectedViewers: s.expectedViewers, medianViewers: s.medianViewers, ...(s.bestChance !== undefined ? { bestChance: s.bestChance } : {}), low: s.low, high: s.high, reason: s.reason });

/** Typed model errors carry a message meant for users (what is missing and how much); others do not. */
function reasonOf(err: unknown): string {
  const code = (err as AppError)?.code;
  if (code === 'MODEL_NOT_READY') return NO_MODEL_REASON;
  if (code === 'INSUFFICIENT_DATA') return (err as Error).message;
  return 'the model could not answer';
}

/** A stream's figures so far from its 1-minute points (the same definitions as the processors' session row). */
function sessionOut(s: SessionRow): SessionT {
  return {
    streamId: s.stream_id,
    status: s.status,
    startedAt: isoOf(s.started_at)!,
    endedAt: isoOf(s.ended_at),
    durationSeconds: s.duration_seconds,
    peakViewers: s.peak_viewers,
    avgViewers: s.avg_viewers,
    hoursWatched: s.hours_watched,
    followersGained: s.followers_gained,
    paidSubscribersGained: s.paid_subscribers_gained ?? null,
    chatMessages: s.chat_messages,
    title: s.title,
    category: s.category,
  };
}
