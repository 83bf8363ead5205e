/**
 * Twitch chat activity through EventSub over WebSocket (`channel.chat.message`), exposed to the
 * poll-shaped adapter interface as "what arrived since the last drain". Helix has no endpoint to read
 * chat, so a push subscription is the only documented way. Rules we follow (EventSub WebSocket docs):
 * - subscribe within `keepalive_timeout_seconds` of the welcome, or Twitch closes the socket;
 * - no frame for longer than the keepalive timeout means the socket is dead: drop it, reopen lazily;
 * - on `session_reconnect` open the new URL first and close the old one only after its welcome
 *   (subscriptions move with the session; closing first loses them, close code 4007); events still in
 *   flight on the old socket count until it has closed, one hand-over runs at a time, the old socket
 *   closing before the new welcome is read is part of the hand-over (not the end of the session), and
 *   a hand-over that completes after the session ended closes its socket instead of reviving it;
 * - delivery is at-least-once: de-duplicate by `metadata.message_id`;
 * - events missed while disconnected are not replayed: the batch says nothing about them.
 * Sessions live in this process; the ingest scheduler keeps a channel's chat job on one worker.
 */
import WebSocket from 'ws';
import type { Logger } from '../../shared/logging/logger';
import type { ChatBatch } from '../platform.adapter';
import { chatterIdOf } from '../chatter-id';
import { twitchChatMessageEvent } from './twitch.external';
import { closeEventSubSocket, openEventSubSocket, parseEventSubFrame } from './eventsub/eventsub.socket';

interface Session {
  /** The socket whose welcome gave `sessionId`; control frames (reconnect, revocation) count from it only. */
  ws: WebSocket;
  /**
   * Every socket still open for this session: the current one and, during a session_reconnect
   * hand-over, the old one until it has closed. Twitch sends events on the old socket until the new one
   * is welcomed, so frames still in flight on it are counted too (de-duplicated by message_id).
   */
  sockets: Set<WebSocket>;
  /** A session_reconnect hand-over is under way (one at a time: it carries the subscriptions). */
  handingOver: boolean;
  sessionId: string;
  channelId: string;
  messages: number;
  chatters: Set<string>;
  seen: Set<string>;
  lastDrainAt: number;
  keepaliveMs: number;
  watchdog: NodeJS.Timeout | null;
  dead: boolean;
}

export interface ChatSourceOptions {
  eventSubUrl: string;
  subscribe(accessToken: string, sessionId: string, channelId: string): Promise<void>;
  logger?: Logger;
  now?: () => number;
  welcomeTimeoutMs?: number;
}

const SEEN_LIMIT = 5000;

