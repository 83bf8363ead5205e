import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppError } from '../../shared/errors/app-error';
import { channelKey } from '../../shared/kafka/topics';
import type { StreamLifecycle } from '../../shared/events/events';
import { slotOf, type PollJobData, type PollJobResult, type Resource } from '../jobs/ingest-job';
import { withToken, type IngestConnection, type IngestPorts } from '../ingest.ports';
import type { EventProducer, OutgoingEvent } from '../output/event.producer';
import { toChatActivity, toFollowerCount, toStreamSnapshot, type PollSubject } from '../output/normalise';
import type { ChannelStateStore } from '../lifecycle/channel-state.store';
import { deriveLifecycle, liveStateOf } from '../lifecycle/lifecycle.derive';
import type { IngestScheduler } from '../scheduler/ingest.scheduler';
import { ingestMetrics } from '../ingest.metrics';

export interface HandlerDeps {
  ports: IngestPorts;
  producer: EventProducer;
  states: ChannelStateStore;
  scheduler: IngestScheduler;
  redis: Redis;
  /** This process, for chat sources whose state lives in one process (Twitch EventSub sessions). */
  processId: string;
}

/**
 * Platforms whose chat adapter keeps its source in process memory (Twitch: an EventSub WebSocket
 * session that counts what arrived since the last drain). Two processes draining the same channel
 * would each count every message, so one process holds a lease on the channel's chat and others
 * skip their turns; the owner's next drain covers the time since its last one, so nothing is lost.
 */
const PROCESS_LOCAL_CHAT = new Set(['twitch']);

