import type { ChatBatch, FollowerState, PaidSubscriptions, StreamState } from '../../platforms/platform.adapter';
import type { ChatActivity, FollowerCount, StreamSnapshot } from '../../shared/events/events';
import { MalformedPlatformDataError } from '../ingest.errors';

/**
 * Who a poll is for: the channel, and the user whose connection's token polled it (the channel's
 * earliest-connected active owner, or the next one after a refused grant) — copied onto every event
 * as `userId`, which routes nothing (shared/events/channel-audience.ts).
 */
export interface PollSubject {
  platform: string;
  channelId: string;
  userId: string;
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function check(ok: boolean, subject: PollSubject, what: string): void {
  if (!ok) throw new MalformedPlatformDataError(subject.platform, subject.channelId, what);
}

/**
 * Event ids (deterministic, so downstream de-duplicates re-runs):
 * - snapshot/followers: platform, channel and the poll slot — a retry or a re-run of a stalled job
 *   re-observes the same slot and produces the same id (the newer observation replaces the older);
 * - chat: platform, channel and the interval (start and end). A channel's intervals follow one
 *   another, each read once (ChatOutbox), so two records never share one; a retry re-sends the
 *   committed record unchanged instead of re-reading. The start alone is not enough: a source's first
 *   read may be a zero-length interval at t (YouTube's backlog), and the next one starts at t too.
 */
export const snapshotEventId = (s: Pick<PollSubject, 'platform' | 'channelId'>, slot: number) => `${s.platform}:${s.channelId}:${slot}`;
export const followersEventId = (s: Pick<PollSubject, 'platform' | 'channelId'>, slot: number) => `${s.platform}:${s.channelId}:followers:${slot}`;
export const chatEventId = (s: PollSubject, intervalStart: number, intervalEnd: number) => `${s.platform}:${s.channelId}:chat:${intervalStart}-${intervalEnd}`;

export function toStreamSnapshot(s: PollSubject, state: StreamState, slot: number): StreamSnapshot {
  check(finite(state.observedAt), s, 'observedAt is not a number');
  check(typeof state.live === 'boolean', s, 'live is not a boolean');
  check(state.viewers === null || (finite(state.viewers) && state.viewers >= 0), s, 'viewers is not a non-negative number');
  check(state.startedAt === null || finite(state.startedAt), s, 'startedAt is not a number');
  return {
    eventId: snapshotEventId(s, slot),
    platform: s.platform,
    channelId: s.channelId,
    userId: s.userId,
    observedAt: state.observedAt,
    live: state.live,
    viewers: state.live && state.viewers !== null ? Math.round(state.viewers) : null,
    streamId: state.live ? state.streamId : null,
    startedAt: state.live ? state.startedAt : null,
    title: state.title,
    category: state.category,
    language: state.language,
    source: 'poll',
  };
}

/**
 * One observation of a channel's audience totals: followers, and — read in the same run when the grant
 * allows (Twitch paid subscriptions) — subscribers and points. `paid` null = not read: both stay null, never 0.
 */
export function toFollowerCount(s: PollSubject, f: FollowerState, slot: number, paid: PaidSubscriptions | null = null): FollowerCount {
  check(finite(f.observedAt), s, 'observedAt is not a number');
  check(finite(f.followers) && f.followers >= 0, s, 'followers is not a non-negative number');
  if (paid) {
    check(finite(paid.subscribers) && paid.subscribers >= 0, s, 'paid subscribers is not a non-negative number');
    check(finite(paid.points) && paid.points >= 0, s, 'subscription points is not a non-negative number');
  }
  return {
    eventId: followersEventId(s, slot), platform: s.platform, channelId: s.channelId, userId: s.userId, observedAt: f.observedAt, followers: Math.round(f.followers),
    paidSubscribers: paid ? Math.round(paid.subscribers) : null, subscriptionPoints: paid ? Math.round(paid.points) : null,
  };
}

/** `samplingRate`: the share of the chat the source read (1 = all; YouTube: the quota planner's achieved chat sampling rate). */
export function toChatActivity(s: PollSubject, b: ChatBatch, samplingRate = 1): ChatActivity {
  check(finite(samplingRate) && samplingRate > 0 && samplingRate <= 1, s, 'chat sampling rate is not in (0, 1]');
  check(finite(b.intervalStart) && finite(b.intervalEnd) && b.intervalEnd >= b.intervalStart, s, 'chat interval is not a valid range');
  check(finite(b.messages) && b.messages >= 0, s, 'messages is not a non-negative number');
  check(Array.isArray(b.chatterIds) && b.chatterIds.every((c) => typeof c === 'string'), s, 'chatterIds is not a list of strings');
  return {
    eventId: chatEventId(s, b.intervalStart, b.intervalEnd),
    platform: s.platform,
    channelId: s.channelId,
    userId: s.userId,
    intervalStart: b.intervalStart,
    intervalEnd: b.intervalEnd,
    messages: Math.round(b.messages),
    chatterIds: [...new Set(b.chatterIds)],
    samplingRate,
  };
}
