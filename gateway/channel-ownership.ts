/**
 * Which connected channel a user owns on a platform — the authorisation behind `stream_event` — and,
 * the other way round, who owns a channel now (the feed's recipients: shared/events/channel-audience.ts).
 * The gateway asks this seam; the production implementation reads the platforms' ConnectionRepository
 * (ConnectionOwnership below).
 */
import type { ChannelOwnerLookup } from '../shared/events/channel-audience';

export interface OwnedChannel {
  platform: string;
  channelId: string;
}

export type OwnershipAnswer =
  | { ok: true; channel: OwnedChannel }
  | { ok: false; reason: 'not_connected' | 'ambiguous' | 'not_active' };

export interface ChannelOwnership {
  /** The user's active channel on `platform` (the one named `channelId` when given). */
  ownedChannel(userId: string, platform: string, channelId?: string): Promise<OwnershipAnswer>;
}

/** Picks the channel among a user's connections; pure so the rules are unit-tested. */
export function chooseOwnedChannel(
  connections: Array<{ platform: string; channelId: string; status: string }>,
  platform: string,
  channelId?: string,
): OwnershipAnswer {
  const onPlatform = connections.filter((c) => c.platform === platform && (channelId === undefined || c.channelId === channelId));
  if (onPlatform.length === 0) return { ok: false, reason: 'not_connected' };
  const active = onPlatform.filter((c) => c.status === 'active');
  if (active.length === 0) return { ok: false, reason: 'not_active' };
  if (active.length > 1) return { ok: false, reason: 'ambiguous' };
  return { ok: true, channel: { platform, channelId: active[0]!.channelId } };
}

/** The part of the platforms' ConnectionRepository the gateway needs (structural, so tests can pass the real one). */
export interface ConnectionLister extends ChannelOwnerLookup {
  listByUser(userId: string): Promise<Array<{ platform: string; channelId: string; status: string }>>;
}

/** Ownership answered from the user's connections (platforms/connections/connection.repository.ts). */
export class ConnectionOwnership implements ChannelOwnership, ChannelOwnerLookup {
  constructor(private readonly connections: ConnectionLister) {}

  async ownedChannel(userId: string, platform: string, channelId?: string): Promise<OwnershipAnswer> {
    return chooseOwnedChannel(await this.connections.listByUser(userId), platform, channelId);
  }

  activeOwners(platform: string, channelId: string): Promise<string[]> {
    return this.connections.activeOwners(platform, channelId);
  }
}
