/**
 * The hourly rollup of metrics_1m (migrations/0110_metrics_1h_rollup.sql): the one definition of its
 * parts, of how hours are (re)computed from the minute windows, and of how parts combine into a bucket.
 * Writers: the processors' flush (processors/sink/rollup.writer.ts) and the backfill (models/history.ts).
 * Reader: the API's 1h/1d series (api/metrics/metrics.repository.ts), which takes complete hours from
 * here and the rest — the open tail, partial hours at the range's edges — from metrics_1m, through the
 * same part definitions, so both sources give the same figures.
 *
 * Invariant the reader relies on: for every channel, every hour before its newest rollup row that has
 * windows has a rollup row computed from its current windows. Writers keep it by sealing contiguously
 * (from the channel's newest rollup hour on, see `sealedThrough`) and by re-sealing any complete hour
 * they write windows into.
 */
import type { ClickHouseRepository } from './clickhouse.repository';
import { chDateTime } from './tables';

export const HOUR_MS = 3_600_000;
export const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;
export const ceilHour = (ms: number) => Math.ceil(ms / HOUR_MS) * HOUR_MS;

/**
 * The parts of one bucket over de-duplicated metrics_1m rows (columns window_start, samples, …), with
 * `c_` names so no alias shadows a column it aggregates. Viewer averages and the engagement rate are
 * over windows with samples (live snapshots), as the API and the processors' views define them. The
 * chat sampling rate is the lowest of the bucket's windows (1 = all chat read; migrations 0140/0141).
 */
export const WINDOW_PARTS = `
  count() AS c_windows,
  countIf(live = 1) AS c_live_windows,
  sum(samples) AS c_samples,
  countIf(samples > 0) AS c_sampled_windows,
  sumIf(avg_viewers, samples > 0) AS c_sum_avg_viewers,
  max(peak_viewers) AS c_peak_viewers,
  if(countIf(samples > 0) = 0, NULL, minIf(min_viewers, samples > 0)) AS c_min_viewers,
  sum(viewer_minutes) AS c_viewer_minutes,
  argMaxIf(followers, window_start, isNotNull(followers)) AS c_last_followers,
  maxIf(window_start, isNotNull(followers)) AS c_last_followers_at,
  sum(follower_delta) AS c_follower_delta,
  sum(chat_messages) AS c_chat_messages,
  max(unique_chatters) AS c_max_unique_chatters,
  sumIf(engagement_rate, samples > 0) AS c_sum_engagement_rate,
  argMaxIf(paid_subscribers, window_start, isNotNull(paid_subscribers)) AS c_last_paid_subscribers,
  maxIf(window_start, isNotNull(paid_subscribers)) AS c_last_paid_subscribers_at,
  argMaxIf(subscription_points, window_start, isNotNull(paid_subscribers)) AS c_last_subscription_points,
  countIf(isNotNull(paid_subscribers)) AS c_paid_subscriber_windows,
  sum(paid_subscriber_delta) AS c_paid_subscriber_delta,
  min(chat_sampling_rate) AS c_min_chat_sampling_rate`;

/** The stored rollup columns under the same `c_` names (a row of metrics_1h_rollup as parts). */
export const ROLLUP_PARTS = `
  windows AS c_windows, live_windows AS c_live_windows, samples AS c_samples, sampled_windows AS c_sampled_windows,
  sum_avg_viewers AS c_sum_avg_viewers, peak_viewers AS c_peak_viewers, min_viewers AS c_min_viewers,
  viewer_minutes AS c_viewer_minutes, last_followers AS c_last_followers, last_followers_at AS c_last_followers_at,
  follower_delta AS c_follower_delta, chat_messages AS c_chat_messages, max_unique_chatters AS c_max_unique_chatters,
  sum_engagement_rate AS c_sum_engagement_rate, last_paid_subscribers AS c_last_paid_subscribers,
  last_paid_subscribers_at AS c_last_paid_subscribers_at, last_subscription_points AS c_last_subscription_points,
  paid_subscriber_windows AS c_paid_subscriber_windows, paid_subscriber_delta AS c_paid_subscriber_delta,
  min_chat_sampling_rate AS c_min_chat_sampling_rate`;

/**
 * Parts (rows with the `c_` columns) combined into one bucket, under the API's SeriesRow names: sums,
 * max/min, the average as Σ/count over windows with samples, the follower count of the newest minute
 * that knew one; null (not 0) when no window had samples.
 */
export const BUCKET_FROM_PARTS = `
  sum(c_live_windows) AS liveMinutes,
  sum(c_samples) AS sampleCount,
  if(sum(c_sampled_windows) = 0, NULL, sum(c_sum_avg_viewers) / sum(c_sampled_windows)) AS avgViewers,
  max(c_peak_viewers) AS peakViewers,
  if(sum(c_sampled_windows) = 0, NULL, min(c_min_viewers)) AS minViewers,
  sum(c_viewer_minutes) AS viewerMinutes,
  argMaxIf(c_last_followers, c_last_followers_at, isNotNull(c_last_followers)) AS lastFollowers,
  sum(c_follower_delta) AS followerDelta,
  sum(c_chat_messages) AS chatMessages,
  max(c_max_unique_chatters) AS uniqueChatters,
  if(sum(c_sampled_windows) = 0, NULL, sum(c_sum_engagement_rate) / sum(c_sampled_windows)) AS engagementRate,
  argMaxIf(c_last_paid_subscribers, c_last_paid_subscribers_at, isNotNull(c_last_paid_subscribers)) AS lastPaidSubscribers,
  if(sum(c_paid_subscriber_windows) = 0, NULL, sum(c_paid_subscriber_delta)) AS paidSubscriberDelta,
  argMaxIf(c_last_subscription_points, c_last_paid_subscribers_at, isNotNull(c_last_paid_subscribers)) AS lastSubscriptionPoints,
  min(c_min_chat_sampling_rate) AS chatSamplingRate`;

