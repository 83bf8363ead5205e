/**
 * Simulated WebSub hub for YouTube channel feeds (pubsubhubbub.appspot.com, PubSubHubbub 0.4):
 * - `POST /subscribe` (form: hub.mode, hub.topic, hub.callback, hub.secret, hub.lease_seconds) answers
 *   202 and verifies intent afterwards: a GET to the callback with hub.challenge, which must come back
 *   as the body of a 2xx; only then is the subscription (or its removal) in effect;
 * - leases end: an expired subscription gets nothing more (the subscriber must renew);
 * - when a subscribed channel goes live in the world (its sessions or /__sim/live), or a session is
 *   scheduled to start within SCHEDULE_LEAD_MS, the feed's Atom document with that video's entry is
 *   POSTed to every subscriber, signed `X-Hub-Signature: sha1=<HMAC-SHA1 hex>` when a secret was given;
 *   a failed delivery is tried twice more.
 * Admin: `GET /__sim/websub` (subscriptions and counters), `POST /__sim/websub/notify {channelId, videoId?}`.
 */
import crypto from 'node:crypto';
import express, { Router } from 'express';
import { z } from 'zod';
import { channelOfTopic, feedTopicOf, hubSignature } from '../youtube/youtube.websub';
import type { SimState } from './simulator.state';
import type { World } from './world';

const SCHEDULE_LEAD_MS = 10 * 60_000;
const DEFAULT_LEASE_SECONDS = 432_000;
const MAX_LEASE_SECONDS = 864_000;

interface HubSubscription {
  topic: string;
  channelId: string;
  callback: string;
  secret: string | undefined;
  leaseSeconds: number;
  expiresAt: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The feed document YouTube's hub sends: the channel's feed with the announced video's entry. */
export function atomFeedOf(p: { channelId: string; channelName: string; videoId: string; title: string; published: number; updated: number }): string {
  const topic = xmlEscape(feedTopicOf(p.channelId));
  return `<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns="http://www.w3.org/2005/Atom">
  <link rel="hub" href="https://pubsubhubbub.appspot.com"/>
  <link rel="self" href="${topic}"/>
  <title>YouTube video feed</title>
  <updated>${iso(p.updated)}</updated>
  <entry>
    <id>yt:video:${p.videoId}</id>
    <yt:videoId>${p.videoId}</yt:videoId>
    <yt:channelId>${p.channelId}</yt:channelId>
    <title>${xmlEscape(p.title)}</title>
    <link rel="alternate" href="https://www.youtube.com/watch?v=${p.videoId}"/>
    <author>
      <name>${xmlEscape(p.channelName)}</name>
      <uri>https://www.youtube.com/channel/${p.channelId}</uri>
    </author>
    <published>${iso(p.published)}</published>
    <updated>${iso(p.updated)}</updated>
  </entry>
</feed>
`;
}

export class WebSubHubSim {
  private readonly subs = new Map<string, HubSubscription>();
  /** Per channel: what the last tick saw, and the videos already announced. */
  private readonly seen = new Map<string, { live: boolean; announced: Set<string> }>();
  private readonly timer: NodeJS.Timeout;
  readonly counters = { subscribeRequests: 0, verifications: 0, verificationFailures: 0, deliveries: 0, deliveryFailures: 0 };
  /** Deliveries in flight (tests wait for them). */
  private readonly inflight = new Set<Promise<void>>();
  private closed = false;
  /** The longest lease the hub grants (it may grant less than asked; tests shorten it to see renewals). */
  maxLeaseSeconds = MAX_LEASE_SECONDS;

  constructor(private readonly state: SimState, private readonly world: World) {
    this.timer = setInterval(() => this.tick(), 500);
    this.timer.unref();
  }

  subscriptions(): HubSubscription[] {
    const now = this.state.clock();
    return [...this.subs.values()].filter((s) => s.expiresAt > now).map((s) => ({ ...s, secret: s.secret ? '(set)' : undefined }));
  }

  routes(): Router {
    const r = Router();
    r.post('/subscribe', express.urlencoded({ extended: false, limit: '16kb' }), (req, res) => {
      this.counters.subscribeRequests++;
      const b = (req.body ?? {}) as Record<string, string | undefined>;
      const mode = b['hub.mode'];
      const topic = b['hub.topic'] ?? '';
      const callback = b['hub.callback'] ?? '';
      if (mode !== 'subscribe' && mode !== 'unsubscribe') return res.status(400).type('text/plain').send('Invalid value for hub.mode');
      const channelId = channelOfTopic(topic);
      if (!channelId || this.world.channel(channelId)?.platform !== 'youtube') return res.status(400).type('text/plain').send('Invalid value for hub.topic');
      let cb: URL;
      try {
        cb = new URL(callback);
      } catch {
        return res.status(400).type('text/plain').send('Invalid value for hub.callback');
      }
      if (!/^https?:$/.test(cb.protocol)) return res.status(400).type('text/plain').send('Invalid value for hub.callback');
      const secret = b['hub.secret'] || undefined;
      if (secret && Buffer.byteLength(secret) >= 200) return res.status(400).type('text/plain').send('Invalid value for hub.secret');
      const asked = b['hub.lease_seconds'] === undefined ? DEFAULT_LEASE_SECONDS : Number(b['hub.lease_seconds']);
      if (!Number.isInteger(asked) || asked < 1) return res.status(400).type('text/plain').send('Invalid value for hub.lease_seconds');
      res.status(202).end();
      this.track(this.verify({ mode, topic, channelId, callback, secret, leaseSeconds: Math.min(asked, this.maxLeaseSeconds) }));
    });

    const admin = Router();
    admin.use(express.json());
    admin.get('/websub', (_req, res) => res.json({ subscriptions: this.subscriptions(), counters: this.counters }));
    admin.post('/websub/notify', (req, res) => {
      const p = z.object({ channelId: z.string(), videoId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional() }).safeParse(req.body);
      if (!p.success || !this.world.channel(p.data.channelId)) return res.status(400).json({ error: 'channelId (known) required' });
      const videoId = p.data.videoId ?? this.world.stateAt(p.data.channelId, this.state.clock()).streamId ?? 'sim-video-1';
      res.json({ subscribers: this.notify(p.data.channelId, videoId) });
    });
    r.use('/__sim', admin);
    return r;
  }

