import crypto from 'node:crypto';
import { isoOf } from '../schemas/common.schemas';
import type { MetricSeriesT } from '../schemas/responses.schemas';
import type { SeriesRow } from './metrics.repository';

export type SeriesPoint = MetricSeriesT['points'][number];

/** One bucket of the series as the API answers it (MetricPoint in responses.schemas.ts). */
export const pointOf = (r: SeriesRow): SeriesPoint => ({
  start: isoOf(r.bucket)!,
  liveMinutes: r.liveMinutes,
  samples: r.sampleCount,
  avgViewers: r.avgViewers,
  peakViewers: r.peakViewers,
  minViewers: r.minViewers,
  viewerMinutes: r.viewerMinutes,
  followers: r.lastFollowers,
  followerDelta: r.followerDelta,
  chatMessages: r.chatMessages,
  uniqueChatters: r.uniqueChatters,
  engagementRate: r.engagementRate,
  chatSamplingRate: r.chatSamplingRate,
  chatSampled: r.chatSamplingRate < 1,
  paidSubscribers: r.lastPaidSubscribers,
  paidSubscriberDelta: r.paidSubscriberDelta,
  subscriptionPoints: r.lastSubscriptionPoints,
});

/** A series' `points` array as JSON bytes, with a hash of them (the body's ETag is derived from it). */
export interface PointsJson {
  json: Buffer;
  hash: string;
}

/**
 * Each row's point as JSON, kept per row object: the series of a miss shares the rows of its sealed
 * buckets with the misses before it (readSeriesSealed keeps them with the channel's sealed hours), so
 * only its edge buckets are serialized again. Rows are never changed once made.
 */
const pointJson = new WeakMap<SeriesRow, string>();
const pointJsonOf = (r: SeriesRow): string => {
  let j = pointJson.get(r);
  if (j === undefined) pointJson.set(r, (j = JSON.stringify(pointOf(r))));
  return j;
};

/** Serializes the points once (the same text as JSON.stringify of the points); the series cache keeps the result with its entry, so a hit does no JSON work. */
export function pointsJsonOf(rows: readonly SeriesRow[]): PointsJson {
  const json = Buffer.from(`[${rows.map(pointJsonOf).join(',')}]`);
  return { json, hash: crypto.createHash('sha1').update(json).digest('base64url') };
}
