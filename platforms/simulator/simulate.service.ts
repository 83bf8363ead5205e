/**
 * `spacehub simulate`: runs the platform simulator on SIMULATOR_PORT. In `spacehub all` (npm start) it
 * runs only when PLATFORMS_MODE=simulator, and then connects SIMULATOR_DEMO_CHANNELS channels for a
 * demo user (created if missing) through the real OAuth round trip, so data flows from the first minute.
 */
import type { ServiceModule } from '../../shared/lifecycle/process.contract';
import { ApiTokenStore } from '../../shared/auth/api-tokens';
import { createRedis } from '../../shared/redis/redis';
import { simulatorUrl } from '../endpoints';
import { createPlatformServices } from '../platform-services';
import { pickDemoChannels, seedDemo, showcaseChannels } from './demo-seed';
import { startSimulator } from './simulator.server';

export const DEMO_USER_ID = 'demo';

export const simulateService: ServiceModule = {
  name: 'simulate',
  describe: 'platform simulator (Twitch + YouTube APIs and OAuth) on SIMULATOR_PORT; demo channels in simulator mode',
  inAll: true,
  options: [{ flags: '--force', describe: 'run the simulator even when PLATFORMS_MODE=live' }],
  async start(rt, args) {
    const c = rt.config;
    const log = rt.logger.child({ module: 'simulate' });
    if (c.PLATFORMS_MODE !== 'simulator' && !args.flags.force) {
      log.info('PLATFORMS_MODE=live: simulator not started');
      return { close: async () => undefined };
    }
    const sim = await startSimulator({ port: c.SIMULATOR_PORT, seed: c.SIMULATOR_SEED, channels: c.SIMULATOR_CHANNELS, competition: c.SIMULATOR_COMPETITION });
    const url = simulatorUrl(c);
    if (c.SIMULATOR_DEMO_CHANNELS > 0 && c.PLATFORMS_MODE === 'simulator') {
      const redis = createRedis(c.REDIS_URL);
      const platform = createPlatformServices(c, redis, log);
      try {
        const users = new ApiTokenStore(redis, c.REDIS_KEY_PREFIX);
        if (!(await users.getUser(DEMO_USER_ID))) await users.createUser('Demo creator', DEMO_USER_ID);
        await seedDemo(
          { streaming: platform.streaming, simulatorUrl: url, redirectUri: (p) => `${c.PUBLIC_BASE_URL.replace(/\/$/, '')}/v1/auth/${p}/callback`, logger: log },
          { userId: DEMO_USER_ID, channels: c.SIMULATOR_DEMO_CHANNELS },
        );
        // A demo worth looking at from the first minute: the biggest demo channel of each platform is
        // live (chat and followers move with its audience) whatever the schedule says right now.
        for (const ch of showcaseChannels(pickDemoChannels(sim.world.channels, c.SIMULATOR_DEMO_CHANNELS))) {
          if (!sim.world.stateAt(ch.channelId, Date.now()).live) sim.world.forceLive(ch.channelId, true);
          log.info({ platform: ch.platform, channelId: ch.channelId, login: ch.login }, 'demo channel live');
        }
      } catch (err) {
        log.warn({ err }, 'demo seed failed; the simulator keeps running');
      } finally {
        await platform.close();
        redis.disconnect();
      }
    }
    const urls: Record<string, string> = { simulator: url };
    // The token itself is never printed: it is a secret, and console output ends up in logs.
    if (c.PLATFORMS_MODE === 'simulator') urls['demo login'] = `bin/spacehub tokens create --user ${DEMO_USER_ID}`;
    return { urls, close: () => sim.close() };
  },
};
