import { parseAlertDetails } from '../../shared/events/alert-details';
import type { Alert, MetricWindow } from '../../shared/events/events';
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
}


export function alertToFeed(a: Alert): FeedMessage {
  const details = parseAlertDetails(a.detailsJson);
  const base = { alertId: a.alertId, userId: a.userId, platform: a.platform, channelId: a.channelId, occurredAt: Number(a.occurredAt), message: a.message };
  if (a.type === 'stream_started') {
    const data: StreamNotification = { type: 'start', ...base, details };
    return { userId: a.userId, event: 'stream_notification', data };
  }
  if (a.type === 'stream_ended') {
    // Processors put the summary either at the top of detailsJson or under `summary`.
    const summary = (details.summary && typeof details.summary === 'object' ? details.summary : details) as Record<string, unknown>;
    const data: StreamNotification = { type: 'end', ...base, summary };
    return { userId: a.userId, event: 'stream_notification', data };
  }
  const data: AlertNotification = { ...base, type: a.type, severity: a.severity, details };
  return { userId: a.userId, event: 'alert', data };
}

export function windowToFeed(w: MetricWindow): FeedMessage {
  return {
    userId: w.userId,
    event: 'metrics_update',
    data: { ...w, windowStart: Number(w.windowStart), windowEnd: Number(w.windowStart) + 60_000 },
  };
}
