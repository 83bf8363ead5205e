import type { Alert, MetricWindow } from '../../shared/events/events';
import { alertIds, RaisedAlert } from '../alerts/alert.rules';
import type { DlqItem } from '../pipeline/shard';
import { WINDOW_MS, type Position } from '../state/processor-event';
import type { ClosedWindow } from '../state/window.accumulator';
import type { DlqMessage, SessionRow } from './outputs';

/** The processor's results as the records other parts read: DLQ messages, alerts and MetricWindows. */

export function dlqMessage(p: DlqItem, pos: Position): DlqMessage {
  return {
    key: p.key,
    value: p.value,
    headers: {
      ...p.headers,
      'x-dlq-reason': p.reason,
      'x-dlq-detail': p.detail.slice(0, 500),
      'x-dlq-topic': pos.topic,
      'x-dlq-partition': String(pos.partition),
      'x-dlq-offset': String(pos.offset),
    },
  };
}

export function endedAlert(s: SessionRow): RaisedAlert {
  const hours = s.hoursWatched;
  return {
    alertId: alertIds.streamEnded(s.platform, s.channelId, s.streamId),
    type: 'stream_ended',
    userId: s.userId,
    platform: s.platform,
    channelId: s.channelId,
    occurredAt: s.endedAt ?? s.startedAt,
    severity: 'info',
    message: `Stream ended after ${Math.round(s.durationSeconds / 60)} min: peak ${s.peakViewers} viewers, ${hours.toFixed(1)} hours watched`,
    details: {
      streamId: s.streamId, startedAt: s.startedAt, endedAt: s.endedAt, durationSeconds: s.durationSeconds, peakViewers: s.peakViewers,
      avgViewers: s.avgViewers, hoursWatched: s.hoursWatched, followersGained: s.followersGained, chatMessages: s.chatMessages,
      title: s.title, category: s.category,
    },
  };
}

export function toAlert(a: RaisedAlert): Alert {
  return {
    alertId: a.alertId, type: a.type, userId: a.userId, platform: a.platform, channelId: a.channelId, occurredAt: a.occurredAt,
    severity: a.severity, message: a.message, detailsJson: JSON.stringify(a.details),
  };
}

/** `running`: the session's running summary of this flush, carried only by its newest closed window. */
export function toMetricWindow(w: ClosedWindow, running: SessionRow | undefined, provisional = false): MetricWindow {
  // Only the session's newest closed window carries its running figures (older ones of a catch-up do not).
  const session = running && running.streamId === w.streamId && Math.abs(running.startedAt + running.durationSeconds * 1000 - (w.windowStart + WINDOW_MS)) < 1000
    ? {
      streamId: running.streamId, startedAt: running.startedAt, durationSeconds: running.durationSeconds, peakViewers: running.peakViewers,
      avgViewers: running.avgViewers, hoursWatched: running.hoursWatched, followersGained: running.followersGained, chatMessages: running.chatMessages,
      paidSubscribersGained: running.paidSubscribersGained ?? null,
    }
    : null;
  return {
    session,
    provisional,
    platform: w.platform, channelId: w.channelId, userId: w.userId, windowStart: w.windowStart, samples: w.samples,
    avgViewers: w.avgViewers, peakViewers: w.peakViewers, minViewers: w.minViewers, viewerMinutes: w.viewerMinutes,
    followers: w.followers, followerDelta: w.followerDelta, chatMessages: w.chatMessages, uniqueChatters: w.uniqueChatters,
    engagementRate: w.engagementRate, live: w.live, chatSamplingRate: w.chatSamplingRate ?? 1,
    // Null (not 0) when not read: no channel:read:subscriptions, or a platform without paid subscribers.
    paidSubscribers: w.paidSubscribers ?? null,
    paidSubscriberDelta: w.paidSubscribers == null ? null : (w.paidSubscriberDelta ?? 0),
    subscriptionPoints: w.paidSubscribers == null ? null : (w.subscriptionPoints ?? null),
  };
}
