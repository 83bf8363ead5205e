import type { Redis } from 'ioredis';

/**
 * Remembers which user started an OAuth authorisation, by its `state`, for the callback: the platform
 * redirects the user's browser there, and a browser navigation carries no Bearer token. The state is
 * an unguessable, single-use value bound to one user (StreamingService checks the binding again), so
 * possessing it is what authenticates that one request — the usual OAuth CSRF defence.
 */
export class OAuthStateStore {
  constructor(private readonly redis: Redis, private readonly prefix: string, private readonly ttlSeconds = 600) {}

  private key(state: string) {
    return `${this.prefix}:api:oauth-state:${state}`;
  }

  async remember(state: string, userId: string): Promise<void> {
    await this.redis.set(this.key(state), userId, 'EX', this.ttlSeconds);
  }

  /** The user the state was issued to, once: a second call answers null. */
  async take(state: string): Promise<string | null> {
    return (await this.redis.getdel(this.key(state))) ?? null;
  }

  async peek(state: string): Promise<string | null> {
    return this.redis.get(this.key(state));
  }
}
