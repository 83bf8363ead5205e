import * as uWS from 'uWebSockets.js';
import type { Logger } from '../shared/logging/logger';
import type { Principal } from '../shared/auth/api-tokens';
import type { FeedMessage } from './feed.mapper';
import type { FeedSink } from './feed.sink';
import type { ClientSession, GatewayHandlers } from './gateway.handlers';
import { gatewayMetrics } from './gateway.metrics';
import { CloseCode, describeZodError, EnvelopeSchema, ErrorCode, feedTopic } from './gateway.protocol';
import { MessageRateLimiter, RateVerdict } from './rate-limiter';
import { backpressureAction, SlowConsumerPolicy } from './slow-consumer.policy';
import { extractUpgradeToken } from './upgrade-token';
import type { ClientRegistry } from './client-registry';
import type { UpgradeThrottle } from './upgrade-throttle';

export interface FrontendOptions {
  maxPayloadBytes: number;
  messagesPerSecond: number;
  idleTimeoutSeconds: number;
  maxBackpressureBytes: number;
  slowConsumerPolicy: SlowConsumerPolicy;
}

export interface FrontendDeps {
  handlers: GatewayHandlers;
  authenticate(token: string | null): Promise<Principal | null>;
  logger: Logger;
  options: FrontendOptions;
  /** Per-user socket cap and revoked-token closing, shared by both front-ends. */
  clients: ClientRegistry;
  /** Per-IP limit on connection attempts, checked before the token. */
  throttle: UpgradeThrottle;
  maxSocketsPerUser: number;
}

interface PlainConn {
  principal: Principal;
  limiter: MessageRateLimiter;
  feeds: Set<string>;
  /** uWS invalidates a socket once closed; async continuations check this before touching it. */
  closed: boolean;
  /** Stops the ClientRegistry tracking it (set on open). */
  untrack?: () => void;
}
type Ws = uWS.WebSocket<PlainConn>;

const PROTOCOL = 'ws';

/**
 * The plain JSON protocol at /ws: `{ "event", "data", "id"? }` frames. Authenticated at upgrade (the
 * socket never opens without a valid token); each message is rate-limited, parsed, validated and
 * handed to the shared handlers. Feeds go out through uWS topics, one per user.
 */
export class PlainWsFrontend implements FeedSink {
  private readonly byUser = new Map<string, Set<Ws>>();
  private readonly open = new Set<Ws>();

  constructor(private readonly app: uWS.TemplatedApp, private readonly deps: FrontendDeps) {}

  attach(path = '/ws'): void {
    const o = this.deps.options;
    this.app.ws<PlainConn>(path, {
      compression: uWS.DISABLED,
      // uWS drops the TCP connection (1006, no reason) over its limit; we let frames up to 4× through
      // so an oversized one gets a typed error and a 1009 close, and memory stays bounded.
      maxPayloadLength: o.maxPayloadBytes * 4,
      idleTimeout: o.idleTimeoutSeconds,
      sendPingsAutomatically: true,
      maxBackpressure: o.maxBackpressureBytes,
      upgrade: (res, req, context) => this.upgrade(res, req, context),
      open: (ws) => {
        this.open.add(ws);
        gatewayMetrics.connections.inc({ protocol: PROTOCOL });
        const conn = ws.getUserData();
        conn.untrack = this.deps.clients.track({
          protocol: PROTOCOL,
          principal: conn.principal,
          closeForRevokedToken: () => {
            if (conn.closed) return;
            this.sendError(ws, ErrorCode.UNAUTHORIZED, 'the API token of this connection was revoked or has expired');
            conn.closed = true;
            ws.end(CloseCode.TOKEN_REVOKED, 'token revoked');
          },
        });
      },
      message: (ws, message, isBinary) => this.message(ws, message, isBinary),
      close: (ws) => {
        const conn = ws.getUserData();
        conn.closed = true;
        conn.untrack?.();
        this.deps.clients.release(conn.principal.userId);
        this.open.delete(ws);
        for (const userId of conn.feeds) this.removeFromFeed(userId, ws);
        gatewayMetrics.connections.dec({ protocol: PROTOCOL });
      },
    });
  }

