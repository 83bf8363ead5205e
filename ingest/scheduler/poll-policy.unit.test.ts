import { PollPolicy } from './poll-policy';

const policy = new PollPolicy({
  INGEST_LIVE_POLL_SECONDS: 30,
  INGEST_OFFLINE_POLL_SECONDS: 300,
  INGEST_FOLLOWERS_POLL_SECONDS: 180,
  INGEST_CHAT_MIN_POLL_MS: 5000,
  YOUTUBE_DAILY_QUOTA_UNITS: 10000,
  INGEST_YOUTUBE_CHAT_QUOTA_SHARE: 0.5,
});

describe('PollPolicy', () => {
  it('polls snapshots fast while live and slowly while offline, followers at their own cadence', () => {
    expect(policy.snapshotEveryMs(true)).toBe(30_000);
    expect(policy.snapshotEveryMs(false)).toBe(300_000);
    expect(policy.followersEveryMs()).toBe(180_000);
  });

  it('never polls chat faster than the configured floor or the platform asks', () => {
    expect(policy.chatEveryMs('twitch', null, 0)).toBe(5000);
    expect(policy.chatEveryMs('twitch', 12_000, 0)).toBe(12_000);
  });

  it('stretches YouTube chat so all live chats together stay inside the quota share (hand-computed)', () => {
    // 5,000 units/day for chat = 1,000 calls/day; one chat → every 86.4 s; four chats → every 345.6 s.
    expect(policy.youtubeChatQuotaFloorMs(1)).toBe(86_400);
    expect(policy.youtubeChatQuotaFloorMs(4)).toBe(345_600);
    expect(policy.chatEveryMs('youtube', 2000, 1)).toBe(86_400);
    // A day of polling at that pace spends exactly the share.
    expect((86_400_000 / policy.youtubeChatQuotaFloorMs(4)) * 4 * 5).toBeCloseTo(5000, 6);
  });

  it('re-schedules chat only on a change of more than 20 %', () => {
    expect(PollPolicy.worthRescheduling(10_000, 11_000)).toBe(false);
    expect(PollPolicy.worthRescheduling(10_000, 12_500)).toBe(true);
    expect(PollPolicy.worthRescheduling(10_000, 7_000)).toBe(true);
  });

  it('chat starts only with a live channel (initial interval per resource)', () => {
    expect(policy.initialEveryMs('snapshot', 'twitch', true, 0)).toBe(30_000);
    expect(policy.initialEveryMs('followers', 'youtube', false, 0)).toBe(180_000);
    expect(policy.initialEveryMs('chat', 'youtube', true, 2)).toBe(172_800);
  });
});
