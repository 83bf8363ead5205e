/**
 * YouTube go-live by push (issue 18): WebSub on each connected channel's feed. Off unless
 * YOUTUBE_WEBSUB_CALLBACK_URL (the public base URL Google's hub reaches) is set.
 *
 * - `reconcile(active)`: every active YouTube channel has a subscription asked for (a fresh random
 *   secret the first time, the same one on renewal), renewed once less than half its lease (at most a
 *   day) is left or when the hub never verified it; channels no longer active are unsubscribed. One
 *   process asks per channel (a Redis claim).
 * - The callback (`<callback path>/youtube/<channelId>`, served by `WebSubCallbackServer`):
 *   GET answers the hub's challenge only for a topic we asked for, in the mode we asked; POST is a
 *   notification: the subscription must exist, the X-Hub-Signature must match (constant time), the
 *   body must be the channel's Atom feed — otherwise 404/400 and nothing happens. A signature that is
 *   missing or does not match is answered 202 and ignored (PubSubHubbub 0.4 §8: the subscriber still
 *   acknowledges with a 2xx and drops the message, so a forger learns nothing and the hub does not
 *   redeliver a forgery). Announced videos
 *   are checked with videos.list (1 unit for up to 50 ids: notifications arriving together share the
 *   call), and a live one goes through the same compare-and-set + outbox as a poll (ChannelStateStore),
 *   so its `started` record has the poll's id `<platform>:<channelId>:<streamId>:started`
 *   (`source: websub`) and a later poll of the stream derives nothing new. A scheduled (upcoming)
 *   video is remembered in Redis and checked again at its start (`checkDue`); an ended one never
 *   starts anything, and ends the stream if it is the one the channel is live with.
 * The hub is answered once the records are acknowledged, so a failure (5xx) makes it deliver again.
 * Polling stays as the reconciler: the feed is not guaranteed, and a leased channel's go-live poll
 * only slows down (scheduler, INGEST_WEBSUB_RECONCILE_SECONDS).
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../shared/logging/logger';
import { AppError } from '../../shared/errors/app-error';
import { channelKey } from '../../shared/kafka/topics';
import type { StreamLifecycle } from '../../shared/events/events';
import type { FeedPush, StreamState } from '../../platforms/platform.adapter';
import { withToken, type IngestConnection, type IngestPorts } from '../ingest.ports';
import type { EventProducer } from '../output/event.producer';
import type { ChannelStateStore } from '../lifecycle/channel-state.store';
import { deriveLifecycle, liveStateOf } from '../lifecycle/lifecycle.derive';
import type { IngestScheduler } from '../scheduler/ingest.scheduler';
import { classify } from '../ingest.errors';
import { ingestMetrics } from '../ingest.metrics';
import { WebSubStore } from './websub.store';

const PLATFORM = 'youtube';
const CHANNEL_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_BODY_BYTES = 256 * 1024;
/** An unverified request older than this is asked again (the hub's verification was lost). */
const UNVERIFIED_RETRY_MS = 5 * 60_000;
/** Announced videos arriving within this window share one videos.list call (up to 50 ids). */
const CHECK_WINDOW_MS = 100;
const VIDEOS_PER_CALL = 50;
/**
 * A scheduled video not started when checked at its start is checked again after as long as it is
 * late (at least 1 min, at most 15): streams often start late, and each check is a unit. After 2 h
 * late it is left to the go-live reconcile poll.
 */
const RECHECK_MIN_MS = 60_000;
const RECHECK_MAX_MS = 15 * 60_000;
const RECHECK_GIVE_UP_MS = 2 * 3_600_000;
/** The due-check timer looks at Redis at least this often (another process may have added an earlier check). */
const DUE_TIMER_MAX_MS = 60_000;

export interface WebSubIngestDeps {
  ports: IngestPorts;
  producer: EventProducer;
  states: ChannelStateStore;
  scheduler: IngestScheduler;
  store: WebSubStore;
  /** Public base URL; a channel's callback is `<base>/youtube/<channelId>`. */
  callbackBaseUrl: string;
  leaseSeconds: number;
  processId: string;
  logger: Logger;
  now?: () => number;
}

