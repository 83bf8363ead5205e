/**
 * YouTube's daily quota (10,000 units by default, reset at midnight Pacific) shared by every process
 * through Redis: one counter per project (client id) and Pacific day, charged atomically *before*
 * each call so the budget is never overspent. The scheduler asks `pollIntervalMs` how far to stretch
 * its polling so the rest of the day fits in what is left.
 */
import type { Redis } from 'ioredis';
import { YOUTUBE_QUOTA_COST, YouTubeMethod } from '../youtube/youtube.external';
import { PlatformError } from './platform-error';

const PACIFIC = 'America/Los_Angeles';
const dateFmt = new Intl.DateTimeFormat('en-CA', { timeZone: PACIFIC, year: 'numeric', month: '2-digit', day: '2-digit' });
const timeFmt = new Intl.DateTimeFormat('en-GB', { timeZone: PACIFIC, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

export const pacificDay = (tMs: number) => dateFmt.format(tMs);

/** Milliseconds until the next Pacific midnight (DST days are off by up to an hour, which only shifts the stretch). */
export function msUntilPacificMidnight(tMs: number): number {
  const [h, m, s] = timeFmt.format(tMs).split(':').map(Number) as [number, number, number];
  return Math.max(1000, (86_400 - (h * 3600 + m * 60 + s)) * 1000 - (tMs % 1000));
}

// Charge only if the whole cost fits; returns the new total, or -1 when it would overspend.
const CHARGE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local cost = tonumber(ARGV[1])
if used + cost > tonumber(ARGV[2]) then return -1 end
local total = redis.call('INCRBY', KEYS[1], cost)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('HINCRBY', KEYS[2], ARGV[4], cost)
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return total`;

export interface QuotaOptions {
  prefix: string;
  clientId: string;
  dailyBudget: number;
  now?: () => number;
}

export class YouTubeQuota {
  private readonly now: () => number;

  constructor(private readonly redis: Redis, private readonly opts: QuotaOptions) {
    this.now = opts.now ?? Date.now;
  }

  key(tMs = this.now()): string {
    return `${this.opts.prefix}:youtube:quota:${this.opts.clientId}:${pacificDay(tMs)}`;
  }

  /** Units charged today by API method (the quota planner's spend by purpose). */
  methodsKey(tMs = this.now()): string {
    return `${this.key(tMs)}:by-method`;
  }

  async spentByMethod(): Promise<Record<string, number>> {
    const h = await this.redis.hgetall(this.methodsKey());
    return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));
  }

  /** Milliseconds until today's budget resets (Pacific midnight). */
  msUntilReset(): number {
    return msUntilPacificMidnight(this.now());
  }

  get dailyBudget(): number {
    return this.opts.dailyBudget;
  }

  /** Reserves the units of one call, or throws QUOTA_EXCEEDED (not retriable before the Pacific midnight). */
  async charge(method: YouTubeMethod, endpoint: string = method): Promise<number> {
    const cost = YOUTUBE_QUOTA_COST[method];
    const t = this.now();
    const total = Number(await this.redis.eval(CHARGE, 2, this.key(t), this.methodsKey(t), cost, this.opts.dailyBudget, 2 * 86_400_000, method));
    if (total < 0)
      throw new PlatformError('QUOTA_EXCEEDED', `daily quota budget of ${this.opts.dailyBudget} units would be exceeded`, {
        platform: 'youtube',
        endpoint,
        retryAfterMs: msUntilPacificMidnight(t),
        reason: 'budget',
      });
    return total;
  }

  async used(): Promise<number> {
    return Number((await this.redis.get(this.key())) ?? 0);
  }

  async remaining(): Promise<number> {
    return Math.max(0, this.opts.dailyBudget - (await this.used()));
  }

  /**
   * The interval at which `pollers` pollers, each spending `unitsPerPoll` units per poll, fit the rest
   * of today's budget: never shorter than `baseMs`; the time to the quota reset when nothing is left.
   */
  async pollIntervalMs(p: { baseMs: number; unitsPerPoll: number; pollers: number; share?: number }): Promise<number> {
    // `share`: the part of what is left this kind of polling may use (e.g. chat 0.5, stream state 0.5).
    const left = (await this.remaining()) * Math.min(1, Math.max(0.01, p.share ?? 1));
    const untilReset = msUntilPacificMidnight(this.now());
    if (left < p.unitsPerPoll) return Math.max(p.baseMs, untilReset);
    return Math.max(p.baseMs, Math.ceil((p.unitsPerPoll * Math.max(1, p.pollers) * untilReset) / left));
  }
}
