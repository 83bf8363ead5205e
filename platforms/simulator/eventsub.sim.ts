/**
 * Simulated EventSub WebSocket (eventsub.wss.twitch.tv/ws): a welcome frame with the session id and
 * keepalive timeout, `channel.chat.message` notifications from the world's chat, keepalives when
 * quiet, closing unused sessions (4003) and `session_reconnect` on demand (/__sim/eventsub/reconnect).
 * Push subscriptions (issue 18), each notification with a deterministic message id and the event
 * object Twitch documents (the Twitch CLI's `event trigger` prints the same shapes):
 * - `stream.online` / `stream.offline` when the world's live state of a subscribed channel changes
 *   (its sessions, or /__sim/live), `channel.update` when its title or category changes;
 * - `channel.follow` for each follower the world's growth adds (at most FOLLOWS_PER_TICK per tick);
 * - `channel.raid`, `channel.subscribe`, `channel.subscription.message`, `channel.subscription.gift`
 *   (plus one `channel.subscribe` with is_gift per recipient, as Twitch sends) and `channel.cheer` from
 *   the world's audience events of live sessions (world.audience.ts);
 * - `revocation`: with status authorization_revoked, for every subscription of a grant that was
 *   revoked (/__sim/revoke, the revoked_token fault), and on demand with any status (`revoke`,
 *   /__sim/eventsub/revoke). A revoked subscription sends nothing more.
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import { WebSocketServer, WebSocket } from 'ws';
import type { SimState } from './simulator.state';
import type { World } from './world';
import { hashString, mix } from './world.hash';
import { audienceEventsBetween, type SimActor, type SimAudienceEvent } from './world.audience';

interface SimSession {
  id: string;
  ws: WebSocket;
  subs: Map<string, number>; // channelId → chat delivered up to (ms)
  /** channelId → push subscriptions, and what the last tick saw (to send changes only). */
  push: Map<string, PushState>;
  welcomedAt: number;
  lastFrameAt: number;
}

const frame = (type: string, payload: unknown, subscriptionType?: string, messageId?: string, version = '1') =>
  JSON.stringify({
    metadata: { message_id: messageId ?? crypto.randomUUID(), message_type: type, message_timestamp: new Date().toISOString(), ...(subscriptionType ? { subscription_type: subscriptionType, subscription_version: version } : {}) },
    payload,
  });

interface PushSub { id: string; version: string; condition: Record<string, string>; grantId: string | null }
interface PushState {
  subs: Map<string, PushSub>; // type → subscription
  live: boolean | null;
  streamId: string | null;
  followers: number | null;
  title: string;
  category: string;
  /** Audience events are sent from here on (the last one sent + 1 ms). */
  audienceFrom: number;
}

