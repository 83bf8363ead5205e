/**
 * Platform-layer overheads (issue 3): `npx tsx bench/platforms.bench.ts [--n 2000] [--concurrency 16]`
 * against the native stack's Redis and an in-process simulator.
 *
 *  1. TokenProvider.getAccessToken on a fresh token (Redis HGET meta + HGET tokens + AES-GCM decrypt)
 *     vs. the baseline of the two bare HGETs on the same keys: the price of encryption at rest.
 *  2. A Helix poll (GET /helix/streams) through the adapter with the Redis-shared Ratelimit bucket
 *     (two EVALs around the call) vs. the same call with the in-process bucket: the price of sharing
 *     the bucket across workers.
 * Server, client and Redis share this machine's cores; the ratios are the point.
 */
import { parseArgs } from '../shared/lifecycle/process.contract';
import { createRedis } from '../shared/redis/redis';
import { endpointsAt } from '../platforms/endpoints';
import { createPlatformServices } from '../platforms/platform-services';
import { adapterFor } from '../platforms/registry';
import { authorizeViaRedirect } from '../platforms/simulator/demo-seed';
import { startSimulator } from '../platforms/simulator/simulator.server';
import { TwitchService } from '../platforms/twitch/twitch.adapter';
import { testConfig } from '../test/support/stack';
import { emitBenchResult, figure } from './bench-result';

const args = parseArgs(process.argv.slice(2));
const N = Number(args.flags.n ?? 2000);
const C = Number(args.flags.concurrency ?? 16);
// Warm-up rounds a quarter of the measured ones: JIT and keep-alive sockets are warm well before (they
// were full rounds, a third of the bench's wall time).
const WARM_UP = Math.max(100, Math.round(N / 4));

async function rate(what: string, fn: () => Promise<unknown>, n = N): Promise<number> {
  for (let i = 0; i < 50; i++) await fn(); // warm-up
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: C }, async () => {
    while (next++ < n) await fn();
  }));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const perSec = n / s;
  console.log(`${what.padEnd(58)} ${perSec.toFixed(0).padStart(8)} ops/s`);
  return perSec;
}

async function main(): Promise<void> {
  const sim = await startSimulator({ seed: 42, channels: 4, config: { twitchRateLimit: { points: 1_000_000, windowMs: 60_000 } } });
  const config = testConfig({ PLATFORMS_MODE: 'simulator' });
  const redis = createRedis(config.REDIS_URL);
  const p = createPlatformServices(config, redis, undefined, { endpoints: endpointsAt(sim.url) });
  try {
    const redirectUri = 'http://127.0.0.1:9/cb';
    const { url, state } = await p.streaming.getAuthorizationUrl('twitch', { userId: 'bench', redirectUri });
    const { code } = await authorizeViaRedirect(url);
    const conn = await p.streaming.connectPlatform('twitch', code, { userId: 'bench', redirectUri, state });
    const key = p.connections.key(conn.connectionId);

    console.log(`n=${N} concurrency=${C}`);
    await rate('(warm-up) getAccessToken', () => p.tokens.getAccessToken(conn.connectionId), WARM_UP);
    const base = await rate('baseline: 2 × HGET (meta, tokens)', () => Promise.all([redis.hget(key, 'meta'), redis.hget(key, 'tokens')]));
    const tok = await rate('TokenProvider.getAccessToken (HGETs + AES-256-GCM decrypt)', () => p.tokens.getAccessToken(conn.connectionId));
    console.log(`  ratio baseline / getAccessToken throughput = ${(base / tok).toFixed(2)}`);

    const token = await p.tokens.getAccessToken(conn.connectionId);
    const local = new TwitchService({ clientId: config.TWITCH_CLIENT_ID, clientSecret: 'x', authBaseUrl: sim.url, apiBaseUrl: sim.url, eventSubUrl: `${sim.url.replace('http', 'ws')}/ws`, timeoutMs: 5000 });
    const shared = adapterFor('twitch', p.platforms);
    // Warm both paths first (JIT, keep-alive sockets), then measure alternately.
    await rate('(warm-up) in-process', () => local.streamState(token, conn.channelId), WARM_UP);
    await rate('(warm-up) shared', () => shared.streamState(token, conn.channelId), WARM_UP);
    const l = await rate('baseline: Helix streams poll, in-process bucket', () => local.streamState(token, conn.channelId));
    const s = await rate('Helix streams poll, Redis-shared bucket', () => shared.streamState(token, conn.channelId));
    console.log(`  ratio in-process / shared throughput = ${(l / s).toFixed(2)} (>1: sharing costs)`);
    emitBenchResult({
      bench: 'platforms', params: { n: N, concurrency: C },
      figures: [
        figure('TokenProvider.getAccessToken (HGETs + AES-256-GCM decrypt)', tok, 'ops/s', '2 × bare HGET on the same keys', base),
        figure('Helix streams poll, Redis-shared rate-limit bucket', s, 'ops/s', 'same poll, in-process bucket', l),
      ],
    });
    await local.close();
  } finally {
    const keys = await redis.keys(`${config.REDIS_KEY_PREFIX}:*`);
    if (keys.length) await redis.del(...keys);
    await p.close();
    redis.disconnect();
    await sim.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