/** A refusal of the callback: the status the hub gets, and no side effect. */
export class WebSubRejected extends AppError<'WEBSUB_REJECTED'> {
  constructor(readonly status: number, message: string) {
    super('WEBSUB_REJECTED', message, { retriable: false, context: { status } });
  }
}

interface PendingCheck {
  channelId: string;
  videoId: string;
  done: { resolve(started: boolean): void; reject(err: unknown): void };
}

export class WebSubIngest {
  private readonly feed: FeedPush;
  private readonly now: () => number;
  private readonly basePath: string;
  private queue: PendingCheck[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private dueTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly d: WebSubIngestDeps) {
    const feed = d.ports.adapterFor(PLATFORM).feed;
    if (!feed) throw new AppError('NO_FEED_PUSH', `${PLATFORM} has no feed push`, { retriable: false });
    this.feed = feed;
    this.now = d.now ?? Date.now;
    this.basePath = new URL(d.callbackBaseUrl).pathname.replace(/\/+$/, '');
  }

  callbackOf(channelId: string): string {
    return `${this.d.callbackBaseUrl.replace(/\/+$/, '')}/youtube/${encodeURIComponent(channelId)}`;
  }

  /** The channel a request path names, or null when the path is not one of our callbacks. */
  channelOfPath(pathname: string): string | null {
    const prefix = `${this.basePath}/youtube/`;
    if (!pathname.startsWith(prefix)) return null;
    const id = decodeURIComponent(pathname.slice(prefix.length));
    return CHANNEL_ID.test(id) ? id : null;
  }

  /** Subscribes every active YouTube channel (renewing leases before they end); unsubscribes the rest. */
  async reconcile(active: IngestConnection[]): Promise<{ requested: number }> {
    const now = this.now();
    const channels = new Set(active.filter((c) => c.platform === PLATFORM).map((c) => c.channelId));
    let requested = 0;
    for (const channelId of channels) {
      const sub = await this.d.store.get(channelId);
      const leaseMs = (sub?.leaseSeconds ?? this.d.leaseSeconds) * 1000;
      const due =
        !sub || sub.mode !== 'subscribe' || sub.callback !== this.callbackOf(channelId)
          ? true
          : sub.expiresAt === null
            ? now - sub.requestedAt > UNVERIFIED_RETRY_MS
            : sub.expiresAt - now < Math.min(leaseMs / 2, 86_400_000);
      // One process asks (until the hub's verification ends the claim, or it expires).
      if (!due || !(await this.d.store.claim(channelId, this.d.processId, Math.max(1000, Math.min(30_000, leaseMs / 4))))) continue;
      try {
        await this.request(channelId, 'subscribe', sub?.mode === 'subscribe' ? sub.secret : crypto.randomBytes(32).toString('hex'));
        requested++;
      } catch (err) {
        // The channel stays polled; the next reconciliation asks again.
        this.d.logger.warn({ platform: PLATFORM, channelId, err }, 'WebSub subscribe request failed');
      }
    }
    for (const channelId of await this.d.store.channels()) {
      if (channels.has(channelId)) continue;
      const sub = await this.d.store.get(channelId);
      if (!sub) {
        await this.d.store.removed(channelId);
        continue;
      }
      if (sub.mode === 'unsubscribe' && now - sub.requestedAt < UNVERIFIED_RETRY_MS) continue;
      if (!(await this.d.store.claim(channelId, this.d.processId, 30_000))) continue;
      await this.request(channelId, 'unsubscribe', sub.secret).catch((err: Error) => this.d.logger.warn({ platform: PLATFORM, channelId, err }, 'WebSub unsubscribe request failed'));
    }
    await this.checkDue();
    return { requested };
  }

