/**
 * The Twitch bucket shared by every process through Redis: the same rules as RateLimitBuckets
 * (points from Ratelimit-* headers, in-flight requests reserved, a single probe while the window is
 * unknown), but the state lives in one Redis hash per (client id, channel), so several ingest workers
 * using one creator's token together never exceed the bucket either. A crashed worker's reservations
 * are forgotten at the next reset; a lost probe frees itself after `probeTtlMs`.
 */
import type { Redis } from 'ioredis';
import { sleep } from '../../shared/errors/retry';
import type { RateLimitHeaders, RateLimiter } from './rate-limit.bucket';

// Returns {0, isProbe} = go, {1, ms} = a probe is out: ask again soon, {2, ms} = spent: wait for the reset.
const ACQUIRE = `
local h = redis.call('HMGET', KEYS[1], 'known', 'remaining', 'resetAt', 'reserved', 'probeUntil')
local now, margin, probeTtl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local known, remaining, resetAt = tonumber(h[1]) or 0, tonumber(h[2]) or 0, tonumber(h[3]) or 0
local reserved, probeUntil = tonumber(h[4]) or 0, tonumber(h[5]) or 0
redis.call('PEXPIRE', KEYS[1], 3600000)
if known == 1 and now >= resetAt + margin then
  known = 0
  redis.call('HSET', KEYS[1], 'known', 0, 'reserved', 0)
end
if known == 0 then
  if probeUntil > now then return {1, math.min(50, probeUntil - now)} end
  redis.call('HSET', KEYS[1], 'probeUntil', now + probeTtl)
  return {0, 1}
end
if remaining - reserved > 0 then
  redis.call('HINCRBY', KEYS[1], 'reserved', 1)
  return {0, 0}
end
return {2, resetAt + margin - now}`;

// ARGV: isProbe, hasHeaders, limit, remaining, resetAt
const COMPLETE = `
local h = redis.call('HMGET', KEYS[1], 'known', 'remaining', 'resetAt', 'reserved')
local known, remaining, resetAt, reserved = tonumber(h[1]) or 0, tonumber(h[2]) or 0, tonumber(h[3]) or 0, tonumber(h[4]) or 0
local probe, has = ARGV[1] == '1', ARGV[2] == '1'
if probe then redis.call('HSET', KEYS[1], 'probeUntil', 0) elseif reserved > 0 then reserved = reserved - 1 end
if has then
  local lim, rem, rst = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
  if known == 0 or rst > resetAt then
    redis.call('HSET', KEYS[1], 'known', 1, 'remaining', rem, 'resetAt', rst, 'limit', lim, 'reserved', probe and 0 or reserved)
    return 1
  elseif rst == resetAt then
    redis.call('HSET', KEYS[1], 'remaining', math.min(remaining, rem), 'reserved', reserved)
    return 1
  end
end
redis.call('HSET', KEYS[1], 'reserved', reserved)
return 0`;

export interface SharedTicket {
  probe: boolean;
}

export class SharedRateLimitBuckets implements RateLimiter {
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly opts: { prefix: string; marginMs?: number; probeTtlMs?: number; onWait?: (key: string, ms: number) => void },
  ) {}

  private key(bucket: string): string {
    return `${this.opts.prefix}:twitch:ratelimit:${bucket}`;
  }

  async acquire(bucket: string): Promise<SharedTicket> {
    for (;;) {
      const [status, n] = (await this.redis.eval(ACQUIRE, 1, this.key(bucket), Date.now(), this.opts.marginMs ?? 100, this.opts.probeTtlMs ?? 15_000)) as [number, number];
      if (status === 0 || this.closed) return { probe: n === 1 };
      if (status === 2) this.opts.onWait?.(bucket, n);
      await sleep(Math.max(5, n));
    }
  }

  async complete(bucket: string, ticket: unknown, h: RateLimitHeaders | null): Promise<void> {
    const probe = (ticket as SharedTicket | undefined)?.probe === true;
    await this.redis.eval(COMPLETE, 1, this.key(bucket), probe ? '1' : '0', h ? '1' : '0', h?.limit ?? 0, h?.remaining ?? 0, h?.resetAtMs ?? 0);
  }

  close(): void {
    this.closed = true;
  }
}
