import * as uWS from 'uWebSockets.js';
import type { Runtime } from '../shared/runtime';
import type { Logger } from '../shared/logging/logger';
import type { ApiTokenStore } from '../shared/auth/api-tokens';
import { Closer } from '../shared/lifecycle/lifecycle';
import { AppError } from '../shared/errors/app-error';
import type { ChannelOwnerLookup } from '../shared/events/channel-audience';
import type { ChannelOwnership } from './channel-ownership';
import { FeedConsumer } from './feed.consumer';
import type { FeedMessage } from './feed.mapper';
import { FeedRouter } from './feed.router';
import { GatewayHandlers } from './gateway.handlers';
import { KafkaLifecyclePublisher, LifecycleSink } from './lifecycle.publisher';
import { FrontendOptions, PlainWsFrontend } from './plain-ws.frontend';
import { SocketIoFrontend } from './socketio.frontend';
import { ClientRegistry } from './client-registry';
import { UpgradeThrottle } from './upgrade-throttle';
import { RateLimiter } from '../shared/redis/rate-limiter';
import { createRedis } from '../shared/redis/redis';

export interface GatewayDeps {
  /** Authentication at upgrade, and the periodic recheck that closes a revoked token's sockets. */
  tokens: Pick<ApiTokenStore, 'authenticate' | 'validTokenIds'>;
  /** Who owns a channel: `stream_event` authorisation, and the feed's recipients (active owners). */
  ownership: ChannelOwnership & ChannelOwnerLookup;
  /** Defaults to the Kafka lifecycle topic. */
  lifecycle?: LifecycleSink & { start?(): Promise<void>; close?(): Promise<void> };
}

/**
 * One gateway instance: a uWS app serving the plain protocol (/ws) and Socket.IO (/socket.io/) with
 * one set of handlers, a Kafka feed consumer fanning out to both, plus /healthz and /metrics.
 * Socket.IO patches its adapter per process, so run one GatewayServer per process.
 */
export class GatewayServer {
  private listenSocket: uWS.us_listen_socket | undefined;
  private plain: PlainWsFrontend | undefined;
  private sio: SocketIoFrontend | undefined;
  private feed: FeedConsumer | undefined;
  private readonly closer = new Closer();
  private readonly log: Logger;
  private boundPort = 0;

  constructor(private readonly rt: Runtime, private readonly deps: GatewayDeps, private readonly listen: { host?: string; port?: number } = {}) {
    this.log = rt.logger.child({ module: 'gateway' });
  }

