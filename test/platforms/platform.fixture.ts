/**
 * A platform test bench: an in-process simulator on a random port, an isolated Redis prefix
 * (testConfig), and the platform services of a "process" pointed at the simulator. Several benches
 * can share one simulator and one prefix to play several workers.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../../shared/config/config';
import type { Logger } from '../../shared/logging/logger';
import { createRedis } from '../../shared/redis/redis';
import { endpointsAt } from '../../platforms/endpoints';
import { createPlatformServices, PlatformServices } from '../../platforms/platform-services';
import { authorizeViaRedirect } from '../../platforms/simulator/demo-seed';
import { startSimulator, Simulator, SimulatorOptions } from '../../platforms/simulator/simulator.server';
import type { Connection } from '../../platforms/connections/connection.repository';
import { testConfig } from '../support/stack';

export interface Worker extends PlatformServices {
  redis: Redis;
}

export interface Bench {
  config: Config;
  sim: Simulator;
  /** The first worker; more with `worker()`. */
  w: Worker;
  worker(logger?: Logger): Worker;
  connect(platform: 'twitch' | 'youtube', userId: string, loginHint?: string, w?: Worker): Promise<Connection>;
  redirectUri(platform: string): string;
  cleanup(): Promise<void>;
}

export async function platformBench(o: { sim?: Partial<SimulatorOptions>; config?: Record<string, string>; now?: () => number } = {}): Promise<Bench> {
  const sim = await startSimulator({ seed: 42, channels: 8, ...o.sim });
  const config = testConfig({ PLATFORMS_MODE: 'simulator', PLATFORM_HTTP_TIMEOUT_MS: '3000', ...o.config });
  const workers: Worker[] = [];
  const worker = (logger?: Logger): Worker => {
    const redis = createRedis(config.REDIS_URL);
    const services = createPlatformServices(config, redis, logger, { endpoints: endpointsAt(sim.url), now: o.now });
    const w = { ...services, redis };
    workers.push(w);
    return w;
  };
  const w = worker();
  const redirectUri = (p: string) => `http://127.0.0.1:9/v1/connections/${p}/callback`;
  return {
    config,
    sim,
    w,
    worker,
    redirectUri,
    async connect(platform, userId, loginHint, via = w) {
      const { url } = await via.streaming.getAuthorizationUrl(platform, { userId, redirectUri: redirectUri(platform) });
      const { code, state } = await authorizeViaRedirect(url, loginHint);
      return via.streaming.connectPlatform(platform, code, { userId, redirectUri: redirectUri(platform), state });
    },
    async cleanup() {
      const redis = w.redis;
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${config.REDIS_KEY_PREFIX}:*`, 'COUNT', 500);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
      for (const x of workers) {
        await x.close();
        x.redis.disconnect();
      }
      await sim.close();
    },
  };
}

/** A channel of the simulated world on `platform` (by index among that platform's channels). */
export const simChannel = (sim: Simulator, platform: 'twitch' | 'youtube', i = 0) => sim.world.channels.filter((c) => c.platform === platform)[i]!;