const FOLLOWS_PER_TICK = 20;
const AUDIENCE_PER_TICK = 50;
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

  /** `audienceScale` multiplies the world's audience event rates (world.audience.ts; tests). */
  constructor(private readonly state: SimState, private readonly world: World, private readonly baseWsUrl: () => string, private readonly o: { audienceScale?: number } = {}) {
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

  /**
   * A push subscription of a channel on a session; `grantId` is the token's grant (a revoked grant
   * revokes its subscriptions). Returns the subscription id, or null when the session is not open.
   */
  subscribePush(sessionId: string, channelId: string, type: string, o: { version: string; condition: Record<string, string>; grantId?: string }): string | null {
    const s = this.sessions.get(sessionId);
    if (!s || s.ws.readyState !== WebSocket.OPEN || !this.world.channel(channelId)) return null;
    // What the channel looks like now is the baseline: changes after the subscription are pushed.
    const now = this.state.clock();
    const st = this.world.stateAt(channelId, now);
    const p: PushState = s.push.get(channelId) ?? { subs: new Map(), live: st.live, streamId: st.streamId, followers: this.world.followersAt(channelId, now), title: st.title, category: st.category, audienceFrom: now };
    const id = crypto.randomUUID();
    p.subs.set(type, { id, version: o.version, condition: o.condition, grantId: o.grantId ?? null });
    s.push.set(channelId, p);
    return id;
  }

  /**
   * Sends a `revocation` with `status` for the channel's push subscriptions (all, or `type`) on every
   * session, as Twitch does when a user revokes the app (authorization_revoked), is banned or deleted
   * (user_removed), or a version is retired (version_removed). Returns how many were revoked.
   */
  revoke(channelId: string, status: string, type?: string): number {
    let n = 0;
    for (const s of this.sessions.values()) {
      const p = s.push.get(channelId);
      if (!p || s.ws.readyState !== WebSocket.OPEN) continue;
      for (const [t, sub] of [...p.subs]) {
        if (type && t !== type) continue;
        this.sendRevocation(s, t, sub, status);
        p.subs.delete(t);
        n++;
      }
      if (p.subs.size === 0) s.push.delete(channelId);
    }
    return n;
  }

  private sendRevocation(s: SimSession, type: string, sub: PushSub, status: string): void {
    s.ws.send(frame('revocation', {
      subscription: { id: sub.id, status, type, version: sub.version, cost: 0, condition: sub.condition, transport: { method: 'websocket', session_id: s.id }, created_at: new Date(s.welcomedAt).toISOString() },
    }, type, undefined, sub.version));
    s.lastFrameAt = this.state.clock();
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
      // A revoked grant's subscriptions end with a revocation (Twitch: the user revoked the app).
      for (const [type, sub] of [...p.subs]) {
        if (sub.grantId && this.state.grants.get(sub.grantId)?.revoked) {
          this.sendRevocation(s, type, sub, 'authorization_revoked');
          p.subs.delete(type);
        }
      }
      if (p.subs.size === 0) {
        s.push.delete(channelId);
        continue;
      }
      const st = this.world.stateAt(channelId, now);
      const who = { broadcaster_user_id: channelId, broadcaster_user_login: ch.login, broadcaster_user_name: ch.displayName };
      const send = (type: string, id: string, event: object) => {
        const sub = p.subs.get(type);
        if (!sub) return;
        const msg = frame('notification', { subscription: { id: sub.id, status: 'enabled', type, version: sub.version, cost: 0, condition: sub.condition, transport: { method: 'websocket', session_id: s.id }, created_at: new Date(s.welcomedAt).toISOString() }, event }, type, stableId(id), sub.version);
        s.ws.send(msg);
        this.pushSent++;
        this.sent++;
        if (this.duplicateEvery > 0 && this.sent % this.duplicateEvery === 0) s.ws.send(msg);
        s.lastFrameAt = now;
      };
      if (p.live !== null && st.live !== p.live) {
        if (st.live) send('stream.online', `${channelId}:${st.streamId}:online`, { ...who, id: st.streamId, type: 'live', started_at: new Date(st.startedAt ?? now).toISOString() });
        else send('stream.offline', `${channelId}:${p.streamId}:offline`, who);
      }
      p.live = st.live;
      p.streamId = st.live ? st.streamId : p.streamId;
      if (st.title !== p.title || st.category !== p.category) {
        send('channel.update', `${channelId}:update:${now}`, { ...who, title: st.title, language: ch.language, category_id: st.categoryId, category_name: st.category, content_classification_labels: [] });
        p.title = st.title;
        p.category = st.category;
      }
      const total = this.world.followersAt(channelId, now);
      if (p.followers !== null && total > p.followers) {
        // The same follower ids as GET /helix/channels/followers lists (rank 0 = the newest).
        for (let n = Math.max(p.followers + 1, total - FOLLOWS_PER_TICK + 1); n <= total; n++) {
          const userId = String(crypto.createHash('sha1').update(`${channelId}:${n}`).digest().readUInt32BE(0));
          send('channel.follow', `${channelId}:follow:${n}`, { ...who, user_id: userId, user_login: `follower${userId}`, user_name: `Follower${userId}`, followed_at: new Date(now).toISOString() });
        }
      }
      p.followers = p.followers === null || total > p.followers ? total : p.followers;
      const audience = audienceEventsBetween(this.world, channelId, p.audienceFrom, now, { scale: this.o.audienceScale, limit: AUDIENCE_PER_TICK });
      for (const e of audience) audiencePayloads(e, who).forEach(([type, event], i) => send(type, `${e.id}:${i}`, event));
      // A full page means more is waiting: resume right after the last one sent.
      p.audienceFrom = audience.length === AUDIENCE_PER_TICK ? audience[audience.length - 1]!.at + 1 : now;
    }
  }
}

type Broadcaster = { broadcaster_user_id: string; broadcaster_user_login: string; broadcaster_user_name: string };
const user = (a: SimActor | null) => ({ user_id: a?.id ?? null, user_login: a?.login ?? null, user_name: a?.name ?? null });

/**
 * An audience event as the EventSub notification(s) Twitch sends for it (event objects of
 * dev.twitch.tv/docs/eventsub/eventsub-reference). A gift is followed by one channel.subscribe with
 * is_gift per recipient. Anonymous cheers and gifts carry null user fields (Twitch's docs; the CLI
 * sends empty strings).
 */
function audiencePayloads(e: SimAudienceEvent, who: Broadcaster): Array<[string, object]> {
  switch (e.kind) {
    case 'raid':
      return [['channel.raid', {
        from_broadcaster_user_id: e.from.id, from_broadcaster_user_login: e.from.login, from_broadcaster_user_name: e.from.name,
        to_broadcaster_user_id: who.broadcaster_user_id, to_broadcaster_user_login: who.broadcaster_user_login, to_broadcaster_user_name: who.broadcaster_user_name,
        viewers: e.viewers,
      }]];
    case 'subscribe':
      return [['channel.subscribe', { ...user(e.user), ...who, tier: e.tier, is_gift: e.gifted }]];
    case 'resubscribe':
      return [['channel.subscription.message', {
        ...user(e.user), ...who, tier: e.tier, message: { text: e.text, emotes: [] },
        cumulative_months: e.cumulativeMonths, streak_months: e.streakMonths, duration_months: e.durationMonths,
      }]];
    case 'gift': {
      const out: Array<[string, object]> = [['channel.subscription.gift', { ...user(e.gifter), ...who, total: e.total, tier: e.tier, cumulative_total: e.cumulativeTotal, is_anonymous: e.gifter === null }]];
      for (let i = 0; i < e.total; i++) {
        const id = String(mix(hashString(e.id), i + 1) % 900_000_000 + 10_000_000);
        out.push(['channel.subscribe', { user_id: id, user_login: `giftee${id}`, user_name: `Giftee${id}`, ...who, tier: e.tier, is_gift: true }]);
      }
      return out;
    }
    case 'cheer':
      return [['channel.cheer', { is_anonymous: e.user === null, ...user(e.user), ...who, message: e.text, bits: e.bits }]];
  }
}
