import { type ClickHouseRepository, SYNCHRONOUS_INSERT } from '../../shared/clickhouse/clickhouse.repository';
import { windowColumnsOf } from '../../shared/clickhouse/rollups';
import { chDateTime, chDateTime64, MetricsWindowRecord, StreamSessionRecord } from '../../shared/clickhouse/tables';
import type { ChannelWrite } from '../../shared/redis/data-version';
import { AlertRuleSettings, historyWindow, judgeWindow, RaisedAlert } from '../alerts/alert.rules';
import { partitionOf } from '../kafka/partition-of';
import { WINDOW_MS } from '../state/processor-event';
import type { RestoredChannel } from '../state/shard.state';
import type { ClosedWindow } from '../state/window.accumulator';
import type { LateRow, LiveSessionRef, PendingEnd, SessionRow } from './outputs';

const dt64 = chDateTime64;
const dt = chDateTime;
const secs = (ms: number) => Math.floor(ms / 1000);

export function windowRow(w: ClosedWindow, version: number): MetricsWindowRecord {
  return {
    platform: w.platform, channel_id: w.channelId, user_id: w.userId, window_start: dt(w.windowStart), samples: w.samples,
    avg_viewers: w.avgViewers, peak_viewers: w.peakViewers, min_viewers: w.minViewers, viewer_minutes: w.viewerMinutes,
    followers: w.followers, follower_delta: w.followerDelta, chat_messages: w.chatMessages, unique_chatters: w.uniqueChatters,
    engagement_rate: w.engagementRate, messages_per_viewer_minute: w.messagesPerViewerMinute, live: w.live ? 1 : 0,
    stream_id: w.streamId, version,
    paid_subscribers: w.paidSubscribers ?? null, paid_subscriber_delta: w.paidSubscriberDelta ?? 0, subscription_points: w.subscriptionPoints ?? null,
    chat_sampling_rate: w.chatSamplingRate ?? 1,
  };
}

/**
 * What a flush reports of its windows after writing them (shared/redis/data-version.ts `bump`): each
 * window with its row as written, which the API's open tail keeps (api/README.md "Open tail").
 */
export function windowReports(windows: readonly ClosedWindow[], version: number): ChannelWrite[] {
  return windows.map((w) => ({ platform: w.platform, channelId: w.channelId, windowStart: w.windowStart, row: { version, columns: windowColumnsOf(windowRow(w, version)) } }));
}

export function sessionRow(s: SessionRow, version: number): StreamSessionRecord {
  return {
    platform: s.platform, channel_id: s.channelId, user_id: s.userId, stream_id: s.streamId, started_at: dt64(s.startedAt),
    ended_at: s.endedAt === null ? null : dt64(s.endedAt), duration_seconds: s.durationSeconds, peak_viewers: s.peakViewers,
    avg_viewers: s.avgViewers, hours_watched: s.hoursWatched, followers_gained: s.followersGained, chat_messages: s.chatMessages,
    title: s.title, category: s.category, status: s.status, version, paid_subscribers_gained: s.paidSubscribersGained ?? null,
  };
}

function alertRow(a: RaisedAlert, version: number) {
  return {
    alert_id: a.alertId, type: a.type, user_id: a.userId, platform: a.platform, channel_id: a.channelId, occurred_at: dt64(a.occurredAt),
    severity: a.severity, message: a.message, details: JSON.stringify(a.details), version,
  };
}

function lateRow(l: LateRow) {
  return {
    topic: l.pos.topic, kafka_partition: l.pos.partition, kafka_offset: l.pos.offset, platform: l.event.platform,
    channel_id: l.event.channelId, event_id: l.event.eventId, event_time: dt64(l.event.t), watermark: dt64(l.watermark),
  };
}

/** A session's figures from its windows: the one definition, for running and final summaries alike. */
const SESSION_AGGREGATES = `max(peak_viewers) AS peak,
              if(countIf(samples > 0) > 0, sumIf(avg_viewers, samples > 0) / countIf(samples > 0), 0) AS avg,
              sum(viewer_minutes) AS vm, sum(chat_messages) AS chat, sum(follower_delta) AS gained,
              if(countIf(isNotNull(paid_subscribers)) = 0, NULL, sum(paid_subscriber_delta)) AS paid_gained`;

interface SessionAggregate {
  peak: number;
  avg: number;
  vm: number;
  chat: number;
  gained: number;
  paid_gained: number | null;
}

interface WindowRecord {
  platform: string; channel_id: string; user_id: string; ws: number; samples: number; avg_viewers: number; peak_viewers: number;
  min_viewers: number; viewer_minutes: number; followers: number | null; follower_delta: number; chat_messages: number;
  unique_chatters: number; engagement_rate: number; messages_per_viewer_minute: number; live: number; stream_id: string | null;
  paid_subscribers: number | null; paid_subscriber_delta: number; subscription_points: number | null;
}

