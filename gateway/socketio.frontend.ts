import type * as uWS from 'uWebSockets.js';
import { Server, Socket } from 'socket.io';
import type { Principal } from '../shared/auth/api-tokens';
import type { FeedMessage } from './feed.mapper';
import type { FeedSink } from './feed.sink';
import type { ClientSession } from './gateway.handlers';
import { gatewayMetrics } from './gateway.metrics';
import { ErrorCode, fail, feedRoom, Reply } from './gateway.protocol';
import type { FrontendDeps } from './plain-ws.frontend';
import { MessageRateLimiter } from './rate-limiter';
import { backpressureAction } from './slow-consumer.policy';

const PROTOCOL = 'socket.io';
type Ack = (reply: Reply) => void;

interface SocketData {
  principal: Principal;
}

/** socket.conn.transport.socket is the uWS WebSocket when the transport is websocket (engine.io internals). */
function uwsSocketOf(socket: Socket): uWS.WebSocket<unknown> | undefined {
  const transport = (socket.conn as unknown as { transport?: { name?: string; socket?: uWS.WebSocket<unknown> } }).transport;
  return transport?.name === 'websocket' ? transport.socket : undefined;
}

function tokenOf(socket: Socket): string | null {
  const auth = socket.handshake.auth as { token?: unknown } | undefined;
  if (typeof auth?.token === 'string') return auth.token;
  const header = /^Bearer\s+(\S+)\s*$/i.exec(socket.handshake.headers.authorization ?? '');
  if (header) return header[1]!;
  const q = socket.handshake.query.token;
  return typeof q === 'string' ? q : null;
}

/**
 * Socket.IO on the same uWS app (`io.attachApp`), at /socket.io/: the original module's clients work
 * unchanged. The handshake's `auth.token` is checked by middleware, so a refused client gets
 * `connect_error` with a readable message; every event goes through the same handlers as the plain
 * protocol and answers its acknowledgement callback. Feeds go to one room per user, which Socket.IO's
 * uWS adapter turns into uWS topic publishes for websocket clients.
 */
export class SocketIoFrontend implements FeedSink {
  readonly io: Server;

  constructor(app: uWS.TemplatedApp, private readonly deps: FrontendDeps, transports: Array<'websocket' | 'polling'>) {
    const o = deps.options;
    this.io = new Server({
      path: '/socket.io/',
      serveClient: false,
      transports,
      maxHttpBufferSize: o.maxPayloadBytes,
      // A connection that has not passed the auth middleware within this time is dropped.
      connectTimeout: 10_000,
    });
    this.io.attachApp(app, { maxBackpressure: o.maxBackpressureBytes, idleTimeout: o.idleTimeoutSeconds } as never);
    this.io.use((socket, next) => {
      const token = tokenOf(socket);
      // Counted, logged at debug only (unauthenticated clients must not flood the logs).
      const refuse = (reason: string, message: string, code: ErrorCode) => {
        gatewayMetrics.upgradesRefused.inc({ protocol: PROTOCOL, reason });
        this.deps.logger.debug({ reason }, 'socket.io handshake refused');
        next(Object.assign(new Error(message), { data: { code } }));
      };
      const address = socket.handshake.address;
      if (!this.deps.throttle.allow(address)) {
        return refuse('ip_throttled', `too many connection attempts from your address; retry after ${this.deps.throttle.retryAfterSeconds(address)} s`, ErrorCode.RATE_LIMITED);
      }
      this.deps.authenticate(token).then(
        (principal) => {
          if (!principal) {
            gatewayMetrics.authFailures.inc({ protocol: PROTOCOL });
            return refuse('unauthorized', token ? 'unauthorized: invalid API token' : 'unauthorized: missing API token; connect with io(url, { auth: { token } })', ErrorCode.UNAUTHORIZED);
          }
          // The client may have left while the token was checked: then there is no slot to hold.
          if (socket.conn.readyState !== 'open') return next(new Error('connection closed'));
          if (!this.deps.clients.reserve(principal.userId)) {
            return refuse('user_socket_limit', `at most ${this.deps.maxSocketsPerUser} open connections per user; close one first`, ErrorCode.TOO_MANY_CONNECTIONS);
          }
          (socket.data as SocketData).principal = principal;
          // Released once, on whichever comes first: the namespace disconnect, or the engine.io connection
          // closing (Socket.IO emits no disconnect for a client that left while the middleware ran).
          let held = true;
          const release = () => {
            if (held) this.deps.clients.release(principal.userId);
            held = false;
          };
          socket.once('disconnect', release);
          socket.conn.once('close', release);
          next();
        },
        (e: unknown) => {
          this.deps.logger.warn({ err: e }, 'socket.io handshake: token check failed');
          refuse('unavailable', 'authentication is temporarily unavailable', ErrorCode.UNAVAILABLE);
        },
      );
    });
    this.io.on('connection', (socket) => this.onConnection(socket));
  }

