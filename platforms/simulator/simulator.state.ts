/**
 * The simulator's mutable side: issued codes and tokens, fault plans, rate-limit buckets, quota
 * counters and request counters. The world (channels, viewers, chat) stays a pure function of time.
 */
import crypto from 'node:crypto';
import type { SimPlatform } from './world';

export type FaultKind =
  | 'rate_limit' // 429 with Ratelimit-* headers (Twitch) / quotaExceeded-like 429 (Google)
  | 'server_error' // 5xx (status, default 503)
  | 'slow' // answer normally after delayMs
  | 'timeout' // hold the request for delayMs (default 60 s) and then drop the socket
  | 'expired_token' // 401 as if the access token had expired
  | 'revoked_token' // the caller's grant is revoked, then 401 (refresh → invalid_grant)
  | 'malformed' // 200 with a body that is not JSON
  | 'truncated' // 200 with the real JSON cut in half
  | 'drift' // 200 with unknown fields added and `removeField` removed from every item
  | 'clock_ahead'; // 200 with every ISO instant in the body moved by offsetMs (default +10 min): a platform clock that runs ahead

export interface FaultSpec {
  /** Request path it applies to, e.g. "/helix/streams"; "*" for every non-admin route. */
  route: string;
  kind: FaultKind;
  /** How many requests it hits (default 1). */
  times?: number;
  status?: number;
  delayMs?: number;
  /** For rate_limit: seconds until the advertised reset (default 1). */
  resetSeconds?: number;
  removeField?: string;
  /** For clock_ahead: how far the platform's clock is off (ms; default +10 min). */
  offsetMs?: number;
}

export interface Grant {
  id: string;
  platform: SimPlatform;
  clientId: string;
  channelId: string;
  scopes: string[];
  revoked: boolean;
  /** A Twitch app access token's grant (client credentials): no channel, no scopes, no refresh token. */
  app?: boolean;
}

export interface AccessToken {
  grantId: string;
  expiresAt: number;
}

export interface AuthCode {
  platform: SimPlatform;
  clientId: string;
  channelId: string;
  redirectUri: string;
  scopes: string[];
  codeChallenge?: string;
  codeChallengeMethod?: string;
  expiresAt: number;
  used: boolean;
}

export interface SimConfig {
  twitchRateLimit: { points: number; windowMs: number };
  youtubeQuotaPerDay: number;
  accessTokenTtlSeconds: { twitch: number; youtube: number };
  chatPollingIntervalMillis: number;
  eventSubKeepaliveSeconds: number;
}

export const DEFAULT_SIM_CONFIG: SimConfig = {
  twitchRateLimit: { points: 800, windowMs: 60_000 },
  youtubeQuotaPerDay: 10_000,
  accessTokenTtlSeconds: { twitch: 14_400, youtube: 3_599 },
  chatPollingIntervalMillis: 5_000,
  eventSubKeepaliveSeconds: 10,
};

export interface SimCounters {
  requests: Record<string, number>;
  /** Token endpoint calls by "<platform>:<grant_type>". */
  tokenCalls: Record<string, number>;
  /** 429s the Twitch bucket answered (not injected ones). */
  rateLimited: number;
  injectedFaults: number;
  /** Highest number of points used in one Twitch window, per bucket. */
  maxWindowPoints: Record<string, number>;
  /** YouTube quota units charged, by "<clientId>:<pacific date>". */
  quotaUnits: Record<string, number>;
  /** Distinct chat messages delivered, by channel id (EventSub notifications and liveChatMessages.list items). */
  chatMessagesSent: Record<string, number>;
  quotaRejected: number;
}

const newCounters = (): SimCounters => ({ requests: {}, tokenCalls: {}, rateLimited: 0, injectedFaults: 0, maxWindowPoints: {}, quotaUnits: {}, quotaRejected: 0, chatMessagesSent: {} });

export const randomToken = (bytes = 20) => crypto.randomBytes(bytes).toString('base64url').replace(/[-_]/g, 'x').toLowerCase();

/** The calendar date in Pacific time: YouTube quotas reset at midnight America/Los_Angeles. */
const pacificFmt = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Los_Angeles', year: 'numeric', month: '2-digit', day: '2-digit' });
export function pacificDate(tMs: number): string {
  return pacificFmt.format(tMs);
}

export class SimState {
  config: SimConfig;
  counters = newCounters();
  readonly grants = new Map<string, Grant>();
  readonly accessTokens = new Map<string, AccessToken>();
  readonly refreshTokens = new Map<string, string>(); // refresh token → grant id
  readonly codes = new Map<string, AuthCode>();
  private faults: Array<FaultSpec & { remaining: number }> = [];
  private readonly chatSeen = new Map<string, Map<string, number>>();
  private buckets = new Map<string, { windowEnd: number; used: number }>();
  /** Round-robin pointer per platform for authorize requests without a login_hint. */
  readonly nextChannel: Record<SimPlatform, number> = { twitch: 0, youtube: 0 };

  constructor(readonly clock: () => number, config: Partial<SimConfig> = {}) {
    this.config = { ...DEFAULT_SIM_CONFIG, ...config };
  }

  /** Counts chat messages delivered to ingest, each once however often it was sent (retries, re-reads, sessions). */
  noteChatDelivered(channelId: string, msgs: ReadonlyArray<{ id: string; publishedAt: number }>): void {
    let seen = this.chatSeen.get(channelId);
    if (!seen) this.chatSeen.set(channelId, (seen = new Map()));
    let high = 0;
    for (const m of msgs) {
      if (!seen.has(m.id)) this.count(channelId, this.counters.chatMessagesSent);
      seen.set(m.id, m.publishedAt);
      high = Math.max(high, m.publishedAt);
    }
    // Nothing older than the 5-minute buffer the chat endpoints serve is sent again: forget it.
    for (const [id, t] of seen) if (t < high - 6 * 60_000) seen.delete(id);
  }

