/**
 * The platform-agnostic face of platform integration (DESIGN.md §2): connect a creator's account
 * through OAuth, list and disconnect connections, read live status. It knows platforms only through
 * `adapterFor`; tokens never leave this module and TokenProvider (callers get Connection metadata).
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../shared/logging/logger';
import { publishConnectionEvent } from './connections/connection-events';
import type { Connection, ConnectionRepository } from './connections/connection.repository';
import type { OAuthStateStore } from './oauth/oauth-state.store';
import { createPkcePair } from './oauth/pkce';
import { OAuthCodeInvalidError } from './oauth/oauth.errors';
import type { StreamState } from './platform.adapter';
import { adapterFor, PlatformDeps } from './registry';
import { ConnectionNotFoundError } from '../shared/errors/connection-not-found';
import { TokenProvider } from './tokens/token-provider';

export interface StreamingServiceDeps {
  platforms: PlatformDeps;
  connections: ConnectionRepository;
  states: OAuthStateStore;
  tokens: TokenProvider;
  redis: Redis;
  prefix: string;
  logger?: Logger;
}

export class StreamingService {
  constructor(private readonly d: StreamingServiceDeps) {}

  /** A URL to send the creator to; the state (and PKCE verifier) stay on the server, bound to the user. */
  async getAuthorizationUrl(platform: string, p: { userId: string; redirectUri: string }): Promise<{ url: string; state: string }> {
    const adapter = adapterFor(platform, this.d.platforms);
    const pkce = adapter.supportsPkce ? createPkcePair() : undefined;
    const state = await this.d.states.create({ userId: p.userId, platform, redirectUri: p.redirectUri, codeVerifier: pkce?.codeVerifier });
    return { url: adapter.authorizationUrl({ state, redirectUri: p.redirectUri, codeChallenge: pkce?.codeChallenge }), state };
  }

  /**
   * The OAuth callback: checks the state (single-use, same user, platform and redirect URI), exchanges
   * the code (with the stored PKCE verifier), reads the channel identity and stores the connection.
   */
  async connectPlatform(platform: string, authCode: string, p: { userId: string; redirectUri: string; state: string; codeVerifier?: string }): Promise<Connection> {
    const adapter = adapterFor(platform, this.d.platforms);
    // Codes are opaque printable strings; anything else is not worth a round trip to the platform.
    if (!/^[\x21-\x7e]{1,2048}$/.test(authCode)) throw new OAuthCodeInvalidError(platform);
    const st = await this.d.states.consume(p.state, { userId: p.userId, platform, redirectUri: p.redirectUri });
    const tokens = await adapter.exchangeCode({ code: authCode, redirectUri: p.redirectUri, codeVerifier: st.codeVerifier ?? p.codeVerifier });
    let identity;
    try {
      identity = await adapter.identity(tokens.accessToken);
    } catch (err) {
      // Without an identity the grant is useless to us: give it back rather than leave it dangling.
      await adapter.revoke(tokens.refreshToken ?? tokens.accessToken).catch(() => undefined);
      throw err;
    }
    const conn = await this.d.connections.upsert({ userId: p.userId, platform, channelId: identity.channelId, login: identity.login, displayName: identity.displayName, scopes: tokens.scopes }, tokens);
    await publishConnectionEvent(this.d.redis, this.d.prefix, { type: 'connected', connectionId: conn.connectionId, userId: conn.userId, platform, channelId: conn.channelId });
    this.d.logger?.info({ module: 'streaming', connectionId: conn.connectionId, platform }, 'platform connected');
    return conn;
  }

  /**
   * Revokes at the platform (best effort: the creator wants out either way), drops the tokens. The
   * channel's other owners keep everything: their connections stay active, ingest keeps polling with
   * their tokens, and where revocation would end the whole grant (Google) the platform is not asked
   * while another owner's connection depends on it — our copy of the tokens is deleted all the same.
   */
  async disconnectPlatform(userId: string, connectionId: string): Promise<Connection> {
    const conn = await this.owned(userId, connectionId);
    const tokens = await this.d.connections.getTokens(connectionId).catch(() => null);
    const adapter = adapterFor(conn.platform, this.d.platforms);
    const others = adapter.revocationEndsGrant ? (await this.d.connections.listActiveByChannel(conn.platform, conn.channelId)).filter((c) => c.connectionId !== connectionId) : [];
    if (tokens && others.length === 0) {
      // Revoking the refresh token ends the whole grant (Google); Twitch revokes by access token.
      const token = conn.platform === 'twitch' ? tokens.accessToken : (tokens.refreshToken ?? tokens.accessToken);
      await adapter.revoke(token).catch((err: unknown) => this.d.logger?.warn({ module: 'streaming', connectionId, err }, 'revoke at the platform failed; tokens dropped anyway'));
    }
    const updated = (await this.d.connections.setStatus(connectionId, 'revoked'))!;
    await publishConnectionEvent(this.d.redis, this.d.prefix, { type: 'disconnected', connectionId, userId, platform: conn.platform, channelId: conn.channelId });
    return updated;
  }

  listConnections(userId: string): Promise<Connection[]> {
    return this.d.connections.listByUser(userId);
  }

  async getLiveStatus(userId: string, connectionId: string): Promise<StreamState> {
    const conn = await this.owned(userId, connectionId);
    const adapter = adapterFor(conn.platform, this.d.platforms);
    return this.d.tokens.withAccessToken(connectionId, (t) => adapter.streamState(t, conn.channelId));
  }

  /** Another user's connection looks exactly like a missing one (no existence oracle). */
  private async owned(userId: string, connectionId: string): Promise<Connection> {
    const conn = await this.d.connections.get(connectionId);
    if (!conn || conn.userId !== userId) throw new ConnectionNotFoundError(connectionId);
    return conn;
  }
}
