import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../../shared/logging/logger';

/** The contract's connection event (platforms/connections/connection-events.ts publishes it). */
export const ConnectionEventSchema = z.object({
  type: z.enum(['connected', 'disconnected', 'reauth_required']),
  connectionId: z.string().min(1),
  userId: z.string().min(1),
  platform: z.string().min(1),
  channelId: z.string().min(1),
});
export type ConnectionEvent = z.infer<typeof ConnectionEventSchema>;

export const connectionEventsChannel = (redisKeyPrefix: string) => `${redisKeyPrefix}:connections:events`;

/**
 * Listens to connection events on Redis pub/sub and hands each valid one to `onEvent`, one at a time
 * in arrival order (a connect quickly followed by a disconnect must not be applied the other way round).
 * Pub/sub is fire-and-forget: events published while no ingest process listens are lost, which is
 * why the scheduler also reconciles on start-up and periodically.
 */
export class ConnectionEventsListener {
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly subscriber: Redis,
    private readonly redisKeyPrefix: string,
    private readonly onEvent: (e: ConnectionEvent) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const channel = connectionEventsChannel(this.redisKeyPrefix);
    this.subscriber.on('message', (ch: string, message: string) => {
      if (ch !== channel || this.closed) return;
      let event: ConnectionEvent;
      try {
        event = ConnectionEventSchema.parse(JSON.parse(message));
      } catch (err) {
        this.logger.warn({ module: 'ingest-connection-events', err }, 'ignored an invalid connection event');
        return;
      }
      this.chain = this.chain.then(() =>
        this.onEvent(event).catch((err: unknown) =>
          this.logger.error({ module: 'ingest-connection-events', type: event.type, connectionId: event.connectionId, err }, 'connection event handling failed; reconciliation will catch up'),
        ),
      );
    });
    await this.subscriber.subscribe(channel);
  }

  /** Resolves when every event received so far has been handled. */
  idle(): Promise<void> {
    return this.chain;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    this.subscriber.disconnect();
  }
}
