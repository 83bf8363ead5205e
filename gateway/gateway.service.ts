import type { ServiceModule } from '../shared/lifecycle/process.contract';
import { ApiTokenStore } from '../shared/auth/api-tokens';
import { acquireMetricsServer } from '../shared/metrics/metrics.server';
import { createRedis } from '../shared/redis/redis';
import { ConnectionRepository } from '../platforms/connections/connection.repository';
import { TokenCipher } from '../platforms/tokens/token-cipher';
import { ConnectionOwnership } from './channel-ownership';
import { GatewayServer } from './gateway.server';
import { ClickHouseRepository } from '../shared/clickhouse/clickhouse.repository';
import { readOnlyClickhouseSettingsOf } from '../shared/runtime';
import { ModelRegistry, startRecommendationFeed } from '../models';

/** `spacehub gateway`: the composition root of one gateway instance (scale out by running more). */
export const gatewayService: ServiceModule = {
  name: 'gateway',
  describe: 'live WebSocket feed on GATEWAY_PORT: plain JSON at /ws and Socket.IO at /socket.io/ (uWebSockets.js)',
  inAll: true,
  async start(rt) {
    const c = rt.config;
    const redis = createRedis(c.REDIS_URL);
    // The gateway only reads connection metadata; the cipher is needed by the repository's constructor.
    const connections = new ConnectionRepository(redis, c.REDIS_KEY_PREFIX, TokenCipher.fromKeyRing(c.TOKEN_ENCRYPTION_KEYS));
    const gateway = new GatewayServer(rt, { tokens: new ApiTokenStore(redis, c.REDIS_KEY_PREFIX), ownership: new ConnectionOwnership(connections) });
    try {
      await gateway.start();
    } catch (err) {
      await gateway.close();
      redis.disconnect();
      throw err;
    }
    // `recommendation` events: each time a new timing model is loaded, every active channel's next
    // best slots go to its owner (channels with too little history are skipped, never guessed).
    const modelsRepo = new ClickHouseRepository(readOnlyClickhouseSettingsOf(c));
    const models = new ModelRegistry(modelsRepo, {
      modelsDir: c.MODELS_DIR,
      reloadIntervalMs: c.MODELS_RELOAD_INTERVAL_MS,
      backend: c.MODELS_BACKEND,
      logger: rt.logger,
    });
    const stopFeed = startRecommendationFeed(models, {
      channels: async () => (await connections.listActive()).map((x) => ({ userId: x.userId, channel: { platform: x.platform, channelId: x.channelId } })),
      publish: (m) => gateway.publish(m),
      logger: rt.logger,
    });
    await models.start();
    // Prometheus on METRICS_PORT (shared with the other services of this process), not on the WebSocket port.
    const metrics = await acquireMetricsServer(c.METRICS_PORT);
    const http = `http://${c.GATEWAY_HOST}:${gateway.port}`;
    return {
      urls: { 'gateway ws': `${gateway.url}/ws`, 'socket.io': `${http}/socket.io/` },
      async close() {
        stopFeed();
        await metrics.close();
        try {
          await gateway.close();
        } finally {
          await models.close().catch(() => undefined);
          await modelsRepo.close().catch(() => undefined);
          redis.disconnect();
        }
      },
    };
  },
};
