/**
 * One EventSub WebSocket session, shared by the push client (eventsub-ws.client.ts) and the chat source
 * (twitch-chat.eventsub.ts), so the rules of DESIGN.md §4 live in one place: the first frame must be
 * `session_welcome` within the welcome timeout (a socket that errors or closes first is a NETWORK
 * PlatformError), the keepalive watchdog, the session_reconnect hand-over and de-duplication by
 * message_id (`EventSubSession`). What a session's frames mean is its owner's business.
 */
import WebSocket from 'ws';
import { PlatformError } from '../../http/platform-error';
import { twitchEventSubFrame, type TwitchEventSubFrame } from '../twitch.external';
import { LruSet } from '../../../shared/collections/lru-set';

export interface EventSubWelcome {
  sessionId: string;
  keepaliveMs: number;
}

/** A frame as Twitch sends it, or null for anything malformed or unknown (skipped, the session kept). */
function parseEventSubFrame(raw: WebSocket.RawData): TwitchEventSubFrame | null {
  try {
    const r = twitchEventSubFrame.safeParse(JSON.parse(raw.toString()));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

/**
 * Opens `url` and, on its welcome, calls `attach` synchronously (frames that arrive in the same chunk as
 * the welcome reach the listeners it adds), then resolves with what `attach` returned. The pre-welcome
 * listeners are removed first; `attach` adds the session's own.
 */
function openEventSubSocket<T>(url: string, welcomeTimeoutMs: number, attach: (ws: WebSocket, welcome: EventSubWelcome) => T, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const ws = new WebSocket(url);
    const fail = (why: string, cause?: unknown) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', aborted);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      reject(new PlatformError('NETWORK', `EventSub WebSocket: ${why}`, { platform: 'twitch', endpoint: 'eventsub.ws', cause }));
    };
    const timer = setTimeout(() => fail('no welcome message'), welcomeTimeoutMs);
    const aborted = () => fail('abandoned before the welcome');
    signal?.addEventListener('abort', aborted, { once: true });
    ws.once('error', (err) => fail('connection failed', err));
    ws.once('close', (code) => fail(`closed (${code}) before the welcome`));
    ws.once('message', (raw) => {
      const f = parseEventSubFrame(raw);
      if (!f || f.metadata.message_type !== 'session_welcome' || !f.payload.session) return fail('first frame was not session_welcome');
      clearTimeout(timer);
      signal?.removeEventListener('abort', aborted);
      ws.removeAllListeners('error');
      ws.removeAllListeners('close');
      try {
        resolve(attach(ws, { sessionId: f.payload.session.id, keepaliveMs: (f.payload.session.keepalive_timeout_seconds ?? 10) * 1000 }));
      } catch (err) {
        fail('session set-up failed', err);
      }
    });
  });
}

/** Closes a session's socket with `code` when it is open, else drops it; a socket already gone is no error. */
function closeEventSubSocket(ws: WebSocket, code: number): void {
  if (ws.listenerCount('error') === 0) ws.on('error', () => undefined); // a late welcome's socket has no listener left
  try {
    if (ws.readyState === WebSocket.OPEN) ws.close(code);
    else ws.terminate();
  } catch {
    /* already gone */
  }
}

/** What a session hands its owner; `s` is the session (frames can arrive before `open` has resolved). */
export interface EventSubSessionHandlers {
  /** The first welcome, before any frame behind it. */
  onWelcome?(welcome: EventSubWelcome, s: EventSubSession): void;
  /** A notification whose message_id is new, from any socket of the session. */
  onNotification(f: TwitchEventSubFrame, s: EventSubSession): void;
  /** A notification whose message_id was handled already. */
  onDuplicate?(f: TwitchEventSubFrame, s: EventSubSession): void;
  onRevocation?(f: TwitchEventSubFrame, s: EventSubSession): void;
  /** A session_reconnect hand-over finished: the session is now `s.sessionId` on the new socket. */
  onMoved?(s: EventSubSession): void;
  /** The session ended by itself (close, watchdog, failed hand-over, `end`); not called for `close`/`closeGracefully`. Once. */
  onEnded(why: string, s: EventSubSession, cause?: unknown): void;
}

export interface EventSubSessionOptions {
  welcomeTimeoutMs: number;
  handlers: EventSubSessionHandlers;
  /** Shared across sessions to de-duplicate across them (the push client, per channel); default this session's own 5,000. */
  seen?: LruSet;
}

/** Silence allowed beyond the advertised keepalive timeout before the session counts as dead. */
const KEEPALIVE_GRACE_MS = 2000;

/**
 * One EventSub session, which may move across sockets (DESIGN.md §4, EventSub "Handling WebSocket Events"),
 * shared by the push client and the chat source:
 * - the keepalive watchdog: no frame on any of its sockets for the advertised timeout + 2 s ends the
 *   session; it judges after the I/O of the loop turn it fires in (a stalled loop runs timers before
 *   reading the frames that arrived meanwhile);
 * - `session_reconnect` (from the current socket only): the new URL is opened first, and the old socket is
 *   closed only after the new welcome; one hand-over at a time (a repeated frame is not a second one:
 *   the subscriptions move to the first new socket); the old socket closing before the new welcome is
 *   read is part of the hand-over, not the end; notifications still in flight on the old socket after
 *   the welcome are delivered until its close arrives (de-duplicated by message_id); a hand-over that
 *   has not finished when the session ends is abandoned, and a late welcome closes its socket;
 * - the current socket closing (not during a hand-over), a failed hand-over, the watchdog or `end` end
 *   the session for good (`onEnded`, once): the owner opens a new one and subscribes again.
 */
