/**
 * The batch job of one shard (issue 18.1): the stream state of many channels from a few platform calls,
 * then each channel recorded exactly as its own snapshot job would (same event ids, same lifecycle
 * compare-and-set + outbox, same chat start/stop), so consumers cannot tell the two paths apart.
 * - `all` (Twitch): live channels and the offline ones whose turn it is (batch-plan.dueThisRun), then
 *   never-seen ones within the app token's bucket (batch-plan.planRun), 100 ids per /helix/streams
 *   call with the app access token.
 * - `live` (YouTube): the live streams only, 50 per videos.list unit, with any owner's token (video
 *   data is public); an ended or vanished video is the stream's end. Go-live stays per channel.
 *   Subscriber counts of the channels whose turn it is, 50 per channels.list unit (same event ids as
 *   a channel's own followers job: `<platform>:<channelId>:followers:<slot>`).
 */
import type { Job } from 'bullmq';
import { AppError } from '../../shared/errors/app-error';
import type { FollowerState, StreamState } from '../../platforms/platform.adapter';
import { channelKey } from '../../shared/kafka/topics';
import { toFollowerCount } from '../output/normalise';
import { slotOf, type PollJobData, type PollJobResult } from '../jobs/ingest-job';
import { classify } from '../ingest.errors';
import { withToken, type IngestConnection } from '../ingest.ports';
import { dueThisRun, idsPerRun, planRun } from '../scheduler/batch-plan';
import { ingestMetrics } from '../ingest.metrics';
import { recordSnapshot, subjectOf, timed, type HandlerDeps } from './poll.handlers';

export type BatchHandler = (job: Job<PollJobData>) => Promise<PollJobResult>;

/** Channels recorded at once within a run: enough for the producer's group commit to fill its batches. */
const RECORD_CONCURRENCY = 32;

async function inParallel<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

const offlineState = (channelId: string, observedAt: number): StreamState => ({ channelId, observedAt, live: false, viewers: null, streamId: null, startedAt: null, title: null, category: null, language: null });

export function createBatchSnapshotHandler(d: HandlerDeps & { liveEveryMs: number; offlineEveryMs: number }): BatchHandler {
  return async (job) => {
    const { platform, shard } = job.data;
    const mode = d.scheduler.batchMode(platform);
    if (shard === undefined || !mode) return { outcome: 'skipped', events: 0, reason: 'batch polling is off for this platform' };
    const slot = slotOf(job);
    const members = await d.scheduler.batchMembers(platform, shard);
    const known = await d.states.readMany(platform, members);
    const adapter = d.ports.adapterFor(platform);
    // Whose channel is it: the polling owner (earliest active connection) is the records' userId.
    const ownersOf = new Map<string, IngestConnection>();
    const ownerOf = async (channelId: string) => {
      if (!ownersOf.has(channelId)) {
        const first = (await d.ports.connections.listActiveByChannel(platform, channelId))[0];
        if (first) ownersOf.set(channelId, first);
      }
      return ownersOf.get(channelId);
    };

    let observed: Map<string, StreamState>;
    if (mode === 'all') {
      if (!adapter.streamStates) throw new AppError('BATCH_UNSUPPORTED', `${platform} has no batch stream-state read`, { retriable: false });
      // Never-seen channels only as far as the app token's bucket allows (a first pass at scale).
      const budget = adapter.streamStatesBudget;
      const maxIds = budget ? idsPerRun(budget, { shards: d.scheduler.batchShards, liveEveryMs: d.liveEveryMs }) : undefined;
      const due = planRun({ members: members.map((id) => ({ channelId: id, live: known.get(id)?.live ?? null })), slot, liveEveryMs: d.liveEveryMs, offlineEveryMs: d.offlineEveryMs, maxIds });
      observed = due.length ? await timed(job.data, () => adapter.streamStates!(due)) : new Map();
    } else {
      if (!adapter.liveVideos) throw new AppError('BATCH_UNSUPPORTED', `${platform} has no batch live-video read`, { retriable: false });
      const live = members.filter((id) => known.get(id)?.live && known.get(id)?.streamId);
      observed = new Map();
      if (live.length) {
        const byStream = new Map(live.map((id) => [known.get(id)!.streamId!, id] as const));
        const videos = await timed(job.data, () => withAnyOwnersToken(d, live, ownerOf, (token) => adapter.liveVideos!(token, [...byStream.keys()])));
        const observedAt = Date.now();
        for (const [streamId, channelId] of byStream) {
          const v = videos.get(streamId);
          // Gone from the answer, ended, or (never) someone else's: the stream is over.
          observed.set(channelId, v && v.channelId === channelId && v.live ? v : offlineState(channelId, v?.observedAt ?? observedAt));
        }
      }
    }

    // Follower/subscriber counts of the channels whose turn it is, 50 a call (YouTube channels.list).
    let counts = new Map<string, FollowerState>();
    if (d.scheduler.batchFollowers(platform) && adapter.subscriberCounts) {
      const followersEvery = await d.scheduler.followersBatchEveryMs(platform);
      const due = members.filter((id) => dueThisRun({ channelId: id, live: false, slot, liveEveryMs: job.data.everyMs, offlineEveryMs: followersEvery }));
      if (due.length) counts = await timed({ ...job.data, resource: 'followers' }, () => withAnyOwnersToken(d, due, ownerOf, (token) => adapter.subscriberCounts!(token, due)));
    }

    let events = 0;
    let dropped = 0;
    await inParallel([...observed.values()], RECORD_CONCURRENCY, async (state) => {
      const owner = await ownerOf(state.channelId);
      if (!owner) {
        // The channel's last owner left while no event reached us: out of the shard, schedulers gone.
        await d.scheduler.removeChannel({ platform, channelId: state.channelId });
        dropped++;
        return;
      }
      const r = await recordSnapshot(d, subjectOf(owner), state, slot);
      events += r.events;
      if (r.liveChanged) await d.scheduler.onLiveChanged(owner, state.live);
    });
    await inParallel([...counts.values()], RECORD_CONCURRENCY, async (f) => {
      const owner = await ownerOf(f.channelId);
      if (!owner) return; // left the shard above, or will at its next stream-state turn
      const event = toFollowerCount(subjectOf(owner), f, slot);
      await d.producer.send([{ topic: 'followers', key: channelKey(platform, f.channelId), eventId: event.eventId, value: event }]);
      events++;
    });
    ingestMetrics.batchChannels.inc({ platform }, observed.size);
    return { outcome: observed.size || counts.size ? 'produced' : 'skipped', events, ...(dropped ? { reason: `${dropped} channel(s) without an active owner left the shard` } : {}) };
  };
}

/**
 * Public data read with a creator's token: the first channel's owner, failing over to the next
 * channel's on a refused grant (that owner's alert comes from its own channel's jobs). A batch never
 * reports `reauth` itself — it would stop nobody's polling — so all refused is a retriable failure.
 */
async function withAnyOwnersToken<T>(d: HandlerDeps, channelIds: string[], ownerOf: (id: string) => Promise<IngestConnection | undefined>, fn: (token: string) => Promise<T>): Promise<T> {
  let refused: unknown;
  for (const id of channelIds.slice(0, 5)) {
    const owner = await ownerOf(id);
    if (!owner) continue;
    try {
      return await withToken(d.ports, owner.connectionId, fn);
    } catch (err) {
      if (classify(err).kind !== 'reauth') throw err;
      refused = err;
    }
  }
  throw new AppError('BATCH_NO_TOKEN', 'no owner token of this shard was accepted for the batch read', { retriable: true, cause: refused });
}
