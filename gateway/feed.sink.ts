import type { FeedMessage } from './feed.mapper';

/** A front-end that delivers a user's feed messages to that user's connected clients. */
export interface FeedSink {
  publish(msg: FeedMessage): void;
}
