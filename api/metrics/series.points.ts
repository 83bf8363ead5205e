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

/** Serializes the points once; the series cache keeps the result with its entry, so a hit does no JSON work. */
export function pointsJsonOf(rows: readonly SeriesRow[]): PointsJson {
  const json = Buffer.from(JSON.stringify(rows.map(pointOf)));
  return { json, hash: crypto.createHash('sha1').update(json).digest('base64url') };
}
