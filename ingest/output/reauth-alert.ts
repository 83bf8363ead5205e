import type { Redis } from 'ioredis';
import type { Alert } from '../../shared/events/events';
import type { EventProducer } from './event.producer';
import type { IngestConnection } from '../ingest.ports';

/** Alerts are raised by the worker that hits the error and by every process that hears the event: one must win. */
const ALERT_CLAIM_TTL_SECONDS = 7 * 86_400;

export function reauthAlert(conn: Pick<IngestConnection, 'connectionId' | 'userId' | 'platform' | 'channelId' | 'updatedAt'>, now = Date.now()): Alert {
  // The id names the episode: the connection's last status change when known, else the day.
  const episode = conn.updatedAt !== undefined ? String(conn.updatedAt) : new Date(now).toISOString().slice(0, 10);
  return {
    alertId: `${conn.connectionId}:reauth_required:${episode}`,
    type: 'reauth_required',
    userId: conn.userId,
    platform: conn.platform,
    channelId: conn.channelId,
    occurredAt: now,
    severity: 'critical',
    message: `Your ${conn.platform} connection needs to be re-authorised: we cannot read the channel until you reconnect it.`,
    detailsJson: JSON.stringify({ connectionId: conn.connectionId }),
  };
}

/**
 * Produces a reauth_required alert at most once per episode across processes: a Redis claim (SET NX)
 * is taken before producing and released if producing fails, so a failure does not swallow the alert.
 */
export async function raiseReauthAlert(redis: Redis, redisKeyPrefix: string, producer: EventProducer, alert: Alert): Promise<boolean> {
  const claim = `${redisKeyPrefix}:ingest:alerted:${alert.alertId}`;
  const won = await redis.set(claim, '1', 'EX', ALERT_CLAIM_TTL_SECONDS, 'NX');
  if (won !== 'OK') return false;
  try {
    await producer.send([{ topic: 'alerts', key: alert.userId, eventId: alert.alertId, value: alert }]);
    return true;
  } catch (err) {
    await redis.del(claim).catch(() => undefined);
    throw err;
  }
}