  /**
   * Checks the scheduled videos whose start has come (remembered by `run`), then arms a timer for the
   * next one, so a go-live announced only as scheduled is seen at its start, not at the next
   * reconcile poll. Any process may take a due check; Redis hands each to one.
   */
  async checkDue(): Promise<void> {
    clearTimeout(this.dueTimer);
    this.dueTimer = undefined;
    if (this.closed) return;
    try {
      const due = await this.d.store.takeDue(this.now());
      await Promise.all(due.map(async ({ channelId, videoId }) => {
        try {
          await this.check(channelId, videoId);
        } catch (err) {
          // Not lost: asked again in a minute.
          this.d.logger.warn({ platform: PLATFORM, channelId, err }, 'WebSub re-check of a scheduled video failed; trying again');
          await this.d.store.checkLater(channelId, videoId, this.now() + RECHECK_MIN_MS);
        }
      }));
    } finally {
      const next = await this.d.store.nextDue().catch(() => null);
      if (!this.closed) {
        const wait = next === null ? DUE_TIMER_MAX_MS : Math.min(DUE_TIMER_MAX_MS, Math.max(0, next - this.now()));
        this.dueTimer = setTimeout(() => void this.checkDue().catch((err: Error) => this.d.logger.warn({ err }, 'WebSub due checks failed')), wait);
        this.dueTimer.unref();
      }
    }
  }

  /** A scheduled video of the channel: checked again at its start (or, already late, after as long as it is late). */
  private async checkScheduled(channelId: string, videoId: string, scheduledAt: number): Promise<void> {
    const now = this.now();
    const late = now - scheduledAt;
    if (late > RECHECK_GIVE_UP_MS) return; // the reconcile poll finds it if it ever starts
    const at = late < 0 ? scheduledAt : now + Math.min(RECHECK_MAX_MS, Math.max(RECHECK_MIN_MS, late));
    await this.d.store.checkLater(channelId, videoId, at);
    if (this.dueTimer && at < now + DUE_TIMER_MAX_MS) void this.checkDue().catch(() => undefined); // re-arm for an earlier check
  }

  private async request(channelId: string, mode: 'subscribe' | 'unsubscribe', secret: string): Promise<void> {
    const topic = this.feed.topicOf(channelId);
    const callback = this.callbackOf(channelId);
    await this.d.store.requested({ channelId, topic, callback, secret, mode }, this.now());
    await this.feed.request({ mode, topic, callback, secret, leaseSeconds: mode === 'subscribe' ? this.d.leaseSeconds : undefined });
  }

  /** The hub's intent verification (GET): the challenge to echo, or a refusal. */
  async verify(channelId: string, q: URLSearchParams): Promise<string> {
    const mode = q.get('hub.mode');
    const topic = q.get('hub.topic') ?? '';
    const challenge = q.get('hub.challenge');
    const sub = await this.d.store.get(channelId);
    if (!sub || topic !== sub.topic) throw new WebSubRejected(404, 'unknown topic: no subscription was asked for it');
    if (mode === 'denied') {
      // The hub refused the subscription: polling stays the channel's go-live detection.
      await this.d.store.removed(channelId);
      this.d.logger.warn({ platform: PLATFORM, channelId, reason: q.get('hub.reason') }, 'WebSub subscription denied by the hub');
      return '';
    }
    if (!challenge) throw new WebSubRejected(400, 'hub.challenge missing');
    if (mode !== sub.mode) throw new WebSubRejected(404, `no ${mode ?? 'such'} request was made for this topic`);
    if (mode === 'unsubscribe') {
      await this.d.store.removed(channelId);
      return challenge;
    }
    const lease = Number(q.get('hub.lease_seconds') ?? this.d.leaseSeconds);
    if (!Number.isInteger(lease) || lease < 1) throw new WebSubRejected(400, 'hub.lease_seconds is not a positive integer');
    await this.d.store.verified(channelId, lease, this.now());
    // The channel's go-live poll slows to the reconcile cadence now its feed pushes.
    const owner = (await this.d.ports.connections.listActiveByChannel(PLATFORM, channelId))[0];
    if (owner) await this.d.scheduler.ensureChannel(owner).catch((err: Error) => this.d.logger.warn({ channelId, err }, 're-timing after WebSub verification failed'));
    return challenge;
  }

