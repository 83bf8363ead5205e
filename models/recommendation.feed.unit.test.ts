import { EventEmitter } from 'node:events';
import { createLogger } from '../shared/logging/logger';
import type { ChannelRef } from './channel-history';
import type { SlotRecommendation } from './model.registry';
import { InsufficientDataError } from './errors';
import { startRecommendationFeed } from './recommendation.feed';

/** The feed's own logic; the registry it listens to is exercised for real in models.integration.test.ts. */
class FakeRegistry extends EventEmitter {
  async recommendSlots(channel: ChannelRef): Promise<SlotRecommendation> {
    if (channel.channelId === 'tiny') throw new InsufficientDataError('insufficient data', { have: 1, need: 3, what: 'sessions' });
    return { channel, generatedAt: 'now', slots: [], top: [], model: { name: 'timing', version: 'v2' } };
  }
}

describe('recommendation feed', () => {
  it('on a new timing model publishes one recommendation per channel with enough history, and nothing for viewer reloads', async () => {
    const registry = new FakeRegistry();
    const published: Array<{ userId: string; data: SlotRecommendation }> = [];
    const stop = startRecommendationFeed(registry, {
      channels: async () => [
        { userId: 'alice', channel: { platform: 'twitch', channelId: '1' } },
        { userId: 'bob', channel: { platform: 'twitch', channelId: 'tiny' } },
      ],
      publish: (m) => published.push(m),
      logger: createLogger('silent'),
    });
    registry.emit('reloaded', { model: 'viewers', version: 'v1' });
    await new Promise((r) => setImmediate(r));
    expect(published).toHaveLength(0);
    registry.emit('reloaded', { model: 'timing', version: 'v2' });
    await new Promise((r) => setTimeout(r, 20));
    expect(published.map((m) => [m.userId, m.data.channel.channelId])).toEqual([['alice', '1']]);
    stop();
    registry.emit('reloaded', { model: 'timing', version: 'v3' });
    await new Promise((r) => setTimeout(r, 20));
    expect(published).toHaveLength(1);
  });
});