// Take the lease if free or ours; renew it. Returns 1 when this process owns it.
const LEASE = `
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/** One resource's poll: gets a live connection, returns the result of the run. */
export type PollHandler = (job: Job<PollJobData>, conn: IngestConnection) => Promise<PollJobResult>;

const CHAT_CURSOR_TTL_MS = 86_400_000;

/** Times the platform side of a run (token + adapter call) for the latency histogram. */
async function timed<T>(data: PollJobData, fn: () => Promise<T>): Promise<T> {
  const end = ingestMetrics.platformLatency.startTimer({ platform: data.platform, resource: data.resource });
  try {
    const v = await fn();
    end({ outcome: 'ok' });
    return v;
  } catch (err) {
    end({ outcome: 'error' });
    throw err;
  }
}

const subjectOf = (c: IngestConnection): PollSubject => ({ platform: c.platform, channelId: c.channelId, userId: c.userId });
const lifecycleOut = (e: StreamLifecycle): OutgoingEvent => ({ topic: 'lifecycle', key: channelKey(e.platform, e.channelId), eventId: e.eventId, value: e });

/**
 * Stream snapshot: produce the snapshot, derive lifecycle transitions against the last-known state
 * (see ChannelStateStore for the guarantee), and switch the schedule between live and offline cadence.
 */
export function createSnapshotHandler(d: HandlerDeps): PollHandler {
  return async (job, conn) => {
    const s = subjectOf(conn);
    const adapter = d.ports.adapterFor(conn.platform);
    const state = await timed(job.data, () => withToken(d.ports, conn.connectionId, (token) => adapter.streamState(token, conn.channelId)));
    const snapshot = toStreamSnapshot(s, state, slotOf(job));
    const next = liveStateOf(state);

    let liveChanged = false;
    for (let attempt = 1; ; attempt++) {
      const { raw, state: prev } = await d.states.read(s.platform, s.channelId);
      const events = deriveLifecycle(prev, next, s);
      if (events === null) break; // an older observation than the committed one: snapshot only
      if (await d.states.commit(s.platform, s.channelId, raw, next, events)) {
        liveChanged = !prev || prev.live !== next.live;
        break;
      }
      if (attempt >= 5) throw new AppError('CHANNEL_STATE_CONFLICT', `channel ${s.platform}:${s.channelId} state kept changing under us`, { retriable: true, context: { ...s } });
    }

    // The outbox holds this run's transitions and any an earlier, crashed run committed but did not produce.
    const pending = await d.states.pending(s.platform, s.channelId);
    await d.producer.send([{ topic: 'snapshots', key: channelKey(s.platform, s.channelId), eventId: snapshot.eventId, value: snapshot }, ...pending.events.map(lifecycleOut)]);
    await d.states.ack(s.platform, s.channelId, pending.raw);
    // Also heals a schedule left behind by a crash between the commit above and this line.
    if (liveChanged || (conn.platform !== 'youtube' && job.data.everyMs !== d.scheduler.snapshotEveryMs(next.live))) await d.scheduler.onLiveChanged(conn, next.live);
    else await d.scheduler.adapt(conn, 'snapshot', job.data.everyMs, next.live);
    return { outcome: 'produced', events: 1 + pending.events.length };
  };
}

export function createFollowersHandler(d: HandlerDeps): PollHandler {
  return async (job, conn) => {
    const s = subjectOf(conn);
    const adapter = d.ports.adapterFor(conn.platform);
    const f = await timed(job.data, () => withToken(d.ports, conn.connectionId, (token) => adapter.followers(token, conn.channelId)));
    const event = toFollowerCount(s, f, slotOf(job));
    await d.producer.send([{ topic: 'followers', key: channelKey(s.platform, s.channelId), eventId: event.eventId, value: event }]);
    await d.scheduler.adapt(conn, 'followers', job.data.everyMs, false);
    return { outcome: 'produced', events: 1 };
  };
}

/**
 * Chat: read from the stored cursor, produce, then advance the cursor — a retry re-reads from the
 * same point and its event id (interval start) replaces the earlier attempt's. The interval follows
 * the platform's pace (YouTube pollingIntervalMillis) and the quota.
 */
export function createChatHandler(d: HandlerDeps): PollHandler {
  return async (job, conn) => {
    const s = subjectOf(conn);
    const adapter = d.ports.adapterFor(conn.platform);
    if (PROCESS_LOCAL_CHAT.has(conn.platform)) {
      const leaseMs = Math.max(30_000, 3 * job.data.everyMs);
      const owned = await d.redis.eval(LEASE, 1, `${d.scheduler.chatCursorKey(conn)}:owner`, d.processId, String(leaseMs));
      if (owned !== 1) return { outcome: 'skipped', events: 0, reason: 'chat is drained by another ingest process' };
    }
    const cursorKey = d.scheduler.chatCursorKey(conn);
    const cursor = await d.redis.get(cursorKey);
    let batch;
    try {
      batch = await timed(job.data, () => withToken(d.ports, conn.connectionId, (token) => adapter.chat(token, conn.channelId, cursor || null)));
    } catch (err) {
      // The stream ended between snapshots: nothing to read; the snapshot poll records the end and stops chat.
      if ((err as { code?: string }).code !== 'LIVE_CHAT_ENDED') throw err;
      await d.redis.del(cursorKey);
      return { outcome: 'skipped', events: 0, reason: 'live chat ended' };
    }
    const event = toChatActivity(s, batch);
    await d.producer.send([{ topic: 'chat', key: channelKey(s.platform, s.channelId), eventId: event.eventId, value: event }]);
    if (batch.cursor) await d.redis.set(cursorKey, batch.cursor, 'PX', CHAT_CURSOR_TTL_MS);
    else await d.redis.del(cursorKey);
    await d.scheduler.adapt(conn, 'chat', job.data.everyMs, true, batch.nextPollMs);
    return { outcome: 'produced', events: 1 };
  };
}

/** The job registry: every resource has exactly one handler, checked at start-up (STYLE: immich). */
export function createHandlers(d: HandlerDeps): Record<Resource, PollHandler> {
  return { snapshot: createSnapshotHandler(d), followers: createFollowersHandler(d), chat: createChatHandler(d) };
}