export class EventSubSession {
  sessionId: string;
  keepaliveMs: number;
  private current: WebSocket;
  /** Every socket still open: the current one and, after a hand-over, the old one until its close arrives. */
  private readonly sockets = new Set<WebSocket>();
  private readonly seen: LruSet;
  private pending: AbortController | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private ending = false;
  private drained: (() => void) | null = null;
  private done = false;

  /** Opens `url` and resolves on its welcome; frames right behind the welcome already reach `handlers`. */
  static open(url: string, o: EventSubSessionOptions): Promise<EventSubSession> {
    return openEventSubSocket(url, o.welcomeTimeoutMs, (ws, welcome) => new EventSubSession(ws, welcome, o));
  }

  private constructor(ws: WebSocket, welcome: EventSubWelcome, private readonly o: EventSubSessionOptions) {
    this.current = ws;
    this.sessionId = welcome.sessionId;
    this.keepaliveMs = welcome.keepaliveMs;
    this.seen = o.seen ?? new LruSet(5000);
    o.handlers.onWelcome?.(welcome, this);
    this.attach(ws);
  }

  get ended(): boolean {
    return this.done;
  }

  /** Ends the session as if it had ended by itself: `onEnded(why)` is called (a revocation, for the chat source). */
  end(why: string): void {
    this.finish(why);
  }

  /** Closes every socket now; `onEnded` is not called. Safe to call twice. */
  close(): void {
    this.kill();
  }

  /**
   * Closes every socket and waits (up to `timeoutMs`) for their close handshakes, so every notification
   * Twitch sent before it stopped is delivered; `onEnded` is not called.
   */
  async closeGracefully(timeoutMs: number): Promise<void> {
    if (this.done) return;
    this.ending = true;
    this.pending?.abort();
    this.pending = null;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.drained = () => {
        clearTimeout(timer);
        resolve();
      };
      for (const ws of this.sockets) {
        try {
          if (ws.readyState === WebSocket.OPEN) ws.close(1000);
        } catch {
          /* already gone */
        }
      }
      if (this.sockets.size === 0) this.drained();
    });
    this.kill();
  }

  /** Listens to one of the session's sockets (synchronously on its welcome: frames right behind it count). */
  private attach(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('message', (raw) => this.onFrame(ws, raw));
    ws.on('close', (code) => this.onClose(ws, code));
    ws.on('error', () => undefined);
    this.arm();
  }

  private onFrame(ws: WebSocket, raw: WebSocket.RawData): void {
    if (this.done || !this.sockets.has(ws)) return;
    this.arm();
    const f = parseEventSubFrame(raw);
    if (!f) return; // unknown or malformed frame: skip it, keep the session
    const h = this.o.handlers;
    switch (f.metadata.message_type) {
      case 'notification':
        if (!this.seen.seen(f.metadata.message_id)) h.onNotification(f, this);
        else h.onDuplicate?.(f, this);
        return;
      case 'revocation':
        return h.onRevocation?.(f, this);
      case 'session_reconnect':
        // The old socket of a hand-over no longer speaks for the session; a repeated frame during one is not a second one.
        if (ws === this.current && !this.pending && !this.ending && f.payload.session?.reconnect_url) this.handOver(f.payload.session.reconnect_url);
        return;
      default:
        return; // session_keepalive: the watchdog was re-armed above
    }
  }

  private onClose(ws: WebSocket, code: number): void {
    this.sockets.delete(ws);
    if (this.sockets.size === 0) this.drained?.();
    // During a hand-over the new socket carries the subscriptions (Twitch may close the old one before its welcome is read).
    if (ws === this.current && !this.pending && !this.ending) this.finish(`closed with ${code}`);
  }

  private handOver(url: string): void {
    const pending = new AbortController();
    this.pending = pending;
    openEventSubSocket(url, this.o.welcomeTimeoutMs, (ws, welcome) => {
      this.pending = null;
      if (this.done || this.ending) return closeEventSubSocket(ws, 1000); // a late welcome does not revive the session
      const old = this.current;
      this.current = ws;
      this.sessionId = welcome.sessionId;
      this.keepaliveMs = welcome.keepaliveMs;
      this.attach(ws);
      // Closed after the welcome; its frames still in flight are delivered until its close arrives.
      if (old.readyState === WebSocket.OPEN) old.close(1000);
      this.o.handlers.onMoved?.(this);
    }, pending.signal).catch((err: unknown) => {
      if (this.pending === pending) this.pending = null;
      if (!this.ending) this.finish('session_reconnect failed', err);
    });
  }

  private arm(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    const timer = setTimeout(() => {
      // After a stall longer than the timeout this timer runs before the frames that arrived meanwhile are
      // read (a loop turn runs timers before I/O): judge after this turn's I/O, where a frame re-arms it.
      setImmediate(() => {
        if (this.watchdog === timer) this.finish('keepalive timeout');
      });
    }, this.keepaliveMs + KEEPALIVE_GRACE_MS);
    timer.unref();
    this.watchdog = timer;
  }

  private finish(why: string, cause?: unknown): void {
    if (this.done) return;
    this.kill();
    this.o.handlers.onEnded(why, this, cause);
  }

  private kill(): void {
    this.done = true;
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = null;
    this.pending?.abort();
    this.pending = null;
    for (const ws of [this.current, ...this.sockets]) closeEventSubSocket(ws, 1000);
    this.sockets.clear();
  }
}
