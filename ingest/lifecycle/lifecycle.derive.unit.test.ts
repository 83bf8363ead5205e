import { deriveLifecycle, liveStateOf, type ChannelLiveState } from './lifecycle.derive';

const s = { platform: 'twitch', channelId: '42', userId: 'u1' };
const offline = (observedAt: number): ChannelLiveState => ({ live: false, streamId: null, startedAt: null, title: null, category: null, observedAt });
const live = (observedAt: number, streamId = 'st1', title = 'T', category = 'C'): ChannelLiveState => ({ live: true, streamId, startedAt: 1000, title, category, observedAt });

describe('deriveLifecycle (pure state transitions)', () => {
  it('offline → live emits one started with the platform start time and a deterministic id', () => {
    const ev = deriveLifecycle(offline(1), live(2000), s)!;
    expect(ev).toEqual([{ eventId: 'twitch:42:st1:started', type: 'started', platform: 'twitch', channelId: '42', userId: 'u1', streamId: 'st1', occurredAt: 1000, title: 'T', category: 'C', source: 'poll', reportedAt: null }]);
  });

  it('first sight of a live stream (no prior state) emits started; first sight offline emits nothing', () => {
    expect(deriveLifecycle(null, live(5), s)!.map((e) => e.type)).toEqual(['started']);
    expect(deriveLifecycle(null, offline(5), s)).toEqual([]);
  });

  it('live → offline emits ended at the last time the stream was seen live', () => {
    const ev = deriveLifecycle(live(3000), offline(4000), s)!;
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ eventId: 'twitch:42:st1:ended', type: 'ended', streamId: 'st1', occurredAt: 3000 });
  });

  it('a new stream id while live ends the old stream and starts the new one, in that order', () => {
    const ev = deriveLifecycle(live(3000, 'a'), live(4000, 'b'), s)!;
    expect(ev.map((e) => e.eventId)).toEqual(['twitch:42:a:ended', 'twitch:42:b:started']);
  });

  it('same stream, same title: nothing; new title: one updated event', () => {
    expect(deriveLifecycle(live(1), live(2), s)).toEqual([]);
    const ev = deriveLifecycle(live(1), live(2, 'st1', 'New title'), s)!;
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ type: 'updated', title: 'New title', eventId: 'twitch:42:st1:updated:2' });
  });

  it('an observation not newer than the committed state derives nothing (null), so a late re-run cannot move state back', () => {
    expect(deriveLifecycle(live(5000), offline(5000), s)).toBeNull();
    expect(deriveLifecycle(live(5000), offline(4000), s)).toBeNull();
  });

  it('the same transition derived twice gives identical events (retries produce the same ids and payloads)', () => {
    expect(deriveLifecycle(live(3000), offline(4000), s)).toEqual(deriveLifecycle(live(3000), offline(9000), s));
  });

  it('liveStateOf identifies a live stream without an id by its start time, and clears stream fields when offline', () => {
    const base = { channelId: '42', observedAt: 10, viewers: 5, title: 't', category: 'c', language: 'en' };
    expect(liveStateOf({ ...base, live: true, streamId: null, startedAt: 77 }).streamId).toBe('start-77');
    expect(liveStateOf({ ...base, live: false, streamId: 'x', startedAt: 77 })).toMatchObject({ live: false, streamId: null, startedAt: null });
  });
});
