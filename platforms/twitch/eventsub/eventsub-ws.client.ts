/**
 * Twitch EventSub over WebSocket for the push path (issue 18.2): one session per watched channel,
 * opened with the broadcaster's user token (WebSocket transport takes user tokens only; 3 connections
 * and 300 subscriptions per token, we use one connection and at most 9 subscriptions per channel).
 * The rules we follow (EventSub "Handling WebSocket Events", DESIGN.md §4):
 * - the first frame is `session_welcome`; every subscription is created (POST eventsub/subscriptions
 *   with the session id) right after it, within `keepalive_timeout_seconds`;
 * - the session itself — keepalive watchdog, the `session_reconnect` hand-over (its `reconnect_url`
 *   first, the old socket closed only after the new welcome, one hand-over at a time, the old socket's
 *   events in flight delivered until it has closed, its close before the new welcome part of the
 *   hand-over, a late welcome never reviving an ended session) — is `EventSubSession`
 *   (eventsub.socket.ts), shared with the chat source: subscriptions move with it, nothing is re-created;
 * - any other end of a session (a close code such as 4007 "invalid reconnect", 4003, a network error,
 *   the keepalive watchdog) deletes its subscriptions on Twitch's side: a new session is opened at the
 *   base URL after a backoff and every subscription is created again, so none is lost;
 * - delivery is at-least-once: a `message_id` already seen is dropped (per channel, across sessions);
 * - `revocation`: authorization_revoked / user_removed / moderator_removed mean the grant is gone and
 *   version_removed that the version is retired — not re-created, and the handler hears of it (ingest
 *   marks the connection for re-authorisation on the first two); notification_failures_exceeded is
 *   Twitch giving up on delivery, not the grant: the subscription is created again on the session;
 * - events sent while no session was open are not replayed: polling heals the state (ingest/README.md).
 * Hand-written rather than @twurple/eventsub-ws: see platforms/README.md ("EventSub push").
 */
import type { Logger } from '../../../shared/logging/logger';
import { AppError } from '../../../shared/errors/app-error';
import { backoffDelay, retry } from '../../../shared/errors/retry';
import type { ChannelPush, PushHandlers, PushSource, PushWatchStatus } from '../../platform.adapter';
import { PlatformError } from '../../http/platform-error';
import type { TwitchEventSubFrame } from '../twitch.external';
import { EVENTSUB_SPECS, eventSubRevokedSubscription, type EventSubSpec } from './eventsub.external';
import { toChannelPush } from './eventsub.mapper';
import { EventSubSession } from './eventsub.socket';
import { LruSet } from '../../../shared/collections/lru-set';

export interface EventSubClientOptions {
  /** wss://eventsub.wss.twitch.tv/ws, the simulator's /ws, or the Twitch CLI's ws://127.0.0.1:PORT/ws. */
  wsUrl: string;
  /** Creates one subscription on a session (the adapter's HTTP client: rate limits, typed errors). */
  subscribe(accessToken: string, sessionId: string, spec: EventSubSpec, channelId: string): Promise<void>;
  handlers: PushHandlers;
  logger?: Logger;
  now?: () => number;
  welcomeTimeoutMs?: number;
  /** Backoff between attempts to reopen a session that ended (default 1 s doubling to 30 s). */
  reopenInitialMs?: number;
  reopenMaxMs?: number;
  /** Types to subscribe to (default all of EVENTSUB_SPECS). */
  specs?: readonly EventSubSpec[];
}

type WithToken = <T>(fn: (accessToken: string) => Promise<T>) => Promise<T>;

interface Watch {
  channelId: string;
  withToken: WithToken;
  wanted: EventSubSpec[];
  missing: Map<string, string>;
  subscribed: Set<string>;
  /** The open session with the subscriptions, or null while none is (being opened, reopening). */
  session: EventSubSession | null;
  /** Delivery ids handled, across the channel's sessions. */
  seen: LruSet;
  queue: Promise<void>;
  stopped: boolean;
  reopenAttempt: number;
  reopenTimer: NodeJS.Timeout | null;
  opening: Promise<void> | null;
}

const SEEN_LIMIT = 10_000;
const HANDLER_ATTEMPTS = 3;

export class TwitchEventSubClient implements PushSource {
  private readonly watches = new Map<string, Watch>();
  private readonly now: () => number;
  private readonly specs: readonly EventSubSpec[];
  private closed = false;
  /** Deliveries dropped as duplicates (at-least-once), for tests and metrics. */
  duplicates = 0;

  constructor(private readonly o: EventSubClientOptions) {
    this.now = o.now ?? Date.now;
    this.specs = o.specs ?? EVENTSUB_SPECS;
  }

