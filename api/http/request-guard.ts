import type { Request, RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { ApiTokenStore, type Principal, type TokenLookup } from '../../shared/auth/api-tokens';
import type { DataVersionChannel, SealedState } from '../../shared/redis/data-version';
import type { RateDecision } from '../../shared/redis/rate-limiter';
import { readTogether, type RedisRead, runRead } from '../../shared/redis/redis-read';
import { bearerToken, INVALID_TOKEN } from './auth.middleware';
import { unauthorized } from './problem';
import { KnownTokens } from './known-tokens';
import { enforceRateDecision } from './rate-limit';
import type { ChannelPrefetch, RouteDef } from './route';

/** What the guard needs of shared/auth's ApiTokenStore (which satisfies it). */
export interface GuardTokens {
  authenticationRead(token: string): RedisRead<TokenLookup> | null;
  settle(found: TokenLookup): Promise<Principal | null>;
}

/** The reads a channel route's guard adds to its round trip (owners: platforms' ConnectionRepository; version: shared/redis/data-version.ts). */
export interface ChannelReads {
  /** Users of the channel's owner index; absent (another ConnectionDirectory) → every request takes the full ownership check. */
  activeOwners?(platform: string, channelId: string): RedisRead<string[]>;
  dataVersion(c: DataVersionChannel): RedisRead<string>;
  /** The channel's sealed state, in the same round trip (the series route's sealed hours: api/metrics/sealed-hours.ts). */
  sealed?(c: DataVersionChannel): RedisRead<SealedState | null>;
}

export interface RequestGuardDeps {
  redis: Redis;
  tokens: GuardTokens;
  limiter: { hitRead(subject: string): RedisRead<RateDecision> };
  channel: ChannelReads;
  /** Token hashes whose ids are remembered (to address the rate-limit counter before the lookup answers); least recently used forgotten first. */
  maxKnownTokens?: number;
}

export type RequestGuard = (route: RouteDef) => RequestHandler[];

const NOTHING: RedisRead<undefined> = { commands: 0, queue: () => undefined, decode: () => undefined };

/**
 * Authentication, the rate limit and — on routes that read one channel (`readsChannel`) — the
 * channel's owners and data version, in **one** Redis round trip per request (api/README.md "Request
 * guard"). The rate-limit counter is the token id's, which the lookup returns; so the guard remembers,
 * per token hash, the ids it last authenticated, and sends the rate-limit hit with the lookup. The
 * memory only addresses the counter: every request still looks the token up and is refused when it
 * is unknown (revoked) or expired, and ownership is decided on the current owner index (or the full
 * check). A token seen for the first time costs one round trip more.
 *
 * A channel route's path parameters are validated with its own schema before any key is built from
 * them; when they are invalid nothing is prefetched and the handler answers its 400 after the checks.
 */
export function requestGuard(deps: RequestGuardDeps): RequestGuard {
  const known = new KnownTokens(deps.maxKnownTokens);

  const prefetchRead = (route: RouteDef, req: Request): RedisRead<ChannelPrefetch> | null => {
    if (!route.readsChannel) return null;
    const parsed = route.params?.safeParse(req.params);
    const p = parsed?.success ? (parsed.data as { platform?: unknown; channelId?: unknown }) : null;
    if (!p || typeof p.platform !== 'string' || typeof p.channelId !== 'string') return null;
    const owners = deps.channel.activeOwners?.(p.platform, p.channelId);
    const version = deps.channel.dataVersion({ platform: p.platform, channelId: p.channelId });
    const sealed = deps.channel.sealed?.({ platform: p.platform, channelId: p.channelId });
    const n = owners?.commands ?? 0;
    const m = n + version.commands;
    return {
      commands: m + (sealed?.commands ?? 0),
      queue: (pl) => {
        owners?.queue(pl);
        version.queue(pl);
        sealed?.queue(pl);
      },
      decode: (r) => ({ activeOwners: owners?.decode(r.slice(0, n)), dataVersion: version.decode(r.slice(n, m)), ...(sealed ? { sealed: sealed.decode(r.slice(m)) } : {}) }),
    };
  };

  return (route) => [
    async (req, res, next) => {
      try {
        const token = bearerToken(req.get('authorization'));
        const lookup = deps.tokens.authenticationRead(token);
        if (!lookup) throw unauthorized(INVALID_TOKEN);
        const hash = ApiTokenStore.hash(token);
        const prefetch = prefetchRead(route, req) ?? NOTHING;
        const guess = known.get(hash);
        let principal: Principal | null;
        let decision: RateDecision;
        let channel: ChannelPrefetch | undefined;
        if (guess) {
          const [found, d, c] = await readTogether(deps.redis, [lookup, deps.limiter.hitRead(guess.tokenId), prefetch] as const);
          principal = await deps.tokens.settle(found);
          if (!principal) known.forget(hash);
          [decision, channel] = [d, c];
        } else {
          principal = await deps.tokens.settle(await runRead(deps.redis, lookup));
          if (principal) [decision, channel] = await readTogether(deps.redis, [deps.limiter.hitRead(principal.tokenId), prefetch] as const);
        }
        if (!principal) throw unauthorized(INVALID_TOKEN);
        // A token's ids never change, so a guess that differs cannot happen; if it did, count the right subject.
        if (guess && (guess.tokenId !== principal.tokenId || guess.userId !== principal.userId)) decision = await runRead(deps.redis, deps.limiter.hitRead(principal.tokenId));
        known.remember(hash, principal);
        enforceRateDecision(res, decision!);
        res.locals.principal = principal;
        res.locals.channelPrefetch = channel;
        next();
      } catch (err) {
        next(err);
      }
    },
  ];
}
