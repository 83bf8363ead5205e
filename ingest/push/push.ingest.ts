/**
 * The push path of ingest (issue 18.2): platform push sources (Twitch EventSub over WebSocket) for
 * every active channel of a platform that has one, normalised into the pipeline's topics:
 * - online/offline/update → lifecycle, through the same compare-and-set + outbox as the snapshot poll
 *   (ChannelStateStore), so a session starts and ends within seconds of the platform's event and a
 *   later poll of the same transition derives nothing new (same state, same event id);
 * - follow/raid/sub/cheer → a ChannelEvent (channel.events) and the creator's Alert (alerts).
 * Polling stays the reconciler: events sent while no session was open are not replayed by Twitch,
 * and the next poll heals the live state.
 *
 * A revocation that says the grant is gone (authorization_revoked, user_removed) marks the watching
 * owner's connection reauth_required at once — the path of a refused refresh (status, reauth alert,
 * polling stops) — instead of waiting for the hourly token validation; other statuses are logged.
 *
 * One process watches a channel: a Redis lease per channel (renewed while watched), so N ingest
 * processes split the channels and a dead process's channels are taken over at the next reconcile
 * after its leases expire. (How conduits would replace this at scale: ingest/README.md.)
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../../shared/logging/logger';
import { AppError } from '../../shared/errors/app-error';
import { channelKey } from '../../shared/kafka/topics';
import type { ChannelPush, PushSource } from '../../platforms/platform.adapter';
import type { StreamLifecycle } from '../../shared/events/events';
import { withToken, type IngestConnection, type IngestPorts } from '../ingest.ports';
import type { EventProducer } from '../output/event.producer';
import type { ChannelStateStore } from '../lifecycle/channel-state.store';
import { deriveLifecycle } from '../lifecycle/lifecycle.derive';
import type { PollSubject } from '../output/normalise';
import { ingestMetrics } from '../ingest.metrics';
import { liveStateFromPush, toAudienceAlert, toChannelEvent } from './push.normalise';

export interface PushIngestDeps {
  ports: IngestPorts;
  producer: EventProducer;
  states: ChannelStateStore;
  /** Switches snapshot cadence (and chat) when a push changes the live state. */
  onLiveChanged(conn: IngestConnection, live: boolean): Promise<void>;
  redis: Redis;
  redisKeyPrefix: string;
  processId: string;
  logger: Logger;
  leaseMs?: number;
}

