import type { Principal } from '../../shared/auth/api-tokens';
import { forbidden, notFound } from '../http/problem';
import type { ConnectionDirectory, ConnectionRecord } from '../ports';

/**
 * Who may read what: a channel belongs to a user when they have a connection to it (active, or
 * waiting for re-authorisation — its history stays theirs; a revoked one does not count). The answer
 * for a channel nobody connected is the same 403 as for someone else's, so ids cannot be probed.
 */
export class ChannelAccessService {
  constructor(private readonly connections: ConnectionDirectory) {}

  async requireChannel(principal: Principal, platform: string, channelId: string): Promise<ConnectionRecord> {
    const mine = await this.connections.listByUser(principal.userId);
    const hit = mine.filter((c) => c.platform === platform && c.channelId === channelId && c.status !== 'revoked');
    // Prefer an active connection when a user connected the same channel twice.
    const conn = hit.find((c) => c.status === 'active') ?? hit[0];
    if (!conn) throw forbidden(`you have not connected ${platform} channel ${channelId}`);
    return conn;
  }

  /**
   * requireChannel where only the yes matters: `activeOwners` (the channel's owner index, read by the
   * request guard with the token, ConnectionDirectory.activeOwnersRead) answers a yes at once — a user in
   * it has an active connection; anything else takes the full check (a connection awaiting
   * re-authorisation is not in the index, and a stranger gets the same 403 as before).
   */
  async requireOwner(principal: Principal, platform: string, channelId: string, activeOwners?: readonly string[]): Promise<void> {
    if (activeOwners?.includes(principal.userId)) return;
    await this.requireChannel(principal, platform, channelId);
  }

  /**
   * A connection of the caller's that is not revoked. A disconnected (revoked) connection answers
   * like a missing one: after `DELETE /v1/connections/{id}` its routes stop answering, even while
   * another user's connection keeps the channel itself polled.
   */
  async requireConnection(principal: Principal, connectionId: string): Promise<ConnectionRecord> {
    const conn = await this.connections.get(connectionId);
    if (!conn || conn.status === 'revoked') throw notFound(`no connection ${connectionId}`, 'connection-not-found');
    if (conn.userId !== principal.userId) throw forbidden(`connection ${connectionId} is not yours`);
    return conn;
  }
}
