import type { Logger } from '../shared/logging/logger';
import type { Principal } from '../shared/auth/api-tokens';
import type { StreamLifecycle } from '../shared/events/events';
import { isRetriable } from '../shared/errors/app-error';
import type { ChannelOwnership } from './channel-ownership';
import type { LifecycleSink } from './lifecycle.publisher';
import { gatewayMetrics } from './gateway.metrics';
import {
  describeZodError, ErrorCode, fail, isClientEvent, JoinSchema, LeaveSchema, Protocol, Reply, StreamEventInput, StreamEventSchema,
} from './gateway.protocol';

/** One client connection as the handlers see it, whatever the protocol. */
export interface ClientSession {
  readonly protocol: Protocol;
  readonly principal: Principal;
  joinFeed(userId: string): void;
  leaveFeed(userId: string): void;
}

export interface HandlerDeps {
  ownership: ChannelOwnership;
  lifecycle: LifecycleSink;
  logger: Logger;
  /**
   * The user's `stream_event` budget, in Redis (api/http/rate-limit.ts' sliding window keyed by user):
   * it holds across every socket and gateway instance of the user, unlike the per-connection limiter.
   */
  streamEventBudget?: { hit(subject: string): Promise<{ allowed: boolean; limit: number; retryAfterSeconds: number }> };
  /** How far a tool's own occurredAt may differ from the receive time and still be kept (as reportedAt). */
  maxFutureSkewMs?: number;
  now?: () => number;
}

const TYPE_OF = { start: 'started', end: 'ended', update: 'updated' } as const;
const DEFAULT_MAX_FUTURE_SKEW_MS = 5000;

/**
 * The one implementation of what clients may do — validation, authorisation and effects — behind
 * both front-ends. Every call answers a Reply and never throws: a bad message costs the client an
 * error, never the connection or the process.
 */
export class GatewayHandlers {
  private readonly now: () => number;

  constructor(private readonly deps: HandlerDeps) {
    this.now = deps.now ?? Date.now;
  }

  async handle(session: ClientSession, event: string, data: unknown): Promise<Reply> {
    gatewayMetrics.messagesIn.inc({ protocol: session.protocol, event: isClientEvent(event) ? event : 'other' });
    let reply: Reply;
    try {
      reply = await this.dispatch(session, event, data);
    } catch (err) {
      if (isRetriable(err)) reply = fail(ErrorCode.UNAVAILABLE, 'temporarily unavailable, retry shortly');
      else {
        this.deps.logger.error({ event, userId: session.principal.userId, err }, 'gateway handler failed');
        reply = fail(ErrorCode.INTERNAL, 'internal error');
      }
    }
    if (!reply.ok) gatewayMetrics.errors.inc({ protocol: session.protocol, code: reply.error.code });
    return reply;
  }

  private async dispatch(session: ClientSession, event: string, data: unknown): Promise<Reply> {
    switch (event) {
      case 'join_stream_channel':
        return this.join(session, data);
      case 'leave_stream_channel':
        return this.leave(session, data);
      case 'stream_event':
        return this.streamEvent(session, data);
      case 'ping':
        return { ok: true, ts: this.now() };
      default:
        return fail(ErrorCode.UNKNOWN_EVENT, `unknown event "${event.slice(0, 64)}"; expected one of join_stream_channel, leave_stream_channel, stream_event, ping`);
    }
  }

  private join(session: ClientSession, data: unknown): Reply {
    const parsed = JoinSchema.safeParse(data ?? {});
    if (!parsed.success) return fail(ErrorCode.VALIDATION_FAILED, describeZodError(parsed.error));
    const userId = parsed.data.userId ?? session.principal.userId;
    // A user's feed is theirs alone; the check happens before any subscription, so nothing leaks.
    if (userId !== session.principal.userId) return fail(ErrorCode.FORBIDDEN, 'you may only join your own stream channel');
    session.joinFeed(userId);
    return { ok: true, userId };
  }