/**
 * End of a channel's newest rollup hour at or after {rollFrom} (1970-01-01 01:00 when there is none), as a
 * scalar subquery. Restricting it to the range changes nothing the reader uses (a newer row lies in the
 * range too; with none there, the range has no rollup rows) and reads only the range's granules.
 */
export const SEALED_END = `(SELECT max(bucket_start) + INTERVAL 1 HOUR FROM metrics_1h_rollup
  WHERE platform = {platform:String} AND channel_id = {channelId:String} AND bucket_start >= {rollFrom:DateTime('UTC')})`;

const RESEAL = `
  INSERT INTO metrics_1h_rollup (platform, channel_id, bucket_start, windows, live_windows, samples, sampled_windows,
    sum_avg_viewers, peak_viewers, min_viewers, viewer_minutes, last_followers, last_followers_at, follower_delta,
    chat_messages, max_unique_chatters, sum_engagement_rate, last_paid_subscribers, last_paid_subscribers_at,
    last_subscription_points, paid_subscriber_windows, paid_subscriber_delta, min_chat_sampling_rate, source_version, version)
  SELECT platform, channel_id, toStartOfHour(window_start) AS c_bucket, ${WINDOW_PARTS},
         max(version) AS c_source_version, max(version) * 2048 + count() AS c_version
  FROM (
    SELECT platform, channel_id, window_start, samples, avg_viewers, peak_viewers, min_viewers, viewer_minutes, followers,
           follower_delta, chat_messages, unique_chatters, engagement_rate, live, paid_subscribers, paid_subscriber_delta,
           subscription_points, chat_sampling_rate, version
    FROM metrics_1m
    WHERE platform IN {platforms:Array(String)} AND channel_id IN {channelIds:Array(String)}
      AND window_start >= {from:DateTime('UTC')} AND window_start < {to:DateTime('UTC')}
    ORDER BY platform, channel_id, window_start, version DESC
    LIMIT 1 BY platform, channel_id, window_start
  )
  WHERE has({keys:Array(String)}, concat(platform, ':', channel_id))
  GROUP BY platform, channel_id, c_bucket`;

export interface RollupChannel {
  platform: string;
  channelId: string;
}

const keyOf = (c: RollupChannel) => `${c.platform}:${c.channelId}`;

/**
 * (Re)computes the rollup of the hours in [fromMs, toMs) (both hour-aligned) of `channels` from their
 * current windows in metrics_1m. Idempotent; hours without windows get no row. The caller asserts the
 * hours are complete (no window of them is still to be written).
 */
export async function resealHours(repo: ClickHouseRepository, channels: RollupChannel[], fromMs: number, toMs: number): Promise<void> {
  if (channels.length === 0 || toMs <= fromMs) return;
  await repo.command('reseal metrics_1h_rollup', RESEAL, {
    platforms: [...new Set(channels.map((c) => c.platform))],
    channelIds: [...new Set(channels.map((c) => c.channelId))],
    keys: channels.map(keyOf),
    from: chDateTime(fromMs),
    to: chDateTime(toMs),
  });
}

/** Per channel ("platform:channelId"), the end of its newest rollup hour in ms; 0 when it has none. */
export async function sealedThrough(repo: ClickHouseRepository, channels: RollupChannel[]): Promise<Map<string, number>> {
  const out = new Map<string, number>(channels.map((c) => [keyOf(c), 0]));
  if (channels.length === 0) return out;
  const rows = await repo.query<{ k: string; sealed: number }>(
    'rollup sealed through',
    `SELECT concat(platform, ':', channel_id) AS k, toUnixTimestamp(max(bucket_start)) * 1000 + ${HOUR_MS} AS sealed
     FROM metrics_1h_rollup
     WHERE platform IN {platforms:Array(String)} AND channel_id IN {channelIds:Array(String)}
     GROUP BY platform, channel_id`,
    { platforms: [...new Set(channels.map((c) => c.platform))], channelIds: [...new Set(channels.map((c) => c.channelId))] },
  );
  for (const r of rows) if (out.has(r.k)) out.set(r.k, Number(r.sealed));
  return out;
}

/**
 * After a batch write of windows in [fromMs, toMs) that are final (the backfill): re-seals, per channel,
 * every complete hour from its newest rollup hour (or the batch's first hour, if earlier; the whole
 * history when it has none) up to the hour of `toMs` — that one too when it was sealed before — so no
 * unsealed or outdated hour is left below a sealed one.
 */
export async function sealAfterBatch(repo: ClickHouseRepository, channels: RollupChannel[], fromMs: number, toMs: number): Promise<void> {
  const sealed = await sealedThrough(repo, channels);
  const groups = new Map<string, { lo: number; hi: number; channels: RollupChannel[] }>();
  for (const c of channels) {
    const s = sealed.get(keyOf(c)) ?? 0;
    const lo = s === 0 ? 0 : Math.min(s, floorHour(fromMs));
    const hi = s >= ceilHour(toMs) ? ceilHour(toMs) : floorHour(toMs);
    const g = groups.get(`${lo}:${hi}`) ?? { lo, hi, channels: [] };
    g.channels.push(c);
    groups.set(`${lo}:${hi}`, g);
  }
  for (const g of groups.values()) await resealHours(repo, g.channels, g.lo, g.hi);
}