  /**
   * A notification (POST): verified, parsed, its videos checked; resolves once whatever it started is
   * acknowledged by Kafka. Returns how many streams it started.
   */
  async notify(channelId: string, body: Buffer, signature: string | undefined): Promise<number> {
    const sub = await this.d.store.get(channelId);
    if (!sub || sub.mode !== 'subscribe') throw this.rejected(404, 'unknown topic: not subscribed');
    if (!this.feed.signatureMatches(sub.secret, body, signature)) throw this.rejected(202, 'ignored: X-Hub-Signature missing or does not match', 'ignored_signature');
    let n;
    try {
      n = this.feed.parse(body.toString('utf8'));
    } catch (err) {
      throw this.rejected(400, `not a YouTube feed notification: ${(err as Error).message}`);
    }
    if (n.topicChannelId !== null && n.topicChannelId !== channelId) throw this.rejected(400, 'the feed is another channel\'s');
    if (n.entries.some((e) => e.channelId !== channelId)) throw this.rejected(400, 'an entry belongs to another channel');
    ingestMetrics.pushEvents.inc({ platform: PLATFORM, kind: 'websub_notification', outcome: 'accepted' });
    const videos = [...new Set(n.entries.map((e) => e.videoId))];
    const started = await Promise.all(videos.map((videoId) => this.check(channelId, videoId)));
    return started.filter(Boolean).length;
  }

  private rejected(status: number, message: string, outcome = `rejected_${status}`): WebSubRejected {
    ingestMetrics.pushEvents.inc({ platform: PLATFORM, kind: 'websub_notification', outcome });
    return new WebSubRejected(status, message);
  }

  /** Queues a video for the next shared videos.list call. */
  private check(channelId: string, videoId: string): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ channelId, videoId, done: { resolve, reject } });
      if (this.queue.length >= VIDEOS_PER_CALL) this.flush();
      else this.flushTimer ??= setTimeout(() => this.flush(), CHECK_WINDOW_MS);
    });
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.queue.splice(0, VIDEOS_PER_CALL);
    if (this.queue.length) this.flushTimer = setTimeout(() => this.flush(), 0);
    if (batch.length === 0) return;
    this.run(batch).catch((err) => {
      for (const c of batch) c.done.reject(err);
    });
  }

  private async run(batch: PendingCheck[]): Promise<void> {
    const adapter = this.d.ports.adapterFor(PLATFORM);
    if (!adapter.liveVideos) throw new AppError('BATCH_UNSUPPORTED', `${PLATFORM} has no batch video read`, { retriable: false });
    const ids = [...new Set(batch.map((c) => c.videoId))];
    const videos = await this.withAnyOwnersToken([...new Set(batch.map((c) => c.channelId))], (token) => adapter.liveVideos!(token, ids));
    await Promise.all(
      batch.map(async (c) => {
        try {
          const v = videos.get(c.videoId);
          // Someone else's or gone: nothing (polling reconciles the rest).
          const own = v && v.channelId === c.channelId ? v : null;
          if (own?.live && own.startedAt !== null) return c.done.resolve(await this.record(c.channelId, own));
          // Scheduled, not started: checked again when due (the hub may not announce the start).
          if (own && !own.live && own.scheduledStartAt != null) {
            await this.checkScheduled(c.channelId, c.videoId, own.scheduledStartAt);
            return c.done.resolve(false);
          }
          // Ended: never a go-live; if it is the stream the channel is live with, that stream ends.
          if (own && !own.live) await this.recordEnded(c.channelId, c.videoId, own.observedAt);
          c.done.resolve(false);
        } catch (err) {
          c.done.reject(err);
        }
      }),
    );
  }

  /** The channel's live stream `videoId` ended: its end goes through the poll's compare-and-set, like the batch live refresh's. */
  private async recordEnded(channelId: string, videoId: string, observedAt: number): Promise<void> {
    const { state: prev } = await this.d.states.read(PLATFORM, channelId);
    if (!prev?.live || prev.streamId !== videoId) return; // not the stream it is live with: nothing to end, nothing to start
    await this.record(channelId, { channelId, observedAt, live: false, viewers: null, streamId: null, startedAt: null, title: prev.title, category: prev.category, language: null });
  }

  /**
   * The poll path's lifecycle step for an observed video state: compare-and-set, outbox, produce,
   * re-time. Returns whether a stream started.
   */
  private async record(channelId: string, state: StreamState): Promise<boolean> {
    const owner = (await this.d.ports.connections.listActiveByChannel(PLATFORM, channelId))[0];
    if (!owner) return false; // disconnected meanwhile
    const s = { platform: owner.platform, channelId: owner.channelId, userId: owner.userId };
    const next = liveStateOf(state);
    let liveChanged = false;
    let started = false;
    for (let attempt = 1; ; attempt++) {
      const { raw, state: prev } = await this.d.states.read(s.platform, s.channelId);
      const events = deriveLifecycle(prev, next, s)?.map((e): StreamLifecycle => ({ ...e, source: 'websub' }));
      if (!events) break; // a newer observation already committed
      if (await this.d.states.commit(s.platform, s.channelId, raw, next, events)) {
        liveChanged = !prev || prev.live !== next.live;
        started = events.some((e) => e.type === 'started');
        break;
      }
      if (attempt >= 5) throw new AppError('CHANNEL_STATE_CONFLICT', `channel ${s.platform}:${s.channelId} state kept changing under us`, { retriable: true, context: { ...s } });
    }
    await this.d.states.produce(s.platform, s.channelId, (events) =>
      this.d.producer.send(events.map((e) => ({ topic: 'lifecycle' as const, key: channelKey(e.platform, e.channelId), eventId: e.eventId, value: e }))));
    if (liveChanged) await this.d.scheduler.onLiveChanged(owner, next.live);
    if (started) ingestMetrics.pushEvents.inc({ platform: PLATFORM, kind: 'online', outcome: 'produced' });
    if (liveChanged && !next.live) ingestMetrics.pushEvents.inc({ platform: PLATFORM, kind: 'offline', outcome: 'produced' });
    return started;
  }

  /** Video data is public: the first channel's owner token, failing over on a refused grant. */
  private async withAnyOwnersToken<T>(channelIds: string[], fn: (token: string) => Promise<T>): Promise<T> {
    let refused: unknown;
    for (const id of channelIds.slice(0, 5)) {
      const owner = (await this.d.ports.connections.listActiveByChannel(PLATFORM, id))[0];
      if (!owner) continue;
      try {
        return await withToken(this.d.ports, owner.connectionId, fn);
      } catch (err) {
        if (classify(err).kind !== 'reauth') throw err;
        refused = err;
      }
    }
    throw new AppError('WEBSUB_NO_TOKEN', 'no owner token was accepted for the video check', { retriable: true, cause: refused });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.flushTimer);
    clearTimeout(this.dueTimer);
  }
}

