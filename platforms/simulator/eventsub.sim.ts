/**
 * Simulated EventSub WebSocket (eventsub.wss.twitch.tv/ws): a welcome frame with the session id and
 * keepalive timeout, `channel.chat.message` notifications from the world's chat, keepalives when
 * quiet, closing unused sessions (4003) and `session_reconnect` on demand (/__sim/eventsub/reconnect).
 * Push subscriptions (issue 18.4): `stream.online` / `stream.offline` when the world's live state of a
 * subscribed channel changes (its sessions, or /__sim/live), `channel.follow` for each follower the
 * world's growth adds (at most FOLLOWS_PER_TICK per tick), each with a deterministic message id.
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import { WebSocketServer, WebSocket } from 'ws';
import type { SimState } from './simulator.state';
import type { World } from './world';

interface SimSession {
  id: string;
  ws: WebSocket;
  subs: Map<string, number>; // channelId → chat delivered up to (ms)
  /** channelId → push types subscribed, and what the last tick saw (to send changes only). */
  push: Map<string, { types: Set<string>; live: boolean | null; streamId: string | null; followers: number | null }>;
  welcomedAt: number;
  lastFrameAt: number;
}

const frame = (type: string, payload: unknown, subscriptionType?: string, messageId?: string, version = '1') =>
  JSON.stringify({
    metadata: { message_id: messageId ?? crypto.randomUUID(), message_type: type, message_timestamp: new Date().toISOString(), ...(subscriptionType ? { subscription_type: subscriptionType, subscription_version: version } : {}) },
    payload,
  });

