/**
 * Twitch chat activity through EventSub over WebSocket (`channel.chat.message`), exposed to the
 * poll-shaped adapter interface as "what arrived since the last drain". Helix has no endpoint to read
 * chat, so a push subscription is the only documented way. The session itself — welcome, keepalive
 * watchdog, the session_reconnect hand-over (one at a time; the old socket's events in flight count
 * until it has closed; its close before the new welcome is part of the hand-over; a late welcome does
 * not revive an ended session) and de-duplication by `metadata.message_id` — is `EventSubSession`
 * (eventsub/eventsub.socket.ts), shared with the push client. Here:
 * - subscribe within `keepalive_timeout_seconds` of the welcome, or Twitch closes the socket;
 * - a session that ended (close, watchdog, failed hand-over, a revocation) is reopened at the next drain;
 * - events missed while disconnected are not replayed: the batch says nothing about them.
 * Sessions live in this process; the ingest scheduler keeps a channel's chat job on one worker.
 */
import type { Logger } from '../../shared/logging/logger';
import type { ChatBatch } from '../platform.adapter';
import { chatterIdOf } from '../chatter-id';
import { twitchChatMessageEvent } from './twitch.external';
import { EventSubSession } from './eventsub/eventsub.socket';
import { LruSet } from '../../shared/collections/lru-set';

/** A channel's chat session: the EventSub session (welcome, watchdog, hand-over, de-dup) and what it counted. */
interface Session {
  session: EventSubSession;
  channelId: string;
  messages: number;
  chatters: Set<string>;
  lastDrainAt: number;
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
    if (!existing || existing.session.ended) {
      // What a session counted before it died is still reported (up to now: the batch says nothing of
      // what was missed while no session was open, as Twitch does not replay).
      const carried = existing && existing.messages > 0 ? { messages: existing.messages, chatters: [...existing.chatters], from: existing.lastDrainAt } : null;
      const s = await this.open(accessToken, channelId);
      if (carried) return { channelId, intervalStart: carried.from, intervalEnd: s.lastDrainAt, messages: carried.messages, chatterIds: carried.chatters, cursor: `eventsub:${s.session.sessionId}`, nextPollMs: null };
      return { channelId, intervalStart: s.lastDrainAt, intervalEnd: s.lastDrainAt, messages: 0, chatterIds: [], cursor: `eventsub:${s.session.sessionId}`, nextPollMs: null };
    }
    const batch: ChatBatch = {
      channelId,
      intervalStart: existing.lastDrainAt,
      intervalEnd: now,
      messages: existing.messages,
      chatterIds: [...existing.chatters],
      cursor: `eventsub:${existing.session.sessionId}`,
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
    await s.session.closeGracefully(closeTimeoutMs);
    const batch: ChatBatch = {
      channelId, intervalStart: s.lastDrainAt, intervalEnd: Math.max(s.lastDrainAt, this.now()), messages: s.messages, chatterIds: [...s.chatters],
      cursor: `eventsub:${s.session.sessionId}`, nextPollMs: null,
    };
    s.messages = 0;
    s.chatters.clear();
    return batch;
  }

  /** Channels with a live session (for tests and metrics). */
  activeChannels(): string[] {
    return [...this.sessions.values()].filter((s) => !s.session.ended).map((s) => s.channelId);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.sessions.values()) s.session.close();
    this.sessions.clear();
  }

  private open(accessToken: string, channelId: string): Promise<Session> {
    let p = this.opening.get(channelId);
    if (!p) {
      p = (async () => {
        const s = await this.connect(channelId);
        try {
          await this.o.subscribe(accessToken, s.session.sessionId, channelId);
        } catch (err) {
          s.session.close();
          throw err;
        }
        this.sessions.set(channelId, s);
        return s;
      })().finally(() => this.opening.delete(channelId));
      this.opening.set(channelId, p);
    }
    return p;
  }

  /** Opens a new session and resolves on its welcome; chat right behind the welcome is counted. */
  private async connect(channelId: string): Promise<Session> {
    const counts = { channelId, messages: 0, chatters: new Set<string>(), lastDrainAt: this.now() };
    const session = await EventSubSession.open(this.o.eventSubUrl, {
      welcomeTimeoutMs: this.o.welcomeTimeoutMs ?? 10_000,
      seen: new LruSet(SEEN_LIMIT),
      handlers: {
        onWelcome: () => void (counts.lastDrainAt = this.now()),
        onNotification: (f) => {
          if (f.metadata.subscription_type !== 'channel.chat.message') return;
          const ev = twitchChatMessageEvent.safeParse(f.payload.event);
          if (!ev.success) return;
          counts.messages++;
          counts.chatters.add(chatterIdOf('twitch', ev.data.chatter_user_id));
        },
        // The chat subscription is gone: the session is of no use; the next drain opens a new one.
        onRevocation: (_f, s) => s.end('revocation'),
        onEnded: (why) => {
          if (!this.closed) this.o.logger?.info({ module: 'twitch-eventsub', channelId, why }, 'EventSub session ended; reopening on next poll');
        },
      },
    });
    return Object.assign(counts, { session });
  }
}