  async start(): Promise<void> {
    const c = this.rt.config;
    const lifecycle = this.deps.lifecycle ?? new KafkaLifecyclePublisher(this.rt);
    await lifecycle.start?.();
    this.closer.add('lifecycle publisher', () => lifecycle.close?.());

    const options: FrontendOptions = {
      maxPayloadBytes: c.GATEWAY_MAX_PAYLOAD_BYTES,
      messagesPerSecond: c.GATEWAY_MESSAGES_PER_SECOND,
      idleTimeoutSeconds: c.GATEWAY_IDLE_TIMEOUT_SECONDS,
      maxBackpressureBytes: c.GATEWAY_MAX_BACKPRESSURE_BYTES,
      slowConsumerPolicy: c.GATEWAY_SLOW_CONSUMER_POLICY,
    };
    // The stream_event budget lives in Redis so that it holds across sockets and instances.
    const budgetRedis = createRedis(c.REDIS_URL);
    this.closer.add('stream event budget', () => void budgetRedis.disconnect());
    const streamEventBudget = new RateLimiter(budgetRedis, c.REDIS_KEY_PREFIX, c.GATEWAY_STREAM_EVENTS_PER_MINUTE);
    const clients = new ClientRegistry(this.deps.tokens, { maxSocketsPerUser: c.GATEWAY_MAX_SOCKETS_PER_USER, recheckMs: c.GATEWAY_AUTH_RECHECK_MS }, this.log);
    clients.start();
    this.closer.add('client registry', () => clients.close());
    const frontendDeps = {
      clients,
      throttle: new UpgradeThrottle(c.GATEWAY_UPGRADES_PER_MINUTE_PER_IP),
      maxSocketsPerUser: c.GATEWAY_MAX_SOCKETS_PER_USER,
      handlers: new GatewayHandlers({ ownership: this.deps.ownership, lifecycle, logger: this.log, streamEventBudget, maxFutureSkewMs: c.PROCESSOR_MAX_FUTURE_SKEW_SECONDS * 1000 }),
      authenticate: async (token: string | null) => (token ? this.deps.tokens.authenticate(token) : null),
      logger: this.log,
      options,
    };
    const app = uWS.App();
    const plain = new PlainWsFrontend(app, frontendDeps);
    plain.attach('/ws');
    const transports = c.GATEWAY_SOCKETIO_TRANSPORTS.split(',') as Array<'websocket' | 'polling'>;
    const sio = new SocketIoFrontend(app, frontendDeps, transports);
    this.plain = plain;
    this.sio = sio;
    this.routes(app);
    this.closer.add('socket.io', () => sio.close());
    this.closer.add('plain clients', () => plain.closeAll());

    // A channel's records go to its active owners, resolved per record (several users may own one channel).
    const router = new FeedRouter(this.deps.ownership, (msg) => this.publish(msg));
    const feed = new FeedConsumer(this.rt, (msg) => router.deliver(msg), c.GATEWAY_ALERT_DEDUP_SIZE);
    this.feed = feed;
    this.closer.add('feed consumer', () => feed.close());
    await feed.start();

    const host = this.listen.host ?? c.GATEWAY_HOST;
    const port = this.listen.port ?? c.GATEWAY_PORT;
    this.listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) =>
      app.listen(host, port, (ls) => (ls ? resolve(ls) : reject(new AppError('GATEWAY_LISTEN_FAILED', `the gateway could not listen on ${host}:${port}`, { context: { host, port } })))),
    );
    this.boundPort = uWS.us_socket_local_port(this.listenSocket as unknown as uWS.us_socket);
    this.closer.add('listen socket', () => {
      if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
      this.listenSocket = undefined;
    });
    this.log.info({ host, port: this.boundPort }, 'gateway listening');
  }

  private routes(app: uWS.TemplatedApp): void {
    app.get('/healthz', (res) => {
      res.writeHeader('content-type', 'application/json').end(JSON.stringify({ status: 'ok', connections: this.connectionCounts() }));
    });
    // No /metrics here: Prometheus scrapes METRICS_PORT (gateway.service.ts), never the public WebSocket port.
    app.any('/ws', (res) => {
      res.writeStatus('426 Upgrade Required').writeHeader('upgrade', 'websocket').writeHeader('content-type', 'application/json')
        .end(JSON.stringify({ error: { code: 'UPGRADE_REQUIRED', message: 'connect with a WebSocket client' } }));
    });
    app.any('/*', (res) => {
      res.writeStatus('404 Not Found').writeHeader('content-type', 'application/json')
        .end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'WebSocket endpoints: /ws (plain JSON) and /socket.io/ (Socket.IO)' } }));
    });
  }

  /** Delivers a message to a user's clients on this instance (the feed consumer; models' recommendations). */
  publish(msg: FeedMessage): void {
    this.plain?.publish(msg);
    this.sio?.publish(msg);
  }

  connectionCounts(): { ws: number; socketIo: number } {
    return { ws: this.plain?.connectionCount ?? 0, socketIo: this.sio?.connectionCount ?? 0 };
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `ws://${this.listen.host ?? this.rt.config.GATEWAY_HOST}:${this.boundPort}`;
  }

  get feedGroupId(): string | undefined {
    return this.feed?.groupId;
  }

  /** Stops accepting, closes clients (1001), stops the feed; safe to call twice. */
  close(): Promise<void> {
    return this.closer.close((name, err) => this.log.error({ part: name, err }, 'gateway close step failed'));
  }
}
