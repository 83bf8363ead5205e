import type { Redis } from 'ioredis';

/**
 * What keeps one user's webhook endpoints from slowing everyone else's deliveries down (issue 17): the
 * delivery worker's slots are shared by all users, so a user whose endpoints hang (a tarpit) or keep
 * failing would otherwise hold them all. Both guards live in Redis, so they hold across notify processes.
 *
 * - `UserDeliverySlots`: at most `limit` deliveries of one user in flight at once. A slot is a member
 *   of a sorted set scored by its lease's end, so a crashed worker's slot frees itself when the lease
 *   (the attempt's hard deadline plus a margin) runs out.
 * - `EndpointCircuit`: after `failures` retriable failures in a row (timeouts, 5xx, network errors) an
 *   endpoint's circuit opens for `openMs`: its deliveries wait, without attempts, instead of taking
 *   slots; the first delivery after that is the probe (success closes it, failure re-opens it).
 */
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
  return 1
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

export class UserDeliverySlots {
  constructor(private readonly redis: Redis, private readonly prefix: string, readonly limit: number, private readonly leaseMs: number) {}

  private key(userId: string) {
    return `${this.prefix}:notify:inflight:${userId}`;
  }

  /** Takes a slot for this delivery (idempotent per member); false when the user has `limit` in flight. */
  async acquire(userId: string, member: string, now = Date.now()): Promise<boolean> {
    const r = await this.redis.eval(ACQUIRE, 1, this.key(userId), String(now), String(this.limit), member, String(now + this.leaseMs), String(this.leaseMs * 2));
    return Number(r) === 1;
  }

  async release(userId: string, member: string): Promise<void> {
    await this.redis.zrem(this.key(userId), member);
  }
}

export class EndpointCircuit {
  constructor(private readonly redis: Redis, private readonly prefix: string, readonly failures: number, readonly openMs: number) {}

  private key(endpointId: string) {
    return `${this.prefix}:notify:circuit:${endpointId}`;
  }

  /** Epoch ms until which the endpoint's circuit is open, or null when deliveries may go. */
  async openUntil(endpointId: string, now = Date.now()): Promise<number | null> {
    const v = await this.redis.hget(this.key(endpointId), 'openUntil');
    const until = v ? Number(v) : 0;
    return until > now ? until : null;
  }

  /** Counts a retriable failure; returns the time the circuit opens until when this one opened it. */
  async failure(endpointId: string, now = Date.now()): Promise<number | null> {
    const key = this.key(endpointId);
    const n = await this.redis.hincrby(key, 'failures', 1);
    await this.redis.pexpire(key, Math.max(this.openMs * 10, 3_600_000));
    if (n < this.failures) return null;
    const until = now + this.openMs;
    await this.redis.hset(key, { failures: 0, openUntil: until });
    return until;
  }

  async success(endpointId: string): Promise<void> {
    await this.redis.del(this.key(endpointId));
  }
}