const FOLLOWS_PER_TICK = 20;
/** A UUID-shaped id that is the same for the same event (a redelivery carries it again). */
const stableId = (key: string) => {
  const h = crypto.createHash('sha1').update(key).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

export class EventSubSim {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sessions = new Map<string, SimSession>();
  private readonly timer: NodeJS.Timeout;
  /** How many notifications were sent twice on purpose (at-least-once delivery). */
  duplicateEvery = 0;
  sent = 0;

  constructor(private readonly state: SimState, private readonly world: World, private readonly baseWsUrl: () => string) {
    this.timer = setInterval(() => this.tick(), 500);
    this.timer.unref();
  }

  attach(server: http.Server): void {
    server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/ws') return socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, url.searchParams.get('reconnect')));
    });
  }

  subscribe(sessionId: string, channelId: string): boolean {
    const s = this.sessions.get(sessionId);
    if (!s || s.ws.readyState !== WebSocket.OPEN) return false;
    if (!s.subs.has(channelId)) s.subs.set(channelId, this.state.clock());
    return true;
  }

  /** A push subscription (stream.online, stream.offline, channel.follow) of a channel on a session. */
  subscribePush(sessionId: string, channelId: string, type: string): boolean {
    const s = this.sessions.get(sessionId);
    if (!s || s.ws.readyState !== WebSocket.OPEN || !this.world.channel(channelId)) return false;
    // What the channel looks like now is the baseline: changes after the subscription are pushed.
    const now = this.state.clock();
    const st = this.world.stateAt(channelId, now);
    const p = s.push.get(channelId) ?? { types: new Set<string>(), live: st.live, streamId: st.streamId, followers: this.world.followersAt(channelId, now) };
    p.types.add(type);
    s.push.set(channelId, p);
    return true;
  }

  /** Push notifications sent (tests, counters). */
  pushSent = 0;

  /** Sends session_reconnect to every session (Twitch does this before maintenance). */
  reconnectAll(): number {
    let n = 0;
    for (const s of this.sessions.values()) {
      if (s.ws.readyState !== WebSocket.OPEN) continue;
      const reconnect_url = `${this.baseWsUrl()}/ws?reconnect=${s.id}`;
      s.ws.send(frame('session_reconnect', { session: { id: s.id, status: 'reconnecting', keepalive_timeout_seconds: null, reconnect_url, connected_at: new Date(s.welcomedAt).toISOString() } }));
      n++;
    }
    return n;
  }

  sessionCount(): number {
    return [...this.sessions.values()].filter((s) => s.ws.readyState === WebSocket.OPEN).length;
  }

  close(): void {
    clearInterval(this.timer);
    for (const s of this.sessions.values()) s.ws.terminate();
    this.wss.close();
  }

  private onConnection(ws: WebSocket, reconnectOf: string | null): void {
    const old = reconnectOf ? this.sessions.get(reconnectOf) : undefined;
    const s: SimSession = { id: crypto.randomUUID(), ws, subs: new Map(old?.subs ?? []), push: new Map(old?.push ?? []), welcomedAt: this.state.clock(), lastFrameAt: this.state.clock() };
    this.sessions.set(s.id, s);
    ws.on('close', () => this.sessions.delete(s.id));
    ws.on('message', () => ws.close(4001, 'client sent inbound traffic'));
    if (old) {
      old.subs.clear(); // subscriptions moved to the new session
      old.push.clear();
    }
    ws.send(
      frame('session_welcome', {
        session: { id: s.id, status: 'connected', keepalive_timeout_seconds: this.state.config.eventSubKeepaliveSeconds, reconnect_url: null, connected_at: new Date(s.welcomedAt).toISOString() },
      }),
    );
  }

  private tick(): void {
    const now = this.state.clock();
    const keepaliveMs = this.state.config.eventSubKeepaliveSeconds * 1000;
    for (const s of this.sessions.values()) {
      if (s.ws.readyState !== WebSocket.OPEN) continue;
      this.tickPush(s, now);
      if (s.subs.size === 0 && s.push.size === 0 && now - s.welcomedAt > keepaliveMs) {
        s.ws.close(4003, 'connection unused');
        continue;
      }
      for (const [channelId, from] of s.subs) {
        const ch = this.world.channel(channelId);
        if (!ch) continue;
        const msgs = this.world.chatMessagesBetween(channelId, from, now, 500);
        for (const m of msgs) {
          const msg = frame(
            'notification',
            {
              subscription: { id: `${s.id}:${channelId}`, status: 'enabled', type: 'channel.chat.message', version: '1', cost: 0 },
              event: {
                broadcaster_user_id: channelId,
                broadcaster_user_login: ch.login,
                broadcaster_user_name: ch.displayName,
                chatter_user_id: m.authorId,
                chatter_user_login: m.authorName,
                chatter_user_name: m.authorName,
                message_id: m.id,
                message: { text: m.text, fragments: [{ type: 'text', text: m.text }] },
                message_type: 'text',
              },
            },
            'channel.chat.message',
          );
          s.ws.send(msg);
          this.sent++;
          this.state.noteChatDelivered(channelId, [m]);
          if (this.duplicateEvery > 0 && this.sent % this.duplicateEvery === 0) s.ws.send(msg);
          s.lastFrameAt = now;
        }
        // A full page means more is waiting: resume right after the last message sent.
        s.subs.set(channelId, msgs.length === 500 ? msgs[msgs.length - 1]!.publishedAt + 1 : now);
      }
      if (now - s.lastFrameAt >= keepaliveMs * 0.8 && s.ws.readyState === WebSocket.OPEN) {
        s.ws.send(frame('session_keepalive', {}));
        s.lastFrameAt = now;
      }
    }
  }

  private tickPush(s: SimSession, now: number): void {
    for (const [channelId, p] of s.push) {
      const ch = this.world.channel(channelId);
      if (!ch) continue;
      const st = this.world.stateAt(channelId, now);
      const who = { broadcaster_user_id: channelId, broadcaster_user_login: ch.login, broadcaster_user_name: ch.displayName };
      const send = (type: string, version: string, id: string, event: object) => {
        const msg = frame('notification', { subscription: { id: `${s.id}:${channelId}:${type}`, status: 'enabled', type, version, cost: 0 }, event }, type, stableId(id), version);
        s.ws.send(msg);
        this.pushSent++;
        this.sent++;
        if (this.duplicateEvery > 0 && this.sent % this.duplicateEvery === 0) s.ws.send(msg);
        s.lastFrameAt = now;
      };
      if (p.live !== null && st.live !== p.live) {
        if (st.live && p.types.has('stream.online')) send('stream.online', '1', `${channelId}:${st.streamId}:online`, { ...who, id: st.streamId, type: 'live', started_at: new Date(st.startedAt ?? now).toISOString() });
        if (!st.live && p.types.has('stream.offline')) send('stream.offline', '1', `${channelId}:${p.streamId}:offline`, who);
      }
      p.live = st.live;
      p.streamId = st.live ? st.streamId : p.streamId;
      const total = this.world.followersAt(channelId, now);
      if (p.followers !== null && total > p.followers && p.types.has('channel.follow')) {
        // The same follower ids as GET /helix/channels/followers lists (rank 0 = the newest).
        for (let n = Math.max(p.followers + 1, total - FOLLOWS_PER_TICK + 1); n <= total; n++) {
          const userId = String(crypto.createHash('sha1').update(`${channelId}:${n}`).digest().readUInt32BE(0));
          send('channel.follow', '2', `${channelId}:follow:${n}`, { ...who, user_id: userId, user_login: `follower${userId}`, user_name: `Follower${userId}`, followed_at: new Date(now).toISOString() });
        }
      }
      p.followers = p.followers === null || total > p.followers ? total : p.followers;
    }
  }
}