/**
 * The callback's HTTP side: node:http on INGEST_WEBSUB_HOST:INGEST_WEBSUB_PORT, behind the reverse proxy
 * that serves YOUTUBE_WEBSUB_CALLBACK_URL (same path). Answers text/plain; logs no bodies or secrets.
 */
export class WebSubCallbackServer {
  private server: http.Server | undefined;

  constructor(private readonly ingest: WebSubIngest, private readonly logger: Logger) {}

  async listen(port: number, host: string): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    const a = this.server.address() as AddressInfo;
    return `http://${host}:${a.port}`;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const reply = (status: number, text: string) => {
      if (res.headersSent) return;
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(text);
    };
    try {
      const url = new URL(req.url ?? '/', 'http://callback');
      const channelId = this.ingest.channelOfPath(url.pathname);
      if (!channelId) return reply(404, 'not a WebSub callback');
      if (req.method === 'GET') return reply(200, await this.ingest.verify(channelId, url.searchParams));
      if (req.method !== 'POST') return reply(405, 'GET (verification) or POST (notification) only');
      const body = await readBody(req, MAX_BODY_BYTES);
      const started = await this.ingest.notify(channelId, body, header(req, 'x-hub-signature'));
      return reply(200, `ok: ${started} stream(s) started`);
    } catch (err) {
      if (err instanceof WebSubRejected) return reply(err.status, err.message);
      this.logger.warn({ err }, 'WebSub callback failed; the hub will deliver again');
      return reply(503, 'temporarily unavailable');
    }
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections?.();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

const header = (req: http.IncomingMessage, name: string) => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new WebSubRejected(413, `body over ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
