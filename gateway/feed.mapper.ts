import { parseAlertDetails } from '../shared/events/alert-details';
import type { ChannelRecordRef } from '../shared/events/channel-audience';
import type { Alert, MetricWindow } from '../shared/events/events';
import type { AlertNotification, ServerEvent, StreamNotification } from './gateway.protocol';

/**
 * Kafka records → what clients receive. stream_started/stream_ended alerts become
 * `stream_notification` (the end carries the session summary from the alert's detailsJson); other
 * alert types go out as `alert`; each closed window of a user's channel is a `metrics_update`.
 */
export interface FeedMessage {
  userId: string;
  event: ServerEvent;
  data: object;
  /**
   * A channel's record: it goes to the channel's owners at delivery time (FeedRouter), not to
   * `userId` (only the owner whose connection polled it). Absent = for `userId` alone (recommendations).
   */
  audience?: ChannelRecordRef;
}


export function alertToFeed(a: Alert): FeedMessage {
  const details = parseAlertDetails(a.detailsJson);
  const base = { alertId: a.alertId, userId: a.userId, platform: a.platform, channelId: a.channelId, occurredAt: Number(a.occurredAt), message: a.message };
  const audience: ChannelRecordRef = { type: a.type, userId: a.userId, platform: a.platform, channelId: a.channelId };
  if (a.type === 'stream_started') {
    const data: StreamNotification = { type: 'start', ...base, details };
    return { userId: a.userId, event: 'stream_notification', data, audience };
  }
  if (a.type === 'stream_ended') {
    // The processors' stream_ended details are the session summary (processors/sink/records.ts endedAlert).
    const data: StreamNotification = { type: 'end', ...base, summary: details };
    return { userId: a.userId, event: 'stream_notification', data, audience };
  }
  const data: AlertNotification = { ...base, type: a.type, severity: a.severity, details };
  return { userId: a.userId, event: 'alert', data, audience };
}

export function windowToFeed(w: MetricWindow): FeedMessage {
  return {
    userId: w.userId,
    event: 'metrics_update',
    data: { ...w, windowStart: Number(w.windowStart), windowEnd: Number(w.windowStart) + 60_000 },
    audience: { userId: w.userId, platform: w.platform, channelId: w.channelId },
  };
}
