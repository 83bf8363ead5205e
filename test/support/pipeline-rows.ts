import type { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';

/**
 * Rows as the pipeline writes them (processors' metrics_1m, creator_metrics_1m, stream_sessions,
 * alerts, late_events; the raw sink's snapshots_raw and heartbeats; the models' model_runs), for one
 * creator with a Twitch and a YouTube channel plus a second creator, over the last 29 days: a daily
 * session at a channel-specific hour, one session live right now, and a replay (same keys, newer
 * version) of the last hour, which readers must not double-count. Deterministic given `nowMs`.
 */
export interface SeedChannel {
  platform: 'twitch' | 'youtube';
  channelId: string;
  userId: string;
  login: string;
  baseViewers: number;
  /** UTC hour the daily stream starts */
  startHour: number;
}

export const SEED_USER = 'u_dash_creator';
export const SEED_OTHER_USER = 'u_dash_other';
export const SEED_CHANNELS: SeedChannel[] = [
  { platform: 'twitch', channelId: '9001', userId: SEED_USER, login: 'nova_plays', baseViewers: 1200, startHour: 18 },
  { platform: 'youtube', channelId: 'UCdashNova', userId: SEED_USER, login: 'NovaPlays', baseViewers: 450, startHour: 19 },
  { platform: 'twitch', channelId: '9002', userId: SEED_OTHER_USER, login: 'other_chan', baseViewers: 80, startHour: 14 },
];

const MIN = 60_000;
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

export interface MetricRow {
  platform: string; channel_id: string; user_id: string; window_start: number; samples: number; avg_viewers: number;
  peak_viewers: number; min_viewers: number; viewer_minutes: number; followers: number | null; follower_delta: number;
  chat_messages: number; unique_chatters: number; engagement_rate: number; live: number; version: number;
  /** Twitch channels: paid subscribers read with the followers (issue 18.3); YouTube: null. */
  paid_subscribers: number | null; paid_subscriber_delta: number; subscription_points: number | null;
  /** YouTube chat sampled by the quota planner (issue 18): 0.05 on YouTube's live windows; omitted = 1. */
  chat_sampling_rate?: number;
}

export interface SeedData {
  metrics: MetricRow[];
  creator: Record<string, unknown>[];
  sessions: Record<string, unknown>[];
  alerts: Record<string, unknown>[];
  late: Record<string, unknown>[];
  snapshots: Record<string, unknown>[];
  heartbeats: Record<string, unknown>[];
  modelRuns: Record<string, unknown>[];
}

/** A smooth in-session audience curve with a little deterministic wobble. */
function viewersAt(c: SeedChannel, minuteOfSession: number, day: number): number {
  const ramp = Math.min(1, (minuteOfSession + 5) / 30);
  const weekday = 1 + 0.15 * Math.sin((day / 7) * 2 * Math.PI);
  const wobble = 1 + 0.08 * Math.sin(minuteOfSession / 7 + day);
  return Math.max(1, Math.round(c.baseViewers * ramp * weekday * wobble));
}

export function buildSeedData(nowMs: number): SeedData {
  const now = Math.floor(nowMs / MIN) * MIN;
  const version = 1;
  const d: SeedData = { metrics: [], creator: [], sessions: [], alerts: [], late: [], snapshots: [], heartbeats: [], modelRuns: [] };
  const today = Math.floor(now / DAY) * DAY;
  for (const c of SEED_CHANNELS) {
    let followers = 10_000 + c.baseViewers * 3;
    const twitch = c.platform === 'twitch';
    let paid = 200 + c.baseViewers;
    for (let day = -29; day <= 0; day++) {
      let start = today + day * DAY + c.startHour * 3600_000;
      let end = start + 3 * 3600_000;
      const liveNow = day === 0;
      if (liveNow) {
        // Today's stream is the live one: it started 90 minutes ago and is still running.
        start = now - 90 * MIN;
        end = now;
      }
      if (start > now) continue;
      const streamId = `${c.channelId}-s${day + 30}`;
      let peak = 0;
      let viewerMinutes = 0;
      let chat = 0;
      let gained = 0;
      let paidGained = 0;
      for (let w = start, i = 0; w < end; w += MIN, i++) {
        const v = viewersAt(c, i, day + 30);
        const delta = i % 4 === 0 ? 1 + (v % 3) : 0;
        followers += delta;
        gained += delta;
        const paidDelta = i % 10 === 5 ? 1 : 0;
        paid += paidDelta;
        paidGained += paidDelta;
        const messages = Math.round(v * 0.05);
        peak = Math.max(peak, v + 7);
        viewerMinutes += v;
        chat += messages;
        d.metrics.push({
          platform: c.platform, channel_id: c.channelId, user_id: c.userId, window_start: w / 1000, samples: 2,
          avg_viewers: v, peak_viewers: v + 7, min_viewers: Math.max(0, v - 6), viewer_minutes: v, followers,
          follower_delta: delta, chat_messages: messages, unique_chatters: Math.round(messages * 0.6),
          engagement_rate: messages / v, live: 1, version,
          paid_subscribers: twitch ? paid : null, paid_subscriber_delta: twitch ? paidDelta : 0, subscription_points: twitch ? paid + Math.round(paid / 5) : null,
          ...(twitch ? {} : { chat_sampling_rate: 0.05 }),
        });
      }
      // One offline window after each ended stream (the processors close windows for offline polls too).
      if (!liveNow) {
        d.metrics.push({
          platform: c.platform, channel_id: c.channelId, user_id: c.userId, window_start: end / 1000, samples: 1,
          avg_viewers: 0, peak_viewers: 0, min_viewers: 0, viewer_minutes: 0, followers, follower_delta: 0,
          chat_messages: 0, unique_chatters: 0, engagement_rate: 0, live: 0, version,
          paid_subscribers: twitch ? paid : null, paid_subscriber_delta: 0, subscription_points: twitch ? paid + Math.round(paid / 5) : null,
        });
      }
      const minutes = Math.max(1, Math.round((end - start) / MIN));
      d.sessions.push({
        platform: c.platform, channel_id: c.channelId, user_id: c.userId, stream_id: streamId, started_at: iso(start),
        ended_at: liveNow ? null : iso(end), duration_seconds: Math.round((end - start) / 1000), peak_viewers: peak,
        avg_viewers: viewerMinutes / minutes, hours_watched: viewerMinutes / 60, followers_gained: gained, paid_subscribers_gained: twitch ? paidGained : null, chat_messages: chat,
        title: `Day ${day + 30} with ${c.login}`, category: day % 2 ? 'Just Chatting' : 'Celeste', status: liveNow ? 'live' : 'ended', version,
      });
      const alert = (type: string, at: number, severity: string, message: string, details = '{}') =>
        d.alerts.push({
          alert_id: `${c.platform}:${c.channelId}:${streamId}:${type}`, type, user_id: c.userId, platform: c.platform,
          channel_id: c.channelId, occurred_at: iso(at), severity, message, details, version,
        });
      alert('stream_started', start, 'info', `${c.login} went live on ${c.platform}`);
      if (!liveNow) alert('stream_ended', end, 'info', `${c.login} ended the stream`, JSON.stringify({ streamId, peakViewers: peak }));
      if (liveNow) alert('viewer_spike', now - 20 * MIN, 'warning', `${c.login}: viewers up 40% in 5 minutes`);
    }
  }
  // A replay of the newest hour: same keys, newer version, same values — FINAL must collapse it.
  const replay = d.metrics.filter((m) => m.window_start * 1000 >= now - 60 * MIN).map((m) => ({ ...m, version: 2 }));
  d.metrics.push(...replay);

  // Cross-platform totals per creator and window, summed over the (deduplicated) channel windows.
  const byCreator = new Map<string, MetricRow[]>();
  for (const m of d.metrics.filter((x) => x.version === 1)) {
    const k = `${m.user_id}|${m.window_start}`;
    byCreator.set(k, [...(byCreator.get(k) ?? []), m]);
  }
  for (const [k, rows] of byCreator) {
    const [userId, ws] = k.split('|');
    d.creator.push({
      user_id: userId, window_start: Number(ws), channels: rows.length, live_channels: rows.filter((r) => r.live).length,
      total_avg_viewers: rows.reduce((a, r) => a + r.avg_viewers, 0), total_peak_viewers: rows.reduce((a, r) => a + r.peak_viewers, 0),
      total_viewer_minutes: rows.reduce((a, r) => a + r.viewer_minutes, 0), total_chat_messages: rows.reduce((a, r) => a + r.chat_messages, 0), version,
    });
  }

  // Raw snapshots of the live channels (30 s polls) and heartbeats (every 10 s) for the last 6 hours.
  for (const c of SEED_CHANNELS.filter((x) => x.userId === SEED_USER)) {
    for (let t = now - 6 * 3600_000, i = 0; t <= now; t += 30_000, i++) {
      const live = t >= now - 90 * MIN;
      d.snapshots.push({
        event_id: `${c.platform}:${c.channelId}:${t}`, platform: c.platform, channel_id: c.channelId, user_id: c.userId,
        observed_at: iso(t), live: live ? 1 : 0, viewers: live ? viewersAt(c, Math.floor((t - (now - 90 * MIN)) / MIN), 30) : null,
        stream_id: live ? `${c.channelId}-s30` : null, started_at: live ? iso(now - 90 * MIN) : null, title: live ? `Day 30 with ${c.login}` : null,
        category: live ? 'Celeste' : null, language: 'en', source: 'poll', kafka_partition: 0, kafka_offset: i,
      });
    }
  }
  for (let t = now - 6 * 3600_000, i = 0; t <= now; t += 10_000, i++) {
    for (const source of ['ingest', 'processors']) {
      d.heartbeats.push({ event_id: `${source}:${i}`, source, emitted_at: iso(t), sequence: i, received_at: iso(t + 40 + (i % 50) * 3) });
    }
  }
  for (let i = 0; i < 12; i++) {
    const at = now - (i * 17 + 5) * MIN;
    d.late.push({
      topic: i % 3 ? 'snapshots' : 'chat', kafka_partition: i % 3, kafka_offset: 1000 + i, platform: 'twitch', channel_id: '9001',
      event_id: `late-${i}`, event_time: iso(at - 5 * MIN), watermark: iso(at - 2 * MIN), received_at: iso(at),
    });
  }
  for (const [i, model] of ['viewers', 'timing'].entries()) {
    const started = now - (3 + i) * 3600_000;
    d.modelRuns.push({
      run_id: `run-${model}`, model, version: `v${i + 1}`, status: 'succeeded', trigger: 'test', backend: 'wasm', seed: 42,
      params: '{}', metrics: { mae: 12.5 + i, mae_channel_mean: 30.1, mae_last_week: 21.7 }, data_from: iso(now - 28 * DAY),
      data_to: iso(now - DAY), holdout_from: iso(now - 7 * DAY), channels: 3, train_samples: 4000, holdout_samples: 900,
      started_at: iso(started), finished_at: iso(started + 60_000), duration_ms: 60_000, artifact_path: `.stack/models/${model}/v${i + 1}`, error: '',
    });
  }
  return d;
}

/** Inserts the seed into the runtime's (isolated) database. */
export async function insertSeedData(repo: ClickHouseRepository, d: SeedData): Promise<void> {
  await repo.insert('seed metrics_1m', 'metrics_1m', d.metrics);
  // creator_metrics_1m is a view over metrics_1m in the processors' newer schema; write it only while it is a table.
  const engine = await repo.query<{ engine: string }>('creator table engine', 'SELECT engine FROM system.tables WHERE database = currentDatabase() AND name = {t:String}', { t: 'creator_metrics_1m' });
  if (engine[0]?.engine.endsWith('MergeTree')) await repo.insert('seed creator_metrics_1m', 'creator_metrics_1m', d.creator);
  await repo.insert('seed stream_sessions', 'stream_sessions', d.sessions);
  await repo.insert('seed alerts', 'alerts', d.alerts);
  await repo.insert('seed late_events', 'late_events', d.late);
  await repo.insert('seed snapshots_raw', 'snapshots_raw', d.snapshots);
  await repo.insert('seed heartbeats', 'heartbeats', d.heartbeats);
  await repo.insert('seed model_runs', 'model_runs', d.modelRuns);
}