  private onConnection(socket: Socket): void {
    gatewayMetrics.connections.inc({ protocol: PROTOCOL });
    socket.on('disconnect', () => gatewayMetrics.connections.dec({ protocol: PROTOCOL }));
    const principal = (socket.data as SocketData).principal;
    const untrack = this.deps.clients.track({
      protocol: PROTOCOL,
      principal,
      closeForRevokedToken: () => {
        socket.emit('error', { code: ErrorCode.UNAUTHORIZED, message: 'the API token of this connection was revoked or has expired' });
        socket.disconnect(true);
      },
    });
    socket.once('disconnect', untrack);
    const limiter = new MessageRateLimiter(this.deps.options.messagesPerSecond);
    const session: ClientSession = {
      protocol: PROTOCOL,
      principal,
      joinFeed: (userId) => void socket.join(feedRoom(userId)),
      leaveFeed: (userId) => void socket.leave(feedRoom(userId)),
    };
    const sendError = (code: ErrorCode, message: string, event?: string) => socket.emit('error', event ? { code, message, event } : { code, message });

    socket.use((packet, next) => {
      const verdict = limiter.take();
      if (verdict === 'ok') return next();
      gatewayMetrics.errors.inc({ protocol: PROTOCOL, code: ErrorCode.RATE_LIMITED });
      const ack = packet[packet.length - 1];
      if (verdict === 'flood') {
        sendError(ErrorCode.RATE_LIMITED, 'message flood: disconnecting');
        gatewayMetrics.closedByServer.inc({ protocol: PROTOCOL, reason: 'rate_limited' });
        socket.disconnect(true);
      } else if (typeof ack === 'function') (ack as Ack)(fail(ErrorCode.RATE_LIMITED, 'rate limit exceeded; message dropped'));
      else if (limiter.firstOfEpisode()) sendError(ErrorCode.RATE_LIMITED, `more than ${this.deps.options.messagesPerSecond} messages per second; messages are being dropped`);
    });

    socket.onAny((event: string, ...args: unknown[]) => {
      const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as Ack) : undefined;
      void this.deps.handlers.handle(session, event, args[0]).then((reply) => {
        if (!socket.connected) return;
        if (event === 'ping' && reply.ok) socket.emit('pong', { ts: reply.ts });
        if (ack) ack(reply);
        else if (!reply.ok) sendError(reply.error.code, reply.error.message, event);
      });
    });
  }

  publish(msg: FeedMessage): void {
    const room = feedRoom(msg.userId);
    const sids = this.io.sockets.adapter.rooms.get(room);
    if (!sids || sids.size === 0) return;
    const { maxBackpressureBytes, slowConsumerPolicy } = this.deps.options;
    for (const sid of [...sids]) {
      const socket = this.io.sockets.sockets.get(sid);
      const ws = socket && uwsSocketOf(socket);
      if (!ws) continue;
      let buffered = 0;
      try {
        buffered = ws.getBufferedAmount();
      } catch {
        continue; // closed under us
      }
      const action = backpressureAction(buffered, maxBackpressureBytes, slowConsumerPolicy);
      if (action === 'send') continue;
      gatewayMetrics.backpressure.inc({ protocol: PROTOCOL, action });
      if (action === 'close') {
        gatewayMetrics.closedByServer.inc({ protocol: PROTOCOL, reason: 'slow_consumer' });
        socket!.disconnect(true);
      }
    }
    this.io.to(room).emit(msg.event, msg.data);
  }

  get connectionCount(): number {
    return this.io.sockets.sockets.size;
  }

  async close(): Promise<void> {
    await this.io.close();
  }
}
