import type { ClickHouseRepository } from '../shared/clickhouse/clickhouse.repository';
import type { ChannelHistory, HourRecord, SessionRecord } from './channel-history';
import { readCompetitionSamples } from '../shared/clickhouse/category-competition';
import { competitionByCategory } from './competition.feature';

/**
 * Reads the models' view of history from the processors' tables (shared/clickhouse/migrations/0002):
 * ended stream_sessions, and metrics_1m live minutes rolled up to UTC hours. Through the processors'
 * *_latest views (one row per key whatever the merge state), so a replayed window counts once.
 * And the category competition samples of the same range (category_competition, issue 22.3), by
 * platform and category name, attached to each history of that platform (competition.feature.ts).
 */
export interface HistoryQuery {
  /** Epoch ms; only sessions starting / hours from here on. */
  since: number;
  /** Epoch ms, exclusive; default: no upper bound. */
  until?: number;
  /** Restrict to these channel ids (and platforms, when given). Empty = all. */
  channels?: Array<{ platform?: string; channelId: string }>;
}

const SESSIONS_SQL = `
  SELECT platform, channel_id, stream_id,
         toUnixTimestamp64Milli(started_at) AS started_ms,
         toUnixTimestamp64Milli(assumeNotNull(ended_at)) AS ended_ms,
         avg_viewers, peak_viewers, category
  FROM stream_sessions_latest
  WHERE status = 'ended' AND ended_at IS NOT NULL
    AND started_at >= fromUnixTimestamp64Milli({since:Int64})
    AND started_at < fromUnixTimestamp64Milli({until:Int64})
    AND (empty({channels:Array(String)}) OR has({channels:Array(String)}, channel_id))
  ORDER BY platform, channel_id, started_at`;

const HOURS_SQL = `
  SELECT platform, channel_id,
         toUnixTimestamp(toStartOfHour(window_start)) * 1000 AS hour_ms,
         avg(avg_viewers) AS viewers, count() AS live_minutes, max(followers) AS followers
  FROM metrics_1m_latest
  WHERE live = 1
    AND window_start >= toDateTime(intDiv({since:Int64}, 1000), 'UTC')
    AND window_start < toDateTime(intDiv({until:Int64}, 1000), 'UTC')
    AND (empty({channels:Array(String)}) OR has({channels:Array(String)}, channel_id))
  GROUP BY platform, channel_id, hour_ms
  ORDER BY platform, channel_id, hour_ms`;

interface SessionRow {
  platform: string;
  channel_id: string;
  stream_id: string;
  started_ms: number;
  ended_ms: number;
  avg_viewers: number;
  peak_viewers: number;
  category: string | null;
}

interface HourRow {
  platform: string;
  channel_id: string;
  hour_ms: number;
  viewers: number;
  live_minutes: number;
  followers: number | null;
}

/** One ChannelHistory per channel that has at least one ended session in the range. */
export async function loadHistories(repo: ClickHouseRepository, q: HistoryQuery): Promise<ChannelHistory[]> {
  const params = {
    since: Math.trunc(q.since),
    until: Math.trunc(q.until ?? Date.UTC(2200, 0, 1)),
    channels: [...new Set((q.channels ?? []).map((c) => c.channelId))],
  };
  const [sessions, hours] = await Promise.all([
    repo.query<SessionRow>('models: sessions', SESSIONS_SQL, params),
    repo.query<HourRow>('models: live hours', HOURS_SQL, params),
  ]);
  const wanted = (platform: string, channelId: string) =>
    !q.channels?.length || q.channels.some((c) => c.channelId === channelId && (c.platform === undefined || c.platform === platform));
  const byKey = new Map<string, ChannelHistory>();
  for (const r of sessions) {
    if (!wanted(r.platform, r.channel_id)) continue;
    const key = `${r.platform}:${r.channel_id}`;
    let h = byKey.get(key);
    if (!h) byKey.set(key, (h = { platform: r.platform, channelId: r.channel_id, sessions: [], hours: [] }));
    const s: SessionRecord = {
      streamId: r.stream_id,
      startedAt: Number(r.started_ms),
      endedAt: Number(r.ended_ms),
      avgViewers: Number(r.avg_viewers),
      peakViewers: Number(r.peak_viewers),
      category: r.category,
    };
    h.sessions.push(s);
  }
  for (const r of hours) {
    const h = byKey.get(`${r.platform}:${r.channel_id}`);
    if (!h) continue;
    const x: HourRecord = { hourStart: Number(r.hour_ms), viewers: Number(r.viewers), liveMinutes: Number(r.live_minutes), followers: r.followers === null ? null : Number(r.followers) };
    h.hours.push(x);
  }
  // Competition samples of each platform with histories (in practice Twitch's directories); none: no feature.
  for (const platform of new Set([...byKey.values()].map((h) => h.platform))) {
    const samples = await readCompetitionSamples(repo, { platform, fromMs: params.since, toMs: params.until });
    if (samples.length === 0) continue;
    const byCategory = competitionByCategory(samples);
    for (const h of byKey.values()) if (h.platform === platform) h.competition = byCategory;
  }
  return [...byKey.values()].sort((a, b) => (a.platform + a.channelId).localeCompare(b.platform + b.channelId));
}
