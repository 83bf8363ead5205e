/**
 * Connection events on Redis pub/sub (`${REDIS_KEY_PREFIX}:connections:events`): ingest starts and
 * stops polling on them, the alerting side tells the creator when a connection needs re-authorisation.
 * Pub/sub is fire-and-forget; consumers also reconcile from ConnectionRepository.listActive().
 */
import type { Redis } from 'ioredis';

export type ConnectionEventType = 'connected' | 'disconnected' | 'reauth_required';

export interface ConnectionEvent {
  type: ConnectionEventType;
  connectionId: string;
  userId: string;
  platform: string;
  channelId: string;
}

export const connectionEventsChannel = (prefix: string) => `${prefix}:connections:events`;

export async function publishConnectionEvent(redis: Redis, prefix: string, event: ConnectionEvent): Promise<void> {
  const { type, connectionId, userId, platform, channelId } = event;
  await redis.publish(connectionEventsChannel(prefix), JSON.stringify({ type, connectionId, userId, platform, channelId }));
}

/**
 * Subscribes with a dedicated connection (a subscribed ioredis client can do nothing else): pass a
 * fresh client, e.g. `redis.duplicate()`. Returns an unsubscribe that also closes that client.
 */
export async function subscribeConnectionEvents(subscriber: Redis, prefix: string, handler: (e: ConnectionEvent) => void): Promise<() => Promise<void>> {
  const channel = connectionEventsChannel(prefix);
  const onMessage = (ch: string, message: string) => {
    if (ch !== channel) return;
    try {
      const e = JSON.parse(message) as ConnectionEvent;
      if (e && typeof e.connectionId === 'string' && typeof e.type === 'string') handler(e);
    } catch {
      /* not ours: ignore */
    }
  };
  subscriber.on('message', onMessage);
  await subscriber.subscribe(channel);
  return async () => {
    subscriber.off('message', onMessage);
    await subscriber.unsubscribe(channel).catch(() => undefined);
    subscriber.disconnect();
  };
}