  private upgrade(res: uWS.HttpResponse, req: uWS.HttpRequest, context: uWS.us_socket_context_t): void {
    // uWS's request object is valid only during this call: read everything before going async.
    const key = req.getHeader('sec-websocket-key');
    const extensions = req.getHeader('sec-websocket-extensions');
    const creds = extractUpgradeToken({ authorization: req.getHeader('authorization'), protocol: req.getHeader('sec-websocket-protocol'), query: req.getQuery() ?? '' });
    const address = Buffer.from(res.getRemoteAddressAsText()).toString();
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    const refuse = (status: string, code: ErrorCode, message: string, headers: Record<string, string> = {}) => {
      if (aborted) return;
      res.cork(() => {
        res.writeStatus(status).writeHeader('content-type', 'application/json');
        if (code === ErrorCode.UNAUTHORIZED) res.writeHeader('www-authenticate', 'Bearer');
        for (const [k, v] of Object.entries(headers)) res.writeHeader(k, v);
        res.end(JSON.stringify({ error: { code, message } }));
      });
    };
    // Refusals are counted, and logged at debug only: unauthenticated clients must not be able to flood the logs.
    const refused = (reason: string) => {
      gatewayMetrics.upgradesRefused.inc({ protocol: PROTOCOL, reason });
      this.deps.logger.debug({ via: creds.via, reason }, 'websocket upgrade refused');
    };
    if (!this.deps.throttle.allow(address)) {
      refused('ip_throttled');
      const retryAfter = String(this.deps.throttle.retryAfterSeconds(address));
      return refuse('429 Too Many Requests', ErrorCode.RATE_LIMITED, `too many connection attempts from your address; retry after ${retryAfter} s`, { 'retry-after': retryAfter });
    }
    this.deps.authenticate(creds.token).then(
      (principal) => {
        if (!principal) {
          gatewayMetrics.authFailures.inc({ protocol: PROTOCOL });
          // The token is never logged, whichever way it came (the query string included).
          refused('unauthorized');
          return refuse('401 Unauthorized', ErrorCode.UNAUTHORIZED, creds.token
            ? 'invalid API token'
            : 'missing API token: send "Authorization: Bearer <token>" or "Sec-WebSocket-Protocol: bearer, <token>"');
        }
        if (aborted) return;
        if (!this.deps.clients.reserve(principal.userId)) {
          refused('user_socket_limit');
          return refuse('429 Too Many Requests', ErrorCode.TOO_MANY_CONNECTIONS, `at most ${this.deps.maxSocketsPerUser} open connections per user; close one first`);
        }
        const conn: PlainConn = { principal, limiter: new MessageRateLimiter(this.deps.options.messagesPerSecond), feeds: new Set(), closed: false };
        // The slot is released by the close handler once the socket opened.
        res.cork(() => res.upgrade(conn, key, creds.protocol, extensions, context));
      },
      (err: unknown) => {
        refused('unavailable');
        this.deps.logger.warn({ err }, 'websocket upgrade: token check failed');
        refuse('503 Service Unavailable', ErrorCode.UNAVAILABLE, 'authentication is temporarily unavailable');
      },
    );
  }