  /** Forgets a channel's subscriptions, as a hub that lost them would (the feed is not guaranteed). */
  drop(channelId: string): number {
    let n = 0;
    for (const [key, s] of this.subs) if (s.channelId === channelId && this.subs.delete(key)) n++;
    return n;
  }

  /** Sends the channel's feed with `videoId`'s entry to every current subscriber; returns how many. */
  notify(channelId: string, videoId: string): number {
    const c = this.world.channel(channelId);
    if (!c) return 0;
    const now = this.state.clock();
    const st = this.world.stateAt(channelId, now);
    const body = atomFeedOf({ channelId, channelName: c.displayName, videoId, title: st.title ?? `${c.displayName} live`, published: st.startedAt ?? now, updated: now });
    const targets = [...this.subs.values()].filter((s) => s.channelId === channelId && s.expiresAt > now);
    for (const s of targets) this.track(this.deliver(s, body));
    return targets.length;
  }

  /** Resolves when every verification and delivery started so far has ended. */
  async idle(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  private track(p: Promise<void>): void {
    const t = p.catch(() => undefined).finally(() => this.inflight.delete(t));
    this.inflight.add(t);
  }

  private async verify(v: { mode: 'subscribe' | 'unsubscribe'; topic: string; channelId: string; callback: string; secret: string | undefined; leaseSeconds: number }): Promise<void> {
    const challenge = crypto.randomBytes(16).toString('hex');
    const u = new URL(v.callback);
    u.searchParams.set('hub.mode', v.mode);
    u.searchParams.set('hub.topic', v.topic);
    u.searchParams.set('hub.challenge', challenge);
    if (v.mode === 'subscribe') u.searchParams.set('hub.lease_seconds', String(v.leaseSeconds));
    this.counters.verifications++;
    let ok = false;
    try {
      const res = await fetch(u, { signal: AbortSignal.timeout(5000) });
      ok = res.ok && (await res.text()) === challenge;
    } catch {
      ok = false;
    }
    if (!ok || this.closed) {
      this.counters.verificationFailures++;
      return;
    }
    const key = `${v.topic} ${v.callback}`;
    if (v.mode === 'unsubscribe') {
      this.subs.delete(key);
      return;
    }
    const now = this.state.clock();
    this.subs.set(key, { topic: v.topic, channelId: v.channelId, callback: v.callback, secret: v.secret, leaseSeconds: v.leaseSeconds, expiresAt: now + v.leaseSeconds * 1000 });
    // What the channel looks like now is the baseline: changes after the subscription are pushed.
    if (!this.seen.has(v.channelId)) this.seen.set(v.channelId, { live: this.world.stateAt(v.channelId, now).live, announced: new Set() });
  }

  private async deliver(s: HubSubscription, body: string): Promise<void> {
    const headers: Record<string, string> = {
      'content-type': 'application/atom+xml',
      link: `<https://pubsubhubbub.appspot.com>; rel=hub, <${s.topic}>; rel=self`,
    };
    if (s.secret) headers['x-hub-signature'] = hubSignature(s.secret, body);
    for (let attempt = 1; attempt <= 3 && !this.closed; attempt++) {
      try {
        const res = await fetch(s.callback, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        if (res.ok) {
          this.counters.deliveries++;
          return;
        }
        // A subscriber's 4xx refusal is final; only its 5xx and network failures are tried again.
        if (res.status < 500) break;
      } catch {
        /* tried again below */
      }
      await new Promise((r) => setTimeout(r, 500 * attempt).unref());
    }
    this.counters.deliveryFailures++;
  }

  private tick(): void {
    const now = this.state.clock();
    for (const [key, s] of this.subs) if (s.expiresAt <= now) this.subs.delete(key);
    const channels = new Set([...this.subs.values()].map((s) => s.channelId));
    for (const channelId of channels) {
      const seen = this.seen.get(channelId) ?? { live: false, announced: new Set<string>() };
      this.seen.set(channelId, seen);
      const st = this.world.stateAt(channelId, now);
      if (st.live && !seen.live && st.streamId && !seen.announced.has(`${st.streamId}:live`)) {
        seen.announced.add(`${st.streamId}:live`);
        this.notify(channelId, st.streamId);
      }
      seen.live = st.live;
      // A session about to start: YouTube lists the scheduled broadcast's video in the feed.
      for (const next of this.world.sessionsBetween(channelId, now, now + SCHEDULE_LEAD_MS)) {
        if (next.startedAt <= now || seen.announced.has(`${next.streamId}:scheduled`)) continue;
        seen.announced.add(`${next.streamId}:scheduled`);
        this.notify(channelId, next.streamId);
      }
    }
  }
}
