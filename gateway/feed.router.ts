import { recipientsOf, type ChannelOwnerLookup } from '../shared/events/channel-audience';
import type { FeedMessage } from './feed.mapper';

/**
 * Fans a channel's feed record out to the channel's active owners, resolved when it is delivered
 * (shared/events/channel-audience.ts): two users who connected one channel both get its alerts and
 * windows, one who disconnected gets nothing more, and nobody learns a co-owner's user id — each
 * copy names its recipient. Messages without an audience (recommendations) go to their `userId`.
 */
export class FeedRouter {
  constructor(private readonly owners: ChannelOwnerLookup, private readonly sink: (msg: FeedMessage) => void) {}

  /** Returns how many users the message went to. */
  async deliver(msg: FeedMessage): Promise<number> {
    if (!msg.audience) {
      this.sink(msg);
      return 1;
    }
    const users = await recipientsOf(msg.audience, this.owners);
    for (const userId of users) this.sink({ userId, event: msg.event, data: { ...msg.data, userId } });
    return users.length;
  }
}
