import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppError } from '../../shared/errors/app-error';
import { channelKey } from '../../shared/kafka/topics';
import type { StreamLifecycle } from '../../shared/events/events';
import { slotOf, type PollJobData, type PollJobResult, type Resource } from '../jobs/ingest-job';
import { withToken, type IngestConnection, type IngestPorts } from '../ingest.ports';
import type { PaidSubscriptions, StreamState } from '../../platforms/platform.adapter';
import { scopeForFigure } from '../../platforms/scope-figures';
import { classify } from '../ingest.errors';
import type { EventProducer, OutgoingEvent } from '../output/event.producer';
import { toChatActivity, toFollowerCount, toStreamSnapshot, type PollSubject } from '../output/normalise';
import type { ChannelStateStore } from '../lifecycle/channel-state.store';
import { ChatOutbox } from '../output/chat-outbox';
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


/** Times the platform side of a run (token + adapter call) for the latency histogram. */
export async function timed<T>(data: PollJobData, fn: () => Promise<T>): Promise<T> {
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

export const subjectOf = (c: IngestConnection): PollSubject => ({ platform: c.platform, channelId: c.channelId, userId: c.userId });
const lifecycleOut = (e: StreamLifecycle): OutgoingEvent => ({ topic: 'lifecycle', key: channelKey(e.platform, e.channelId), eventId: e.eventId, value: e });

/**
 * Records one observation of a channel's stream state (a channel's own run, or its share of a batch
 * run): produce the snapshot, derive lifecycle transitions against the last-known state (see
 * ChannelStateStore for the guarantee). Returns whether the channel went live or offline.
 */
export async function recordSnapshot(d: HandlerDeps, s: PollSubject, state: StreamState, slot: number): Promise<{ events: number; liveChanged: boolean }> {
  const snapshot = toStreamSnapshot(s, state, slot);
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
  const produced = await d.states.produce(s.platform, s.channelId, (events) =>
    d.producer.send([{ topic: 'snapshots', key: channelKey(s.platform, s.channelId), eventId: snapshot.eventId, value: snapshot }, ...events.map(lifecycleOut)]));
  return { events: 1 + produced, liveChanged };
}

/**
 * Stream snapshot: record the observation and switch the schedule between live and offline cadence.
 * When the platform's live streams are refreshed in batches (`live` batch mode: YouTube), this job
 * only detects go-live: while the channel is live it skips, the shard's batch job covers it.
 */
export function createSnapshotHandler(d: HandlerDeps): PollHandler {
  return async (job, conn) => {
    const s = subjectOf(conn);
    const adapter = d.ports.adapterFor(conn.platform);
    if (d.scheduler.batchMode(conn.platform) === 'live' && (await d.states.read(s.platform, s.channelId)).state?.live)
      return { outcome: 'skipped', events: 0, reason: 'live: refreshed by the shard\'s batch job' };
    const state = await timed(job.data, () => withToken(d.ports, conn.connectionId, (token) => adapter.streamState(token, conn.channelId)));
    const { events, liveChanged } = await recordSnapshot(d, s, state, slotOf(job));
    // Also heals a schedule left behind by a crash between the commit and this line.
    if (liveChanged || (conn.platform !== 'youtube' && job.data.everyMs !== d.scheduler.snapshotEveryMs(state.live))) await d.scheduler.onLiveChanged(conn, state.live);
    else await d.scheduler.adapt(conn, 'snapshot', job.data.everyMs, state.live);
    return { outcome: 'produced', events };
  };
}

/**
 * Paid subscribers and points (Twitch), read in the followers run so one record holds one observation
 * of the channel's audience totals, at the followers' cadence, with the owner's user token. A grant
 * without the scope is not asked (the figure stays null, the run does not fail); a refusal of the
 * scope (401 "Missing scope", the adapter's null) or any other non-retriable 4xx also leaves it null
 * rather than failing or dead-lettering the followers. Retriable errors and refused grants fail the
 * run as a followers error would (retry with backoff / reauth), and the retry re-reads both.
 */
async function readPaidSubscriptions(d: HandlerDeps, job: Job<PollJobData>, conn: IngestConnection): Promise<PaidSubscriptions | null> {
  const adapter = d.ports.adapterFor(conn.platform);
  if (!adapter.subscriptions) return null;
  const scope = scopeForFigure(conn.platform, 'subscribers');
  const skipped = (reason: string) => {
    ingestMetrics.figuresSkipped.inc({ platform: conn.platform, figure: 'subscribers', reason });
    return null;
  };
  if (scope && conn.scopes && !conn.scopes.includes(scope)) return skipped('no_scope');
  try {
    const paid = await timed(job.data, () => withToken(d.ports, conn.connectionId, (token) => adapter.subscriptions!(token, conn.channelId)));
    return paid ?? skipped('scope_refused');
  } catch (err) {
    if (classify(err).kind !== 'dead-letter') throw err;
    return skipped('refused');
  }
}

export function createFollowersHandler(d: HandlerDeps): PollHandler {
  return async (job, conn) => {
    const s = subjectOf(conn);
    const adapter = d.ports.adapterFor(conn.platform);
    const f = await timed(job.data, () => withToken(d.ports, conn.connectionId, (token) => adapter.followers(token, conn.channelId)));
    const event = toFollowerCount(s, f, slotOf(job), await readPaidSubscriptions(d, job, conn));
    await d.producer.send([{ topic: 'followers', key: channelKey(s.platform, s.channelId), eventId: event.eventId, value: event }]);
    await d.scheduler.adapt(conn, 'followers', job.data.everyMs, false);
    return { outcome: 'produced', events: 1 };
  };
}

/**
 * Chat: read from the stored cursor, commit the record with the cursor's advance (ChatOutbox), then
 * produce what the outbox holds — a retry never re-reads an interval it already recorded, so one
 * event id is one record. The interval follows the platform's pace (YouTube pollingIntervalMillis)
 * and the quota. Chat outlives the stream by one run: the first run after the snapshot poll saw the
 * channel offline reads what was said before the end, then stops the chat scheduler.
 */
export function createChatHandler(d: HandlerDeps): PollHandler {
  const outbox = new ChatOutbox(d.redis);
  return async (job, conn) => {
    const s = subjectOf(conn);
    const adapter = d.ports.adapterFor(conn.platform);
    const processLocal = PROCESS_LOCAL_CHAT.has(conn.platform);
    if (processLocal) {
      const leaseMs = Math.max(30_000, 3 * job.data.everyMs);
      const owned = await d.redis.eval(LEASE, 1, `${d.scheduler.chatCursorKey(conn)}:owner`, d.processId, String(leaseMs));
      if (owned !== 1) return { outcome: 'skipped', events: 0, reason: 'chat is drained by another ingest process' };
    }
    const cursorKey = d.scheduler.chatCursorKey(conn);
    const cursor = await outbox.cursor(cursorKey);
    // The stream is over (the snapshot poll saw it offline): this is chat's last run. A push-fed source
    // is ended first, so it reports everything the platform sent it before it stopped sending.
    const ended = (await d.states.read(s.platform, s.channelId)).state?.live === false;
    let batch;
    try {
      batch = ended && adapter.endChat
        ? await adapter.endChat(conn.channelId)
        : await timed(job.data, () => withToken(d.ports, conn.connectionId, (token) => adapter.chat(token, conn.channelId, cursor || null)));
    } catch (err) {
      // The stream ended between snapshots: nothing to read; the snapshot poll records the end.
      if ((err as { code?: string }).code !== 'LIVE_CHAT_ENDED') throw err;
      batch = null;
    }
    const event = batch ? toChatActivity(s, batch, await chatSamplingRate(d, conn.platform)) : null;
    // A zero-length interval with nothing in it (a source's first read) observed nothing: no record.
    const record = event && (event.messages > 0 || event.intervalEnd > event.intervalStart) ? event : null;
    // Process-local sources drain destructively: their cursor is informational and never refuses a drain.
    const committed = await outbox.commit(cursorKey, processLocal ? undefined : cursor, batch?.cursor ?? null, record);
    const produced = await outbox.produce(cursorKey, (records) => d.producer.send(records.map((e) => ({ topic: 'chat' as const, key: channelKey(e.platform, e.channelId), eventId: e.eventId, value: e }))));
    if (ended) {
      await d.scheduler.stopChat(conn);
      return { outcome: 'produced', events: produced, reason: 'stream ended: last chat read, chat stopped' };
    }
    if (!batch) return { outcome: 'skipped', events: produced, reason: 'live chat ended' };
    if (committed) await d.scheduler.adapt(conn, 'chat', job.data.everyMs, true, batch.nextPollMs);
    return { outcome: produced ? 'produced' : 'skipped', events: produced, ...(committed ? {} : { reason: 'another run read this chat interval' }) };
  };
}

/**
 * The share of a platform's chat ingest reads: YouTube chat is polled at the interval the quota
 * planner can afford (liveChatMessages.list costs 5 units), so its records carry the planner's achieved
 * chat sampling rate; Twitch chat is pushed whole (1). Downstream flags sampled figures, never scales them.
 */
async function chatSamplingRate(d: HandlerDeps, platform: string): Promise<number> {
  if (platform !== 'youtube' || !d.scheduler.youtubePlanner) return 1;
  const rate = (await d.scheduler.youtubePlanner.current()).chatSamplingRate;
  // A plan with no quota left at all plans 0: the chat read now is then a sliver, not nothing.
  return Math.min(1, Math.max(rate, 1e-4));
}

/** The job registry: every resource has exactly one handler, checked at start-up (STYLE: immich). */
export function createHandlers(d: HandlerDeps): Record<Resource, PollHandler> {
  return { snapshot: createSnapshotHandler(d), followers: createFollowersHandler(d), chat: createChatHandler(d) };
}
