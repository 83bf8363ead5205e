import type { Redis } from 'ioredis';
import { ApiTokenStore } from '../../shared/auth/api-tokens';
import { createLogger } from '../../shared/logging/logger';
import { createRedis } from '../../shared/redis/redis';
import type { Runtime } from '../../shared/runtime';
import type { StreamSnapshot } from '../../shared/events/events';
import { startApi, RunningApi } from '../../api/api.service';
import { IngestService } from '../../ingest/ingest.service';
import { platformPorts } from '../../ingest/platform.ports';
import type { IngestPorts } from '../../ingest/ingest.ports';
import { endpointsAt } from '../../platforms/endpoints';
import { createPlatformServices, type PlatformServices } from '../../platforms/platform-services';
import { startSimulator, Simulator } from '../../platforms/simulator/simulator.server';
import { simulatorEnv } from '../support/api.harness';
import { eventually, testStack, TestStack } from '../support/stack';
import { FAST_INGEST, TopicCollector } from '../ingest/ingest.harness';

/**
 * Security pass (issue 10): token theft via logs. A creator connects a channel through the REST API's
 * OAuth flow (authorize → platform consent → callback; the spent state replayed), ingest polls it into
 * Kafka, the platform expires the access token so ingest refreshes it — all with every log line at
 * `trace` captured. None of the secrets that passed through may appear in any line.
 */
describe('security: no secret reaches the logs during a full OAuth + ingest flow (real stack)', () => {
  const lines: string[] = [];
  let sim: Simulator;
  let stack: TestStack;
  let rt: Runtime;
  let api: RunningApi;
  let redis: Redis;
  let ports: IngestPorts;
  let platform: PlatformServices;
  let ingest: IngestService | undefined;
  let collector: TopicCollector;
  const PUBLIC = 'http://api.spacehub.test';

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, seed: 11, channels: 4 });
    stack = await testStack({
      ...FAST_INGEST,
      ...simulatorEnv(sim.url), PUBLIC_BASE_URL: PUBLIC,
      TWITCH_CLIENT_SECRET: 'twitch-client-secret-value-0123456789', YOUTUBE_CLIENT_SECRET: 'google-client-secret-value-0123456789',
    });
    // The same runtime, its logger swapped for one at trace level that keeps every line.
    rt = { ...stack.rt, logger: createLogger('trace', { write: (l: string) => void lines.push(l) }) };
    redis = createRedis(rt.config.REDIS_URL);
    platform = createPlatformServices(rt.config, redis, rt.logger, { endpoints: endpointsAt(sim.url) });
    api = await startApi(rt, { port: 0, predictions: null });
    ports = platformPorts(rt.config, rt.logger, { endpoints: endpointsAt(sim.url) });
    collector = new TopicCollector(rt, ['snapshots']);
    await collector.start();
  });
  afterAll(async () => {
    await ingest?.close();
    await ports?.close?.();
    await collector?.stop();
    await api?.close();
    await platform?.close();
    redis?.disconnect();
    await stack?.cleanup();
    await sim?.close();
  });

  it('API tokens, OAuth codes and states, platform access/refresh tokens, client secrets and key material never appear', async () => {
    const users = new ApiTokenStore(redis, rt.config.REDIS_KEY_PREFIX);
    await users.createUser('Alice', 'alice');
    const alice = (await users.createToken('alice')).token;
    const call = async (path: string, token?: string, cookie?: string) => {
      const res = await fetch(`${api.url}${path}`, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(cookie ? { cookie } : {}) }, redirect: 'manual' });
      const text = await res.text();
      return { status: res.status, cookie: res.headers.getSetCookie().map((c) => c.split(';')[0]!)[0], body: text ? JSON.parse(text) : undefined };
    };

    // OAuth through the API, as a browser does it.
    const start = await call('/v1/auth/twitch/authorize', alice);
    expect(start.status).toBe(200);
    const consent = await fetch(start.body.url, { redirect: 'manual' });
    const landing = new URL(consent.headers.get('location')!);
    const code = landing.searchParams.get('code')!;
    const state = landing.searchParams.get('state')!;
    // The browser that started the flow comes back with its binding cookie.
    const done = await call(landing.pathname + landing.search, undefined, start.cookie);
    expect(done.status).toBe(201);
    // OAuth state replay: the spent state (with its code) is refused and connects nothing more.
    expect((await call(landing.pathname + landing.search, undefined, start.cookie)).status).toBe(401);
    expect((await call('/v1/connections', alice)).body.connections).toHaveLength(1);
    const { connectionId, channelId } = done.body as { connectionId: string; channelId: string };
    const first = (await platform.connections.getTokens(connectionId))!;

    // Ingest polls it into Kafka.
    sim.world.forceLive(channelId, true, Date.now() - 10 * 60_000);
    ingest = await IngestService.start(rt, { ports, metricsPort: 0 });
    const snaps = () => collector.of<StreamSnapshot>('snapshots').filter((s) => s.value.channelId === channelId);
    await eventually(async () => snaps().length, (n) => n >= 2, 60_000);

    // The platform expires the token early: ingest's next poll gets a 401, refreshes, retries.
    sim.state.expireChannel('twitch', channelId);
    await eventually(async () => (await platform.connections.getTokens(connectionId))!.accessToken, (t) => t !== first.accessToken, 60_000);
    const refreshed = (await platform.connections.getTokens(connectionId))!;
    const after = snaps().length;
    await eventually(async () => snaps().length, (n) => n >= after + 2, 60_000);

    const all = lines.join('');
    // The capture works: the API, platforms and ingest all logged.
    expect(lines.length).toBeGreaterThan(10);
    expect(all).toMatch(/"module":"ingest/);
    const secrets: Record<string, string> = {
      'API bearer token': alice,
      'OAuth code': code,
      'OAuth state': state,
      'first access token': first.accessToken,
      'first refresh token': first.refreshToken!,
      'refreshed access token': refreshed.accessToken,
      'Twitch client secret': rt.config.TWITCH_CLIENT_SECRET!,
      'YouTube client secret': rt.config.YOUTUBE_CLIENT_SECRET!,
      'token encryption key': rt.config.TOKEN_ENCRYPTION_KEYS!.split(':')[1]!,
    };
    const leaked = Object.entries(secrets).filter(([, v]) => all.includes(v)).map(([k]) => k);
    expect(leaked).toEqual([]);
  });
});
