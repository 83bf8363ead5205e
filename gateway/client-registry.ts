import type { ApiTokenStore, Principal } from '../shared/auth/api-tokens';
import type { Logger } from '../shared/logging/logger';
import { gatewayMetrics } from './gateway.metrics';
import type { Protocol } from './gateway.protocol';

/** An open client connection, whatever the protocol, as far as limits and revocation are concerned. */
export interface TrackedClient {
  readonly protocol: Protocol;
  readonly principal: Principal;
  /** Closes the connection because its token stopped being valid (revoked or expired). */
  closeForRevokedToken(): void;
}

export interface ClientRegistryOptions {
  /** Open (and opening) sockets per user on this instance, both protocols together. */
  maxSocketsPerUser: number;
  /** How often the tokens of open connections are checked against the token store. */
  recheckMs: number;
}

/**
 * The gateway instance's open clients, by user: both front-ends reserve a slot for a user as soon as
 * the token is accepted (before the socket opens, so a burst of parallel upgrades cannot overshoot the
 * cap) and release it on close. Every `recheckMs` the tokens of all open clients are checked in one
 * batch (`ApiTokenStore.validTokenIds`), and clients whose token was revoked or has expired are closed
 * — authentication happens at upgrade, so without this a revoked token's sockets would live on.
 * The cap is per instance: behind N instances a user can hold N × the cap (the load balancer spreads them).
 */
export class ClientRegistry {
  private readonly slots = new Map<string, number>();
  private readonly clients = new Set<TrackedClient>();
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(
    private readonly tokens: Pick<ApiTokenStore, 'validTokenIds'>,
    private readonly options: ClientRegistryOptions,
    private readonly logger: Logger,
  ) {}

  /** Takes a slot for the user; false when they are at the cap (the caller refuses the connection). */
  reserve(userId: string): boolean {
    const n = this.slots.get(userId) ?? 0;
    if (n >= this.options.maxSocketsPerUser) return false;
    this.slots.set(userId, n + 1);
    return true;
  }

  release(userId: string): void {
    const n = (this.slots.get(userId) ?? 0) - 1;
    if (n > 0) this.slots.set(userId, n);
    else this.slots.delete(userId);
  }

  /** Tracks an open client for revocation; the returned function stops tracking it (on close). */
  track(client: TrackedClient): () => void {
    this.clients.add(client);
    return () => void this.clients.delete(client);
  }

  socketsOf(userId: string): number {
    return this.slots.get(userId) ?? 0;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.recheck(), this.options.recheckMs);
    this.timer.unref();
  }

  /** Closes every open client whose token is no longer valid; returns how many. */
  async recheck(): Promise<number> {
    if (this.checking || this.clients.size === 0) return 0;
    this.checking = true;
    try {
      const open = [...this.clients];
      const valid = await this.tokens.validTokenIds(open.map((c) => c.principal.tokenId));
      let closed = 0;
      for (const c of open) {
        if (valid.has(c.principal.tokenId) || !this.clients.has(c)) continue;
        this.clients.delete(c);
        gatewayMetrics.closedByServer.inc({ protocol: c.protocol, reason: 'token_revoked' });
        c.closeForRevokedToken();
        closed++;
      }
      if (closed > 0) this.logger.info({ closed }, 'closed connections whose API token was revoked or expired');
      return closed;
    } catch (err) {
      // Redis trouble: keep the connections (they were valid) and try again at the next tick.
      this.logger.warn({ err }, 'token recheck failed');
      return 0;
    } finally {
      this.checking = false;
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