/**
 * The processor's side of ClickHouse: idempotent inserts of every output, the session summary read,
 * and the restore read a shard makes when it is (re)assigned. Named, parameterised queries only.
 */
export class ProcessorClickHouseSink {
  constructor(readonly repo: ClickHouseRepository) {}

  /** A flush's inserts are few and large: written synchronously (SYNCHRONOUS_INSERT), not through the async-insert buffer. */
  async insertWindowsAndLate(windows: ClosedWindow[], late: LateRow[], version: number): Promise<void> {
    await Promise.all([
      this.repo.insert('insert metrics_1m', 'metrics_1m', windows.map((w) => windowRow(w, version)), SYNCHRONOUS_INSERT),
      this.repo.insert('insert late_events', 'late_events', late.map(lateRow), SYNCHRONOUS_INSERT),
    ]);
  }

  async insertSessionsAndAlerts(sessions: SessionRow[], alerts: RaisedAlert[], version: number): Promise<void> {
    await Promise.all([
      this.repo.insert('insert stream_sessions', 'stream_sessions', sessions.map((s) => sessionRow(s, version)), SYNCHRONOUS_INSERT),
      this.repo.insert('insert alerts', 'alerts', alerts.map((a) => alertRow(a, version)), SYNCHRONOUS_INSERT),
    ]);
  }

  /**
   * The ended session's summary from its windows in metrics_1m (deduplicated), read after those
   * windows were written: the same numbers whether this is the first run or a replay.
   */
  async summarizeSession(p: PendingEnd): Promise<SessionRow> {
    let startedAt = p.startedAt;
    if (startedAt === null) {
      const known = await this.repo.query<{ started_at: number }>(
        'session start',
        `SELECT toUnixTimestamp64Milli(started_at) AS started_at FROM stream_sessions_latest
         WHERE platform = {platform:String} AND channel_id = {channel:String} AND stream_id = {stream:String}`,
        { platform: p.platform, channel: p.channelId, stream: p.streamId },
      );
      startedAt = known[0]?.started_at ?? null;
    }
    const [agg] = await this.repo.query<SessionAggregate & { windows: number; first_ws: number }>(
      'session summary',
      `SELECT count() AS windows, toUnixTimestamp(min(window_start)) * 1000 AS first_ws, ${SESSION_AGGREGATES}
       FROM metrics_1m_latest
       WHERE platform = {platform:String} AND channel_id = {channel:String}
         AND window_start >= {from:DateTime} AND window_start <= {to:DateTime} AND stream_id = {stream:String}`,
      {
        platform: p.platform, channel: p.channelId, stream: p.streamId,
        from: secs(startedAt !== null ? Math.floor(startedAt / WINDOW_MS) * WINDOW_MS : p.endedAt - 7 * 86_400_000),
        to: secs(p.endedAt),
      },
    );
    const start = startedAt ?? (agg && agg.windows > 0 ? agg.first_ws : p.endedAt);
    return {
      platform: p.platform, channelId: p.channelId, userId: p.userId, streamId: p.streamId, startedAt: start, endedAt: p.endedAt,
      durationSeconds: Math.max(0, Math.round((p.endedAt - start) / 1000)),
      peakViewers: agg?.peak ?? 0, avgViewers: agg?.avg ?? 0, hoursWatched: (agg?.vm ?? 0) / 60,
      followersGained: agg?.gained ?? 0, paidSubscribersGained: agg?.paid_gained ?? null, chatMessages: agg?.chat ?? 0, title: p.title, category: p.category, status: 'ended',
    };
  }

  /**
   * Running summaries of sessions still live, from their windows closed so far (the same aggregates as
   * the final summary, so a replay rewrites the same figures): one query for every session of a flush.
   * The session keys are a set (`IN`, one hash lookup per row), not `has()` over an array of tuples, which
   * compared every row with every session: with 2,000 live sessions it was half the writer's time.
   */
  async summarizeLiveSessions(refs: LiveSessionRef[]): Promise<SessionRow[]> {
    if (refs.length === 0) return [];
    const from = Math.min(...refs.map((r) => Math.floor(r.startedAt / WINDOW_MS) * WINDOW_MS));
    const to = Math.max(...refs.map((r) => r.throughMs));
    const rows = await this.repo.query<SessionAggregate & { platform: string; channel_id: string; stream_id: string }>(
      'live session summaries',
      `SELECT platform, channel_id, stream_id, ${SESSION_AGGREGATES}
       FROM metrics_1m_latest
       WHERE platform IN {platforms:Array(String)} AND channel_id IN {channels:Array(String)}
         AND window_start >= {from:DateTime} AND window_start < {to:DateTime}
         AND concat(platform, char(31), channel_id, char(31), stream_id) IN {keys:Array(String)}
       GROUP BY platform, channel_id, stream_id`,
      {
        platforms: [...new Set(refs.map((r) => r.platform))], channels: [...new Set(refs.map((r) => r.channelId))],
        from: secs(from), to: secs(to), keys: refs.map((r) => `${r.platform}\x1f${r.channelId}\x1f${r.streamId}`),
      },
    );
    const byKey = new Map(rows.map((r) => [`${r.platform}:${r.channel_id}:${r.stream_id}`, r]));
    return refs.map((r) => {
      const agg = byKey.get(`${r.platform}:${r.channelId}:${r.streamId}`);
      return {
        platform: r.platform, channelId: r.channelId, userId: r.userId, streamId: r.streamId, startedAt: r.startedAt, endedAt: null,
        durationSeconds: Math.max(0, Math.round((r.throughMs - r.startedAt) / 1000)),
        peakViewers: agg?.peak ?? 0, avgViewers: agg?.avg ?? 0, hoursWatched: (agg?.vm ?? 0) / 60,
        followersGained: agg?.gained ?? 0, paidSubscribersGained: agg?.paid_gained ?? null, chatMessages: agg?.chat ?? 0, title: r.title, category: r.category, status: 'live',
      };
    });
  }