  async watch(channelId: string, o: { withToken: WithToken; scopes: readonly string[] }): Promise<PushWatchStatus> {
    if (this.closed) throw new Error('EventSub client is closed');
    let w = this.watches.get(channelId);
    if (!w) {
      const missing = new Map<string, string>();
      const wanted = this.specs.filter((s) => {
        if (s.scope && !o.scopes.includes(s.scope)) {
          missing.set(s.type, `needs scope ${s.scope} (reconnect the channel to grant it)`);
          return false;
        }
        return true;
      });
      w = { channelId, withToken: o.withToken, wanted, missing, subscribed: new Set(), session: null, seen: new LruSet(SEEN_LIMIT), queue: Promise.resolve(), stopped: false, reopenAttempt: 0, reopenTimer: null, opening: null };
      this.watches.set(channelId, w);
    } else {
      w.withToken = o.withToken;
    }
    if (!w.session) {
      try {
        await this.open(w);
      } catch (err) {
        // A socket or network failure is retried here with backoff; refusals (every subscription
        // answered 4xx) wait for the caller's next watch (ingest's reconcile), not a tight loop.
        if ((err as { retriable?: boolean }).retriable !== false) this.scheduleReopen(w);
        throw err;
      }
    }
    return this.statusOf(w);
  }

  async unwatch(channelId: string): Promise<void> {
    const w = this.watches.get(channelId);
    if (!w) return;
    this.watches.delete(channelId);
    this.stop(w);
    await w.queue.catch(() => undefined);
  }

  status(channelId: string): PushWatchStatus | null {
    const w = this.watches.get(channelId);
    return w ? this.statusOf(w) : null;
  }