  private message(ws: Ws, message: ArrayBuffer, isBinary: boolean): void {
    const conn = ws.getUserData();
    const verdict = conn.limiter.take();
    if (verdict !== 'ok') return this.refuseRate(ws, conn, verdict);
    if (message.byteLength > this.deps.options.maxPayloadBytes) {
      this.sendError(ws, ErrorCode.PAYLOAD_TOO_LARGE, `frames are limited to ${this.deps.options.maxPayloadBytes} bytes`);
      gatewayMetrics.closedByServer.inc({ protocol: PROTOCOL, reason: 'payload_too_large' });
      conn.closed = true;
      return ws.end(CloseCode.MESSAGE_TOO_BIG, 'message too big');
    }
    if (isBinary) return this.sendError(ws, ErrorCode.INVALID_MESSAGE, 'binary frames are not supported; send JSON text frames');
    let parsed: unknown;
    try {
      // Copied out at once: uWS reuses the ArrayBuffer after this callback returns.
      parsed = JSON.parse(Buffer.from(message).toString('utf8'));
    } catch {
      return this.sendError(ws, ErrorCode.INVALID_JSON, 'the frame is not valid JSON; send {"event": string, "data": object}');
    }
    const envelope = EnvelopeSchema.safeParse(parsed);
    if (!envelope.success) return this.sendError(ws, ErrorCode.INVALID_MESSAGE, `expected {"event": string, "data"?: object, "id"?: string|number}: ${describeZodError(envelope.error)}`);
    const { event, data, id } = envelope.data;
    const session: ClientSession = {
      protocol: PROTOCOL,
      principal: conn.principal,
      joinFeed: (userId) => {
        if (conn.closed || conn.feeds.has(userId)) return;
        conn.feeds.add(userId);
        ws.subscribe(feedTopic(userId));
        let set = this.byUser.get(userId);
        if (!set) this.byUser.set(userId, (set = new Set()));
        set.add(ws);
      },
      leaveFeed: (userId) => {
        if (conn.closed || !conn.feeds.delete(userId)) return;
        ws.unsubscribe(feedTopic(userId));
        this.removeFromFeed(userId, ws);
      },
    };
    void this.deps.handlers.handle(session, event, data).then((reply) => {
      if (conn.closed) return;
      ws.cork(() => {
        if (event === 'ping' && reply.ok) this.send(ws, 'pong', id === undefined ? { ts: reply.ts } : { ts: reply.ts, id });
        if (id !== undefined) this.send(ws, 'ack', { id, event, ...reply });
        else if (!reply.ok) this.send(ws, 'error', { ...reply.error, event });
      });
    });
  }

  private refuseRate(ws: Ws, conn: PlainConn, verdict: Exclude<RateVerdict, 'ok'>): void {
    if (verdict === 'flood') {
      this.sendError(ws, ErrorCode.RATE_LIMITED, 'message flood: closing the connection');
      gatewayMetrics.closedByServer.inc({ protocol: PROTOCOL, reason: 'rate_limited' });
      conn.closed = true;
      ws.end(CloseCode.RATE_LIMITED, 'rate limit exceeded');
      return;
    }
    if (conn.limiter.firstOfEpisode()) {
      this.sendError(ws, ErrorCode.RATE_LIMITED, `more than ${this.deps.options.messagesPerSecond} messages per second; messages are being dropped`);
    } else gatewayMetrics.errors.inc({ protocol: PROTOCOL, code: ErrorCode.RATE_LIMITED });
  }

  private sendError(ws: Ws, code: ErrorCode, message: string): void {
    gatewayMetrics.errors.inc({ protocol: PROTOCOL, code });
    this.send(ws, 'error', { code, message });
  }

  private send(ws: Ws, event: string, data: object): void {
    if (ws.getUserData().closed) return;
    // 2 = dropped by uWS because the socket is over maxBackpressure.
    if (ws.send(JSON.stringify({ event, data }), false, false) === 2) gatewayMetrics.backpressure.inc({ protocol: PROTOCOL, action: 'drop' });
  }

  private removeFromFeed(userId: string, ws: Ws): void {
    const set = this.byUser.get(userId);
    if (!set) return;
    set.delete(ws);
    if (set.size === 0) this.byUser.delete(userId);
  }

  publish(msg: FeedMessage): void {
    const set = this.byUser.get(msg.userId);
    if (!set) return;
    const { maxBackpressureBytes, slowConsumerPolicy } = this.deps.options;
    for (const ws of set) {
      const action = backpressureAction(ws.getBufferedAmount(), maxBackpressureBytes, slowConsumerPolicy);
      if (action === 'send') continue;
      gatewayMetrics.backpressure.inc({ protocol: PROTOCOL, action });
      if (action === 'close') {
        gatewayMetrics.closedByServer.inc({ protocol: PROTOCOL, reason: 'slow_consumer' });
        ws.getUserData().closed = true;
        ws.end(CloseCode.SLOW_CONSUMER, 'slow consumer');
      }
    }
    if (set.size > 0) this.app.publish(feedTopic(msg.userId), JSON.stringify({ event: msg.event, data: msg.data }), false, false);
  }

  get connectionCount(): number {
    return this.open.size;
  }

  /** Closes every client with 1001 (going away); they reconnect to another instance. */
  closeAll(): void {
    for (const ws of [...this.open]) {
      ws.getUserData().closed = true;
      ws.end(CloseCode.GOING_AWAY, 'server shutting down');
    }
  }
}
