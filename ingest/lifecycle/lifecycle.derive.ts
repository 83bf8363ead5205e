import type { StreamState } from '../../platforms/platform.adapter';
import type { StreamLifecycle } from '../../shared/events/events';
import type { PollSubject } from '../output/normalise';

/** What ingest remembers of a channel between polls (Redis, per platform + channel). */
export interface ChannelLiveState {
  live: boolean;
  streamId: string | null;
  startedAt: number | null;
  title: string | null;
  category: string | null;
  observedAt: number;
}

export const lifecycleEventId = (s: Pick<PollSubject, 'platform' | 'channelId'>, streamId: string, type: 'started' | 'ended') =>
  `${s.platform}:${s.channelId}:${streamId}:${type}`;

export function liveStateOf(state: StreamState): ChannelLiveState {
  return {
    live: state.live,
    streamId: state.live ? streamIdOf(state) : null,
    startedAt: state.live ? state.startedAt : null,
    title: state.title,
    category: state.category,
    observedAt: state.observedAt,
  };
}

/** A live stream without an id (some platform answers omit it) is identified by its start time. */
function streamIdOf(state: StreamState): string | null {
  if (state.streamId) return state.streamId;
  return state.startedAt !== null ? `start-${state.startedAt}` : null;
}

/**
 * The lifecycle events implied by going from `prev` to `next` (pure; hand-checked in tests):
 * - offline → live, or first sight of a live stream: `started` (occurredAt = the platform's start time);
 * - live → offline: `ended` (occurredAt = the last time we saw it live — a lower bound, off by at most
 *   one live poll interval, and fixed by committed state so every retry computes the same event);
 * - live → live with another stream id: `ended` for the old, `started` for the new;
 * - live → live, same stream, new title or category: `updated`.
 * Returns null when `next` is not newer than `prev` (a late re-run must not move the state back).
 */
export function deriveLifecycle(prev: ChannelLiveState | null, next: ChannelLiveState, s: PollSubject): StreamLifecycle[] | null {
  if (prev && next.observedAt <= prev.observedAt) return null;
  const out: StreamLifecycle[] = [];
  const base = { platform: s.platform, channelId: s.channelId, userId: s.userId, source: 'poll', reportedAt: null };
  const prevStream = prev?.live ? prev.streamId : null;
  const nextStream = next.live ? next.streamId : null;
  if (prevStream && prevStream !== nextStream) {
    out.push({ ...base, eventId: lifecycleEventId(s, prevStream, 'ended'), type: 'ended', streamId: prevStream, occurredAt: prev!.observedAt, title: prev!.title, category: prev!.category });
  }
  if (nextStream && nextStream !== prevStream) {
    out.push({ ...base, eventId: lifecycleEventId(s, nextStream, 'started'), type: 'started', streamId: nextStream, occurredAt: next.startedAt ?? next.observedAt, title: next.title, category: next.category });
  }
  if (nextStream && nextStream === prevStream && (next.title !== prev!.title || next.category !== prev!.category)) {
    out.push({ ...base, eventId: `${s.platform}:${s.channelId}:${nextStream}:updated:${next.observedAt}`, type: 'updated', streamId: nextStream, occurredAt: next.observedAt, title: next.title, category: next.category });
  }
  return out;
}