export class TwitchChatSource {
  private readonly sessions = new Map<string, Session>();
  private readonly opening = new Map<string, Promise<Session>>();
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly o: ChatSourceOptions) {
    this.now = o.now ?? Date.now;
  }

  async drain(accessToken: string, channelId: string, _cursor: string | null): Promise<ChatBatch> {
    const now = this.now();
    const existing = this.sessions.get(channelId);
    if (!existing || existing.dead) {
      // What a session counted before it died is still reported (up to now: the batch says nothing of
      // what was missed while no session was open, as Twitch does not replay).
      const carried = existing && existing.messages > 0 ? { messages: existing.messages, chatters: [...existing.chatters], from: existing.lastDrainAt } : null;
      const s = await this.open(accessToken, channelId);
      if (carried) return { channelId, intervalStart: carried.from, intervalEnd: s.lastDrainAt, messages: carried.messages, chatterIds: carried.chatters, cursor: `eventsub:${s.sessionId}`, nextPollMs: null };
      return { channelId, intervalStart: s.lastDrainAt, intervalEnd: s.lastDrainAt, messages: 0, chatterIds: [], cursor: `eventsub:${s.sessionId}`, nextPollMs: null };
    }
    const batch: ChatBatch = {
      channelId,
      intervalStart: existing.lastDrainAt,
      intervalEnd: now,
      messages: existing.messages,
      chatterIds: [...existing.chatters],
      cursor: `eventsub:${existing.sessionId}`,
      nextPollMs: null,
    };
    existing.messages = 0;
    existing.chatters.clear();
    existing.lastDrainAt = now;
    return batch;
  }

  /**
   * Ends a channel's session for good (its chat stops being read): closes the socket and waits for the
   * close handshake, so every notification Twitch sent before it stopped is counted, then returns what
   * arrived since the last drain. A dead session returns what it had counted before it died.
   */
  async end(channelId: string, closeTimeoutMs = 5000): Promise<ChatBatch | null> {
    const s = this.sessions.get(channelId);
    if (!s) return null;
    this.sessions.delete(channelId);
    if (!s.dead) {
      const ws = s.ws;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, closeTimeoutMs);
        timer.unref();
        ws.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        try {
          ws.close(1000);
        } catch {
          resolve();
        }
      });
      this.kill(s, 1000);
    }
    const batch: ChatBatch = {
      channelId, intervalStart: s.lastDrainAt, intervalEnd: Math.max(s.lastDrainAt, this.now()), messages: s.messages, chatterIds: [...s.chatters],
      cursor: `eventsub:${s.sessionId}`, nextPollMs: null,
    };
    s.messages = 0;
    s.chatters.clear();
    return batch;
  }

  /** Channels with a live session (for tests and metrics). */
  activeChannels(): string[] {
    return [...this.sessions.values()].filter((s) => !s.dead).map((s) => s.channelId);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.sessions.values()) this.kill(s, 1000);
    this.sessions.clear();
  }

  private open(accessToken: string, channelId: string): Promise<Session> {
    let p = this.opening.get(channelId);
    if (!p) {
      p = (async () => {
        const s = await this.connect(this.o.eventSubUrl, channelId);
        try {
          await this.o.subscribe(accessToken, s.sessionId, channelId);
        } catch (err) {
          this.kill(s, 1000);
          throw err;
        }
        this.sessions.set(channelId, s);
        return s;
      })().finally(() => this.opening.delete(channelId));
      this.opening.set(channelId, p);
    }
    return p;
  }

  /** Opens a new session's socket and resolves on its welcome frame. */
  private connect(url: string, channelId: string): Promise<Session> {
    return openEventSubSocket(url, this.o.welcomeTimeoutMs ?? 10_000, (ws, welcome) => {
      const s: Session = { ws, sockets: new Set(), handingOver: false, sessionId: welcome.sessionId, channelId, messages: 0, chatters: new Set(), seen: new Set(), lastDrainAt: this.now(), keepaliveMs: welcome.keepaliveMs, watchdog: null, dead: false };
      this.attach(s, ws);
      return s;
    });
  }

  /** Listens to one of a session's sockets (synchronously on its welcome: frames right behind it count). */
  private attach(s: Session, ws: WebSocket): void {
    s.sockets.add(ws);
    ws.on('message', (data) => this.onFrame(s, ws, data));
    ws.on('close', () => {
      s.sockets.delete(ws);
      // The current socket closing ends the session, unless a hand-over is under way: the new socket
      // then carries the subscriptions (Twitch may close the old one before we have read the welcome).
      if (ws === s.ws && !s.handingOver) this.markDead(s);
    });
    ws.on('error', () => undefined);
    this.arm(s);
  }

  private onFrame(s: Session, ws: WebSocket, raw: WebSocket.RawData): void {
    if (s.dead || !s.sockets.has(ws)) return;
    this.arm(s);
    const f = parseEventSubFrame(raw);
    if (!f) return; // unknown or malformed frame: skip it, keep the session
    if (f.metadata.message_type === 'notification' && f.metadata.subscription_type === 'channel.chat.message') {
      if (s.seen.has(f.metadata.message_id)) return;
      s.seen.add(f.metadata.message_id);
      if (s.seen.size > SEEN_LIMIT) s.seen.delete(s.seen.values().next().value!);
      const ev = twitchChatMessageEvent.safeParse(f.payload.event);
      if (!ev.success) return;
      s.messages++;
      s.chatters.add(chatterIdOf('twitch', ev.data.chatter_user_id));
    } else if (ws !== s.ws) {
      return; // the old socket of a hand-over: its events count, its control frames no longer apply
    } else if (f.metadata.message_type === 'session_reconnect' && f.payload.session?.reconnect_url) {
      // A repeated reconnect while one is under way is not a second hand-over: two new sockets would
      // split the session (the subscriptions move to the first; the session would follow the second).
      if (!s.handingOver) this.handOver(s, ws, f.payload.session.reconnect_url);
    } else if (f.metadata.message_type === 'revocation') {
      this.markDead(s);
    }
  }

  /** session_reconnect: the new socket first; the old one closes only once the new one is welcomed. */
  private handOver(s: Session, old: WebSocket, url: string): void {
    s.handingOver = true;
    openEventSubSocket(url, this.o.welcomeTimeoutMs ?? 10_000, (ws, welcome) => {
      s.handingOver = false;
      // The session ended meanwhile (watchdog, revocation, close()): the late socket must not revive it.
      if (s.dead) return closeEventSubSocket(ws, 1000);
      s.ws = ws;
      s.sessionId = welcome.sessionId;
      s.keepaliveMs = welcome.keepaliveMs;
      this.attach(s, ws);
      // Closed after the welcome; its frames still in flight are counted until its close arrives.
      if (s.sockets.has(old)) closeEventSubSocket(old, 1000);
    }).catch((err: unknown) => {
      s.handingOver = false;
      this.o.logger?.warn({ module: 'twitch-eventsub', channelId: s.channelId, err }, 'EventSub reconnect failed');
      this.markDead(s);
    });
  }

  /** Keepalive watchdog: silence longer than the advertised timeout means a dead socket. */
  private arm(s: Session): void {
    if (s.watchdog) clearTimeout(s.watchdog);
    const timer = setTimeout(() => {
      // When the event loop stalled for longer than the timeout (a loaded box), this timer runs before
      // the frames that arrived meanwhile are read: a loop turn runs timers before I/O. Judge after
      // this turn's I/O (setImmediate): a frame read there re-armed the watchdog with a new timer.
      setImmediate(() => {
        if (s.watchdog === timer) this.markDead(s);
      });
    }, s.keepaliveMs + 2000);
    timer.unref();
    s.watchdog = timer;
  }

  private markDead(s: Session): void {
    if (s.dead) return;
    this.kill(s, 1000);
    if (!this.closed) this.o.logger?.info({ module: 'twitch-eventsub', channelId: s.channelId }, 'EventSub session ended; reopening on next poll');
  }

  private kill(s: Session, code: number): void {
    s.dead = true;
    if (s.watchdog) clearTimeout(s.watchdog);
    s.watchdog = null;
    for (const ws of [s.ws, ...s.sockets]) closeEventSubSocket(ws, code);
    s.sockets.clear();
  }
}