  private leave(session: ClientSession, data: unknown): Reply {
    const parsed = LeaveSchema.safeParse(data ?? {});
    if (!parsed.success) return fail(ErrorCode.VALIDATION_FAILED, describeZodError(parsed.error));
    const userId = parsed.data.userId ?? session.principal.userId;
    if (userId !== session.principal.userId) return fail(ErrorCode.FORBIDDEN, 'you may only leave your own stream channel');
    session.leaveFeed(userId);
    return { ok: true, userId };
  }

  private async streamEvent(session: ClientSession, data: unknown): Promise<Reply> {
    const parsed = StreamEventSchema.safeParse(data);
    if (!parsed.success) return fail(ErrorCode.VALIDATION_FAILED, describeZodError(parsed.error));
    const input = parsed.data;
    if (input.userId !== session.principal.userId) return fail(ErrorCode.FORBIDDEN, 'you may only report events for your own channels');
    if (this.deps.streamEventBudget) {
      const d = await this.deps.streamEventBudget.hit(`gateway-stream-event:${input.userId}`);
      if (!d.allowed) return fail(ErrorCode.RATE_LIMITED, `at most ${d.limit} stream events per minute per user, across all your connections; retry after ${d.retryAfterSeconds} s`);
    }
    const owned = await this.deps.ownership.ownedChannel(input.userId, input.platform, input.streamData.channelId);
    if (!owned.ok) {
      const why = {
        not_connected: `no ${input.platform} channel${input.streamData.channelId ? ` ${input.streamData.channelId}` : ''} is connected to your account`,
        not_active: `your ${input.platform} connection needs re-authorisation`,
        ambiguous: `several ${input.platform} channels are connected; name one in streamData.channelId`,
      }[owned.reason];
      return fail(owned.reason === 'ambiguous' ? ErrorCode.VALIDATION_FAILED : ErrorCode.CHANNEL_NOT_CONNECTED, why);
    }
    // The event happened when the gateway received it: a tool's clock (or a hostile client) must not
    // decide event time, which moves the windows of every channel sharing the Kafka partition. The tool's
    // own instant is kept, as reportedAt, only when it agrees with the receive time within the skew.
    const receivedAt = this.now();
    const reported = input.streamData.occurredAt;
    const skew = this.deps.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS;
    const reportedAt = reported !== undefined && Math.abs(reported - receivedAt) <= skew ? reported : null;
    const record = toLifecycle(input, owned.channel.channelId, receivedAt, reportedAt);
    await this.deps.lifecycle.publish(record);
    gatewayMetrics.streamEvents.inc({ type: record.type });
    return {
      ok: true, eventId: record.eventId, type: record.type, channelId: record.channelId, streamId: record.streamId, occurredAt: receivedAt,
      ...(reported !== undefined && reportedAt === null ? { note: `streamData.occurredAt differs from the receive time by more than ${skew / 1000} s; the receive time is used` } : {}),
    };
  }
}

/**
 * The lifecycle record of a creator-tool event. eventIds of started/ended are the deterministic
 * `${platform}:${channelId}:${streamId}:${type}` of the contract, so a tool and the poller reporting
 * the same start produce one event downstream; updates are distinct per instant.
 */
export function toLifecycle(input: StreamEventInput, channelId: string, occurredAt: number, reportedAt: number | null = null): StreamLifecycle {
  const type = TYPE_OF[input.type];
  const d = input.streamData;
  const streamId = d.streamId ?? `creator_tool:${d.startedAt ?? occurredAt}`;
  const base = `${input.platform}:${channelId}:${streamId}:${type}`;
  return {
    eventId: type === 'updated' ? `${base}:${occurredAt}` : base,
    type,
    platform: input.platform,
    channelId,
    userId: input.userId,
    streamId,
    occurredAt,
    title: d.title ?? null,
    category: d.category ?? null,
    source: 'creator_tool',
    reportedAt,
  };
}
