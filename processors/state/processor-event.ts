import type { LifecycleType } from '../../shared/events/events';

/** The four input topics a processor reads, by kind (Topics' names for them). */
export type InputTopic = 'snapshots' | 'followers' | 'chat' | 'lifecycle';
export const INPUT_TOPICS: readonly InputTopic[] = ['snapshots', 'followers', 'chat', 'lifecycle'];

/**
 * The processor's view of one input event, normalised from the four Avro records. `t` is the event
 * time used for windowing and the watermark (epoch ms).
 */
interface Base {
  eventId: string;
  platform: string;
  channelId: string;
  userId: string;
  t: number;
}

export interface SnapshotEvent extends Base {
  kind: 'snapshot';
  live: boolean;
  viewers: number | null;
  streamId: string | null;
  startedAt: number | null;
  title: string | null;
  category: string | null;
}

export interface FollowersEvent extends Base {
  kind: 'followers';
  followers: number;
  /** Twitch paid subscribers and points read in the same poll (issue 18.3); null when not read. */
  paidSubscribers: number | null;
  subscriptionPoints: number | null;
}

/** Chat over [intervalStart, intervalEnd): counted in the window of its last instant, `intervalEnd − 1`. */
export interface ChatEvent extends Base {
  kind: 'chat';
  messages: number;
  chatterIds: string[];
  /** The share of the chat its source read (ChatActivity.samplingRate); absent = 1, all of it. */
  samplingRate?: number;
}

export interface LifecycleEvent extends Base {
  kind: 'lifecycle';
  type: LifecycleType;
  streamId: string;
  title: string | null;
  category: string | null;
}

export type ProcessorEvent = SnapshotEvent | FollowersEvent | ChatEvent | LifecycleEvent;

/** Where a message came from: the correlation id of logs and the unit of offset tracking. */
export interface Position {
  topic: string;
  partition: number;
  offset: number;
}

export const WINDOW_MS = 60_000;
export const windowStartOf = (t: number) => Math.floor(t / WINDOW_MS) * WINDOW_MS;