  /**
   * What a shard needs back after a restart or rebalance: each channel's windows that closed before the
   * checkpoint's watermark (the alert baseline and the carried follower count) and its open session.
   * Only channels whose key hashes to this partition are kept.
   */
  async restoreShard(partition: number, partitions: number, checkpointWatermark: number, rules: AlertRuleSettings): Promise<RestoredChannel[]> {
    const lastStart = Math.floor(checkpointWatermark / WINDOW_MS) * WINDOW_MS - WINDOW_MS;
    const from = lastStart - (2 * rules.baselineWindows + 1) * WINDOW_MS;
    const [windows, sessions] = await Promise.all([
      this.repo.query<WindowRecord>(
        'restore windows',
        `SELECT platform, channel_id, user_id, toUnixTimestamp(window_start) * 1000 AS ws, samples, avg_viewers, peak_viewers, min_viewers,
                viewer_minutes, followers, follower_delta, chat_messages, unique_chatters, engagement_rate, messages_per_viewer_minute, live, stream_id,
                paid_subscribers, paid_subscriber_delta, subscription_points
         FROM metrics_1m_latest WHERE window_start >= {from:DateTime} AND window_start <= {to:DateTime}
         ORDER BY platform, channel_id, window_start`,
        { from: secs(from), to: secs(lastStart) },
      ),
      this.repo.query<{ platform: string; channel_id: string; user_id: string; stream_id: string; started_at: number; title: string | null; category: string | null }>(
        'restore sessions',
        `SELECT platform, channel_id, user_id, stream_id, toUnixTimestamp64Milli(started_at) AS started_at, title, category
         FROM stream_sessions_latest WHERE status = 'live'`,
      ),
    ]);
    const mine = (platform: string, channelId: string) => partitionOf(`${platform}:${channelId}`, partitions) === partition;
    const out = new Map<string, RestoredChannel>();
    const get = (platform: string, channelId: string, userId: string) => {
      const key = `${platform}:${channelId}`;
      let c = out.get(key);
      if (!c) out.set(key, (c = { platform, channelId, userId, history: [], session: null }));
      return c;
    };
    for (const r of windows) {
      if (!mine(r.platform, r.channel_id)) continue;
      const c = get(r.platform, r.channel_id, r.user_id);
      const w: ClosedWindow = {
        platform: r.platform, channelId: r.channel_id, userId: r.user_id, windowStart: Number(r.ws), samples: r.samples, avgViewers: r.avg_viewers,
        peakViewers: r.peak_viewers, minViewers: r.min_viewers, viewerMinutes: r.viewer_minutes, followers: r.followers, followerDelta: r.follower_delta,
        chatMessages: r.chat_messages, uniqueChatters: r.unique_chatters, engagementRate: r.engagement_rate,
        messagesPerViewerMinute: r.messages_per_viewer_minute, live: r.live === 1, streamId: r.stream_id,
        paidSubscribers: r.paid_subscribers, paidSubscriberDelta: r.paid_subscriber_delta, subscriptionPoints: r.subscription_points,
      };
      // Re-judge in order to recover the spike/drop flags the next window's judgement looks at.
      const horizon = w.windowStart - rules.baselineWindows * WINDOW_MS;
      const history = c.history.filter((h) => h.windowStart >= horizon);
      let carried: number | null = null;
      for (let i = history.length - 1; i >= 0 && carried === null; i--) carried = history[i]!.followers;
      const j = judgeWindow(w, history, carried, rules);
      history.push(historyWindow(w, j.spike, j.drop));
      c.history = history;
    }
    for (const s of sessions) {
      if (!mine(s.platform, s.channel_id)) continue;
      get(s.platform, s.channel_id, s.user_id).session = { streamId: s.stream_id, startedAt: Number(s.started_at), title: s.title, category: s.category };
    }
    return [...out.values()];
  }
}
