import type { AlertType } from './events';

/**
 * Who receives a channel's records (issue 16). A channel may have several owners, so the `userId` a
 * record carries is only the owner whose connection polled it (processors/README.md); delivery never
 * trusts it. The gateway feed and the webhooks resolve the channel's *active* owners at delivery
 * time, through the platforms' owner index (ConnectionRepository.activeOwners), so a user who
 * disconnected stops receiving at once and one who connects receives from the next record on.
 *
 * One exception: an alert about a *connection* rather than the channel (`reauth_required`: this
 * user's grant was refused) goes to that connection's user only — another owner's polling is fine.
 */
export interface ChannelOwnerLookup {
  activeOwners(platform: string, channelId: string): Promise<string[]>;
}

/** Alert types that concern one connection (its user), not everyone who owns the channel. */
export const CONNECTION_ALERT_TYPES: ReadonlySet<string> = new Set<AlertType>(['reauth_required']);

export interface ChannelRecordRef {
  type?: string;
  userId: string;
  platform: string;
  channelId: string;
}

/** The users a record goes to now: every active owner of its channel, or the connection's user. */
export async function recipientsOf(r: ChannelRecordRef, owners: ChannelOwnerLookup): Promise<string[]> {
  if (r.type !== undefined && CONNECTION_ALERT_TYPES.has(r.type)) return [r.userId];
  return owners.activeOwners(r.platform, r.channelId);
}