  count(key: string, bucket: Record<string, number>, by = 1): void {
    bucket[key] = (bucket[key] ?? 0) + by;
  }

  resetCounters(): void {
    this.counters = newCounters();
  }

  // ---- faults

  addFault(f: FaultSpec): void {
    this.faults.push({ ...f, remaining: f.times ?? 1 });
  }

  clearFaults(): void {
    this.faults = [];
  }

  takeFault(route: string): FaultSpec | undefined {
    const f = this.faults.find((x) => x.remaining > 0 && (x.route === route || x.route === '*'));
    if (!f) return undefined;
    f.remaining--;
    this.faults = this.faults.filter((x) => x.remaining > 0);
    this.counters.injectedFaults++;
    return f;
  }

  // ---- OAuth

  issueCode(c: Omit<AuthCode, 'expiresAt' | 'used'>): string {
    const code = randomToken(15);
    // Codes are short-lived and single-use on both platforms (Google: a few minutes).
    this.codes.set(code, { ...c, expiresAt: this.clock() + 10 * 60_000, used: false });
    return code;
  }

  issueTokens(grant: Grant): { accessToken: string; refreshToken: string; expiresIn: number } {
    const ttl = this.config.accessTokenTtlSeconds[grant.platform];
    const accessToken = grant.platform === 'youtube' ? `ya29.${randomToken(30)}` : randomToken(15);
    const refreshToken = grant.platform === 'youtube' ? `1//${randomToken(30)}` : randomToken(25);
    this.accessTokens.set(accessToken, { grantId: grant.id, expiresAt: this.clock() + ttl * 1000 });
    this.refreshTokens.set(refreshToken, grant.id);
    return { accessToken, refreshToken, expiresIn: ttl };
  }

  /** Twitch client-credentials grant: an app access token (Twitch issues no refresh token for it). */
  issueAppToken(clientId: string): { accessToken: string; expiresIn: number } {
    const g: Grant = { id: randomToken(8), platform: 'twitch', clientId, channelId: '', scopes: [], revoked: false, app: true };
    this.grants.set(g.id, g);
    const ttl = this.config.accessTokenTtlSeconds.twitch;
    const accessToken = randomToken(15);
    this.accessTokens.set(accessToken, { grantId: g.id, expiresAt: this.clock() + ttl * 1000 });
    return { accessToken, expiresIn: ttl };
  }

  newGrant(code: AuthCode): Grant {
    const g: Grant = { id: randomToken(8), platform: code.platform, clientId: code.clientId, channelId: code.channelId, scopes: code.scopes, revoked: false };
    this.grants.set(g.id, g);
    return g;
  }

  /** The grant behind a live access token, or why there is none. */
  authenticate(accessToken: string | undefined): { grant: Grant } | { error: 'missing' | 'invalid' | 'expired' } {
    if (!accessToken) return { error: 'missing' };
    const t = this.accessTokens.get(accessToken);
    if (!t) return { error: 'invalid' };
    const grant = this.grants.get(t.grantId)!;
    if (grant.revoked) return { error: 'invalid' };
    if (t.expiresAt <= this.clock()) return { error: 'expired' };
    return { grant };
  }

  revokeGrant(grantId: string): void {
    const g = this.grants.get(grantId);
    if (g) g.revoked = true;
  }

  revokeChannel(platform: SimPlatform, channelId: string): number {
    let n = 0;
    for (const g of this.grants.values()) {
      if (g.platform !== platform || g.channelId !== channelId || g.revoked) continue;
      g.revoked = true;
      n++;
    }
    return n;
  }

  expireChannel(platform: SimPlatform, channelId: string): number {
    let n = 0;
    for (const t of this.accessTokens.values()) {
      const g = this.grants.get(t.grantId)!;
      if (g.platform !== platform || g.channelId !== channelId || t.expiresAt <= this.clock()) continue;
      t.expiresAt = this.clock();
      n++;
    }
    return n;
  }

  // ---- Twitch rate limit: a bucket of `points` per window per client id and user (Twitch: 800/min).

  takePoint(bucketKey: string): { ok: boolean; limit: number; remaining: number; resetEpochSeconds: number } {
    const now = this.clock();
    const { points, windowMs } = this.config.twitchRateLimit;
    let b = this.buckets.get(bucketKey);
    if (!b || now >= b.windowEnd) {
      // Windows end on whole seconds so that Ratelimit-Reset (epoch seconds) is exact.
      b = { windowEnd: Math.ceil((now + windowMs) / 1000) * 1000, used: 0 };
      this.buckets.set(bucketKey, b);
    }
    const ok = b.used < points;
    if (ok) b.used++;
    else this.counters.rateLimited++;
    this.counters.maxWindowPoints[bucketKey] = Math.max(this.counters.maxWindowPoints[bucketKey] ?? 0, b.used);
    return { ok, limit: points, remaining: points - b.used, resetEpochSeconds: b.windowEnd / 1000 };
  }

  // ---- YouTube quota: units per project (client id) per Pacific day.

  chargeQuota(clientId: string, units: number): boolean {
    const key = `${clientId}:${pacificDate(this.clock())}`;
    const used = this.counters.quotaUnits[key] ?? 0;
    if (used + units > this.config.youtubeQuotaPerDay) {
      this.counters.quotaRejected++;
      return false;
    }
    this.counters.quotaUnits[key] = used + units;
    return true;
  }

  quotaUsed(clientId: string): number {
    return this.counters.quotaUnits[`${clientId}:${pacificDate(this.clock())}`] ?? 0;
  }
}