// Take the lease if free or ours; renew it. 1 = this process holds it.
const LEASE = `
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;
/** Revocation statuses that mean the creator's grant is gone (EventSub reference, "revocation"). */
export const AUTH_REVOCATIONS: ReadonlySet<string> = new Set(['authorization_revoked', 'user_removed']);

// Release only our own lease.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export class PushIngest {
  private readonly sources = new Map<string, PushSource>();
  private readonly leaseMs: number;
  private renewTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Pushes handled, by kind (tests, metrics). */
  readonly handled = new Map<string, number>();
  /** "<platform>:<channelId>" → the connection whose token the channel's push session uses. */
  private readonly watchedWith = new Map<string, string>();

  constructor(private readonly d: PushIngestDeps) {
    this.leaseMs = d.leaseMs ?? 30_000;
    for (const platform of d.ports.platforms) {
      const adapter = d.ports.adapterFor(platform);
      if (adapter.createPushSource) {
        this.sources.set(platform, adapter.createPushSource({
          onEvent: (e) => this.onEvent(e),
          onRevoked: (channelId, type, status) => void this.onRevoked(platform, channelId, type, status).catch((err: Error) => d.logger.error({ platform, channelId, type, status, err }, 'push revocation not handled')),
        }));
      }
    }
    this.renewTimer = setInterval(() => void this.renew().catch((err: Error) => d.logger.warn({ err }, 'push lease renewal failed')), Math.max(1000, Math.floor(this.leaseMs / 3)));
    this.renewTimer.unref();
  }

  get platforms(): string[] {
    return [...this.sources.keys()];
  }

  source(platform: string): PushSource | undefined {
    return this.sources.get(platform);
  }

  private leaseKey(platform: string, channelId: string) {
    return `${this.d.redisKeyPrefix}:ingest:push:owner:${platform}:${channelId}`;
  }

  /** Watches every active channel of a push platform whose lease this process gets; unwatches the rest. */
  async reconcile(active: IngestConnection[]): Promise<{ watching: number }> {
    if (this.closed) return { watching: 0 };
    let watching = 0;
    for (const [platform, source] of this.sources) {
      const channels = new Set(active.filter((c) => c.platform === platform).map((c) => c.channelId));
      for (const channelId of source.watched()) if (!channels.has(channelId)) await this.stopWatching(platform, channelId);
      for (const channelId of channels) {
        if (source.status(channelId)?.connected) {
          watching++;
          continue;
        }
        const owned = await this.d.redis.eval(LEASE, 1, this.leaseKey(platform, channelId), this.d.processId, String(this.leaseMs));
        if (owned !== 1) continue;
        try {
          await this.watch(platform, channelId);
          watching++;
        } catch (err) {
          // Network failures are retried by the push source, refusals at the next reconcile; polling covers the channel meanwhile.
          this.d.logger.warn({ platform, channelId, err }, 'push session not open yet');
        }
      }
      const watched = source.watched();
      const connected = watched.filter((id) => source.status(id)?.connected).length;
      ingestMetrics.pushSessions.set({ platform, state: 'connected' }, connected);
      ingestMetrics.pushSessions.set({ platform, state: 'disconnected' }, watched.length - connected);
    }
    return { watching };
  }

  /** Opens (or refreshes) the channel's push session with its polling owner's token. */
  async watch(platform: string, channelId: string) {
    const source = this.sources.get(platform);
    if (!source) throw new AppError('NO_PUSH_SOURCE', `${platform} has no push source`, { retriable: false });
    const owners = await this.d.ports.connections.listActiveByChannel(platform, channelId);
    const owner = owners[0];
    if (!owner) throw new AppError('NO_ACTIVE_CONNECTION', `no active connection for ${platform}:${channelId}`, { retriable: false });
    this.watchedWith.set(channelKey(platform, channelId), owner.connectionId);
    return source.watch(channelId, { withToken: (fn) => withToken(this.d.ports, owner.connectionId, fn), scopes: owner.scopes ?? [] });
  }

  /** A subscription the platform revoked: an auth status marks the connection whose token it used. */
  private async onRevoked(platform: string, channelId: string, type: string, status: string): Promise<void> {
    ingestMetrics.pushEvents.inc({ platform, kind: 'revocation', outcome: status });
    const connectionId = this.watchedWith.get(channelKey(platform, channelId));
    if (!AUTH_REVOCATIONS.has(status) || !connectionId) {
      this.d.logger.warn({ platform, channelId, type, status }, 'push subscription revoked (not an authorisation problem)');
      return;
    }
    const marked = (await this.d.ports.tokens.reauthRequired?.(connectionId, `EventSub ${type} revoked: ${status}`)) ?? false;
    if (marked) this.d.logger.warn({ platform, channelId, connectionId, status }, 'push revocation: the connection needs re-authorisation');
  }

  private async stopWatching(platform: string, channelId: string): Promise<void> {
    this.watchedWith.delete(channelKey(platform, channelId));
    await this.sources.get(platform)?.unwatch(channelId);
    await this.d.redis.eval(RELEASE, 1, this.leaseKey(platform, channelId), this.d.processId);
  }

  private async renew(): Promise<void> {
    for (const [platform, source] of this.sources) {
      for (const channelId of source.watched()) {
        const owned = await this.d.redis.eval(LEASE, 1, this.leaseKey(platform, channelId), this.d.processId, String(this.leaseMs));
        // Another process took the channel over (our lease expired, e.g. a long pause): let it have it.
        if (owned !== 1) await source.unwatch(channelId);
      }
    }
  }

  /** One push: records produced once Kafka acknowledged them (a rejection makes the source retry it). */
  async onEvent(p: ChannelPush): Promise<void> {
    try {
      await this.handle(p);
      ingestMetrics.pushEvents.inc({ platform: p.platform, kind: p.kind, outcome: 'produced' });
      ingestMetrics.pushLatency.observe({ platform: p.platform, kind: p.kind }, Math.max(0, Date.now() - p.occurredAt) / 1000);
    } catch (err) {
      ingestMetrics.pushEvents.inc({ platform: p.platform, kind: p.kind, outcome: 'failed' });
      throw err;
    }
  }

  private async handle(p: ChannelPush): Promise<void> {
    const owner = (await this.d.ports.connections.listActiveByChannel(p.platform, p.channelId))[0];
    if (!owner) return; // disconnected meanwhile
    const s: PollSubject = { platform: owner.platform, channelId: owner.channelId, userId: owner.userId };
    const event = toChannelEvent(s, p);
    if (event) {
      const alert = toAudienceAlert(event);
      await this.d.producer.send([
        { topic: 'channelEvents', key: channelKey(s.platform, s.channelId), eventId: event.eventId, value: event },
        { topic: 'alerts', key: alert.userId, eventId: alert.alertId, value: alert },
      ]);
    } else {
      await this.applyLifecycle(owner, s, p);
    }
    this.handled.set(p.kind, (this.handled.get(p.kind) ?? 0) + 1);
  }

  private async applyLifecycle(owner: IngestConnection, s: PollSubject, p: ChannelPush): Promise<void> {
    let liveChanged: boolean | null = null;
    for (let attempt = 1; ; attempt++) {
      const { raw, state: prev } = await this.d.states.read(s.platform, s.channelId);
      const next = liveStateFromPush(prev, p);
      if (!next) break;
      const events = deriveLifecycle(prev, next, s)?.map((e): StreamLifecycle => ({
        ...e,
        source: 'eventsub',
        // The platform said when it ended: better than "last seen live".
        ...(e.type === 'ended' && p.kind === 'offline' ? { occurredAt: Math.max(p.occurredAt, e.occurredAt) } : {}),
      }));
      if (!events) break; // a poll newer than this push already committed
      if (await this.d.states.commit(s.platform, s.channelId, raw, next, events)) {
        if (!prev || prev.live !== next.live) liveChanged = next.live;
        break;
      }
      if (attempt >= 5) throw new AppError('CHANNEL_STATE_CONFLICT', `channel ${s.platform}:${s.channelId} state kept changing under us`, { retriable: true, context: { ...s } });
    }
    const pending = await this.d.states.pending(s.platform, s.channelId);
    if (pending.events.length) {
      await this.d.producer.send(pending.events.map((e) => ({ topic: 'lifecycle' as const, key: channelKey(e.platform, e.channelId), eventId: e.eventId, value: e })));
      await this.d.states.ack(s.platform, s.channelId, pending.raw);
    }
    if (liveChanged !== null) await this.d.onLiveChanged(owner, liveChanged);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.renewTimer);
    for (const [platform, source] of this.sources) {
      const watched = source.watched();
      await source.close();
      for (const channelId of watched) await this.d.redis.eval(RELEASE, 1, this.leaseKey(platform, channelId), this.d.processId).catch(() => undefined);
    }
  }
}