  watched(): string[] {
    return [...this.watches.keys()];
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.watches.values()];
    this.watches.clear();
    for (const w of all) this.stop(w);
    await Promise.all(all.map((w) => w.queue.catch(() => undefined)));
  }

  private statusOf(w: Watch): PushWatchStatus {
    return { channelId: w.channelId, connected: w.session !== null, sessionId: w.session?.sessionId ?? null, subscribed: [...w.subscribed].sort(), missing: Object.fromEntries(w.missing) };
  }

  private stop(w: Watch): void {
    w.stopped = true;
    if (w.reopenTimer) clearTimeout(w.reopenTimer);
    w.session?.close();
    w.session = null;
  }

  /** A new session at the base URL with every wanted subscription created on it; one at a time per channel. */
  private open(w: Watch): Promise<void> {
    if (w.opening) return w.opening;
    w.opening = (async () => {
      const s = await EventSubSession.open(this.o.wsUrl, { welcomeTimeoutMs: this.o.welcomeTimeoutMs ?? 10_000, seen: w.seen, handlers: this.sessionHandlers(w) });
      try {
        w.subscribed.clear();
        const results = await Promise.allSettled(w.wanted.map((spec) => w.withToken((token) => this.o.subscribe(token, s.sessionId, spec, w.channelId)).then(() => spec)));
        results.forEach((r, i) => {
          const spec = w.wanted[i]!;
          if (r.status === 'fulfilled') {
            w.subscribed.add(spec.type);
            w.missing.delete(spec.type);
          } else {
            w.missing.set(spec.type, `refused: ${(r.reason as Error).message}`);
          }
        });
        if (s.ended) throw new PlatformError('NETWORK', 'EventSub session closed while subscribing', { platform: 'twitch', endpoint: 'eventsub.ws', retriable: true });
        if (w.subscribed.size === 0 && w.wanted.length > 0) throw new PlatformError('FORBIDDEN', `no EventSub subscription accepted for channel ${w.channelId}`, { platform: 'twitch', endpoint: 'helix.eventsub.subscriptions', retriable: false });
      } catch (err) {
        s.close();
        throw err;
      }
      if (w.stopped) {
        s.close();
        return;
      }
      w.session = s;
      w.reopenAttempt = 0;
      this.o.logger?.info({ module: 'twitch-eventsub', channelId: w.channelId, sessionId: s.sessionId, subscribed: w.subscribed.size }, 'EventSub session open');
    })().finally(() => {
      w.opening = null;
    });
    return w.opening;
  }

  /** What the channel's sessions hand over: notifications (already de-duplicated across sessions), revocations, moves, ends. */
  private sessionHandlers(w: Watch) {
    return {
      onNotification: (f: TwitchEventSubFrame) => this.onNotification(w, f),
      onDuplicate: () => void this.duplicates++,
      onRevocation: (f: TwitchEventSubFrame, s: EventSubSession) => this.onRevocation(w, s, f),
      onMoved: (s: EventSubSession) => this.o.logger?.info({ module: 'twitch-eventsub', channelId: w.channelId, sessionId: s.sessionId }, 'EventSub session moved (session_reconnect)'),
      onEnded: (why: string, s: EventSubSession, cause?: unknown) => this.lost(w, s, why, cause),
    };
  }

  private onRevocation(w: Watch, s: EventSubSession, f: TwitchEventSubFrame): void {
    const sub = eventSubRevokedSubscription.safeParse(f.payload.subscription);
    if (!sub.success) return;
    w.subscribed.delete(sub.data.type);
    const spec = w.wanted.find((x) => x.type === sub.data.type);
    this.o.logger?.warn({ module: 'twitch-eventsub', channelId: w.channelId, type: sub.data.type, status: sub.data.status }, 'EventSub subscription revoked');
    if (sub.data.status === 'notification_failures_exceeded' && spec) {
      // Twitch gave up delivering, the grant is fine: create it again on the current session.
      this.resubscribe(w, s, spec);
    } else {
      // authorization_revoked, user_removed, moderator_removed: the grant is gone (the handler marks the
      // connection for re-authorisation); version_removed: that version is retired. None comes back by asking again.
      w.wanted = w.wanted.filter((x) => x.type !== sub.data.type);
      w.missing.set(sub.data.type, `revoked: ${sub.data.status}`);
    }
    this.o.handlers.onRevoked?.(w.channelId, sub.data.type, sub.data.status);
  }

  private onNotification(w: Watch, f: TwitchEventSubFrame): void {
    const push = toChannelPush(f, this.now());
    // Another channel's event on this session (the Twitch CLI broadcasts when subscriptions are not
    // required) or a type we do not map.
    if (!push || push.channelId !== w.channelId) return;
    w.queue = w.queue.then(() => this.deliver(w, push));
  }

  /**
   * Handlers run in delivery order. A failing one is retried through the shared helper, except for an
   * error our code marks non-retriable (retrying cannot change its answer); a client (Redis, Kafka)
   * error is retried. When the attempts run out, the id is forgotten so a redelivery is handled.
   */
  private async deliver(w: Watch, push: ChannelPush): Promise<void> {
    try {
      await retry(() => this.o.handlers.onEvent(push), {
        what: `EventSub ${push.kind} ${push.deliveryId}`,
        attempts: HANDLER_ATTEMPTS,
        initialDelayMs: 200,
        maxDelayMs: 2000,
        retryOn: (err) => !w.stopped && !(err instanceof AppError && !err.retriable),
      });
    } catch (err) {
      w.seen.forget(push.deliveryId);
      this.o.logger?.error({ module: 'twitch-eventsub', channelId: w.channelId, kind: push.kind, deliveryId: push.deliveryId, err }, 'EventSub event not handled');
    }
  }

  private resubscribe(w: Watch, s: EventSubSession, spec: EventSubSpec): void {
    w.withToken((token) => this.o.subscribe(token, s.sessionId, spec, w.channelId)).then(
      () => {
        if (s.ended) return; // the session ended meanwhile: its reopen subscribes everything
        w.subscribed.add(spec.type);
        w.missing.delete(spec.type);
      },
      (err: Error) => {
        w.missing.set(spec.type, `refused: ${err.message}`);
        this.o.logger?.warn({ module: 'twitch-eventsub', channelId: w.channelId, type: spec.type, err }, 'EventSub subscription could not be created again');
      },
    );
  }

  /** The session ended without a hand-over: its subscriptions are gone on Twitch's side. */
  private lost(w: Watch, s: EventSubSession, why: string, cause?: unknown): void {
    if (w.session !== s) return; // still being opened: open() sees it ended and says so
    w.session = null;
    w.subscribed.clear();
    if (w.stopped || this.closed) return;
    this.o.logger?.warn({ module: 'twitch-eventsub', channelId: w.channelId, why, err: cause }, 'EventSub session lost; opening a new one and subscribing again');
    this.scheduleReopen(w);
  }

  private scheduleReopen(w: Watch): void {
    if (w.reopenTimer || w.stopped) return;
    const delay = w.reopenAttempt === 0 ? 0 : backoffDelay(w.reopenAttempt, { initialDelayMs: this.o.reopenInitialMs ?? 1000, maxDelayMs: this.o.reopenMaxMs ?? 30_000 });
    w.reopenAttempt++;
    w.reopenTimer = setTimeout(() => {
      w.reopenTimer = null;
      if (w.stopped || this.closed || w.session) return;
      this.open(w).catch((err: Error & { retriable?: boolean }) => {
        this.o.logger?.warn({ module: 'twitch-eventsub', channelId: w.channelId, err }, 'EventSub session could not be opened');
        if (err.retriable !== false) this.scheduleReopen(w);
      });
    }, delay);
    w.reopenTimer.unref();
  }
}
