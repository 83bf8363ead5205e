import type { Logger } from '../shared/logging/logger';
import type { ChannelRef } from './channel-history';
import type { ModelRegistry, SlotRecommendation } from './model.registry';
import { InsufficientDataError } from './errors';

/**
 * Pushes fresh recommendations when a new timing model is loaded: for every (user, channel) the caller
 * lists, recommendSlots() and publish as a `recommendation` message. Shaped for the gateway's
 * `GatewayServer.publish({ userId, event, data })`, but knows nothing of it. Channels with too little
 * history are skipped (no made-up numbers); one failing channel does not stop the others.
 */
export interface RecommendationFeedDeps {
  /** The channels to refresh, with their owners (e.g. the active connections). */
  channels(): Promise<Array<{ userId: string; channel: ChannelRef }>>;
  publish(msg: { userId: string; event: 'recommendation'; data: SlotRecommendation }): void;
  logger: Logger;
}

export interface RecommendationSource extends Pick<ModelRegistry, 'recommendSlots'> {
  on(event: 'reloaded', listener: (e: { model: string; version: string }) => void): unknown;
  off(event: 'reloaded', listener: (e: { model: string; version: string }) => void): unknown;
}

/** Starts listening; returns the function that stops it. */
export function startRecommendationFeed(registry: RecommendationSource, deps: RecommendationFeedDeps): () => void {
  const log = deps.logger.child({ module: 'models.feed' });
  const onReloaded = ({ model, version }: { model: string; version: string }) => {
    if (model !== 'timing') return;
    void refreshAll(registry, deps).then(
      (n) => log.info({ version, published: n }, 'recommendations pushed after a model reload'),
      (err: unknown) => log.error({ version, err }, 'recommendation push failed'),
    );
  };
  registry.on('reloaded', onReloaded);
  return () => void registry.off('reloaded', onReloaded);
}

/** One pass over the channels; returns how many recommendations were published. */
export async function refreshAll(registry: Pick<ModelRegistry, 'recommendSlots'>, deps: Omit<RecommendationFeedDeps, 'logger'> & { logger?: Logger }): Promise<number> {
  let published = 0;
  for (const { userId, channel } of await deps.channels()) {
    try {
      deps.publish({ userId, event: 'recommendation', data: await registry.recommendSlots(channel) });
      published++;
    } catch (err) {
      if (!(err instanceof InsufficientDataError)) deps.logger?.warn({ channel: `${channel.platform}:${channel.channelId}`, err }, 'recommendation failed');
    }
  }
  return published;
}
