/**
 * Composition of the platform side for one process (API, ingest, demo): adapters, encrypted
 * connection store, OAuth state store, token provider and StreamingService, from config and a Redis.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Config } from '../shared/config/config';
import type { Logger } from '../shared/logging/logger';
import { ConnectionRepository } from './connections/connection.repository';
import { OAuthStateStore } from './oauth/oauth-state.store';
import { adapterFor, closeAdapters, PlatformDeps, platformDepsFromConfig } from './registry';
import { StreamingService } from './streaming.service';
import { TokenCipher, TokenCipherError } from './tokens/token-cipher';
import { TokenProvider } from './tokens/token-provider';

export interface PlatformServices {
  platforms: PlatformDeps;
  connections: ConnectionRepository;
  states: OAuthStateStore;
  tokens: TokenProvider;
  streaming: StreamingService;
  close(): Promise<void>;
}

/**
 * TOKEN_ENCRYPTION_KEYS when set. Only in simulator mode outside production, a development key is
 * generated once under STATE_DIR (mode 0600) so `npm start` works without setup; live mode requires the setting.
 */
export function cipherFromConfig(c: Config, logger?: Logger): TokenCipher {
  if (c.TOKEN_ENCRYPTION_KEYS) return TokenCipher.fromKeyRing(c.TOKEN_ENCRYPTION_KEYS);
  if (c.PLATFORMS_MODE !== 'simulator' || c.NODE_ENV === 'production') throw new TokenCipherError('TOKEN_ENCRYPTION_KEYS must be set when talking to the real platforms');
  const file = path.resolve(c.STATE_DIR, 'dev-token-encryption-key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `dev:${TokenCipher.generateKey()}\n`, { mode: 0o600, flag: 'wx' });
    logger?.warn({ module: 'platforms', file }, 'TOKEN_ENCRYPTION_KEYS not set: generated a development key (simulator mode only)');
  }
  return TokenCipher.fromKeyRing(fs.readFileSync(file, 'utf8').trim());
}

export function createPlatformServices(c: Config, redis: Redis, logger?: Logger, overrides: Partial<PlatformDeps> = {}): PlatformServices {
  const platforms: PlatformDeps = { ...platformDepsFromConfig(c, redis, logger), ...overrides };
  const prefix = c.REDIS_KEY_PREFIX;
  const connections = new ConnectionRepository(redis, prefix, cipherFromConfig(c, logger));
  const states = new OAuthStateStore(redis, prefix, c.OAUTH_STATE_TTL_SECONDS);
  const tokens = new TokenProvider({
    redis,
    prefix,
    connections,
    adapterFor: (p) => adapterFor(p, platforms),
    logger,
    refreshSkewMs: c.PLATFORM_TOKEN_REFRESH_SKEW_SECONDS * 1000,
    lockTtlMs: c.PLATFORM_HTTP_TIMEOUT_MS * 2 + 5000,
  });
  const streaming = new StreamingService({ platforms, connections, states, tokens, redis, prefix, logger });
  return { platforms, connections, states, tokens, streaming, close: () => closeAdapters(platforms) };
}
