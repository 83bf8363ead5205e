import crypto from 'node:crypto';
import os from 'node:os';
import type { Redis } from 'ioredis';
import type { Runtime } from '../shared/runtime';
import { createRedis } from '../shared/redis/redis';
import { Closer } from '../shared/lifecycle/lifecycle';
import { acquireMetricsServer, type MetricsServerHandle } from '../shared/metrics/metrics.server';
import { IngestQueues, pollJobOptions } from './jobs/ingest.queues';
import { ChannelStateStore } from './lifecycle/channel-state.store';
import { EventProducer } from './output/event.producer';
import { raiseReauthAlert, reauthAlert } from './output/reauth-alert';
import { ConnectionEventsListener, type ConnectionEvent } from './scheduler/connection-events.listener';
import { IngestScheduler } from './scheduler/ingest.scheduler';
import { CadenceKeeper } from './scheduler/cadence-keeper';
import { PollPolicy } from './scheduler/poll-policy';
import { createHandlers } from './worker/poll.handlers';
import { createBatchSnapshotHandler } from './worker/batch.handler';
import type { BatchSettings } from './scheduler/ingest.scheduler';
import { IngestWorkers } from './worker/ingest.worker';
import type { IngestPorts } from './ingest.ports';
import { PushIngest } from './push/push.ingest';
import { WebSubCallbackServer, WebSubIngest } from './push/websub.ingest';
import { WebSubStore } from './push/websub.store';
import { cipherFromConfig } from '../platforms/platform-services';
import { ClickHouseRepository } from '../shared/clickhouse/clickhouse.repository';
import { CompetitionSampler } from './competition/competition.sampler';
import { isCategoryDirectory } from './competition/competition.sample';

const TOKEN_VALIDATION_EVERY_MS = 3_600_000;

/** Which platforms batch their stream state, by what their adapters offer (issue 18.1). */
function batchSettings(ports: IngestPorts, shards: number): BatchSettings {
  const platforms: BatchSettings['platforms'] = {};
  const followers: string[] = [];
  for (const p of ports.platforms) {
    const a = ports.adapterFor(p);
    if (a.streamStates) platforms[p] = 'all';
    else if (a.liveVideos) platforms[p] = 'live';
    if (platforms[p] && a.subscriberCounts) followers.push(p);
  }
  return { shards, platforms, followers };
}

export interface IngestServiceOptions {
  ports: IngestPorts;
  /** Prometheus port; 0 = any free port, null = none (default METRICS_PORT). */
  metricsPort?: number | null;
  /** Run workers (default true); false = scheduler and event listener only. */
  workers?: boolean;
  /** Open push sessions (Twitch EventSub) for the channels this process leases (default: with workers). */
  push?: boolean;
  /** WebSub callback port (default INGEST_WEBSUB_PORT; 0 = any free port); used only when YOUTUBE_WEBSUB_CALLBACK_URL is set. */
  webSubPort?: number;
}

/**
 * The composition root of `spacehub ingest`: queues, scheduler, connection-event listener, workers,
 * Kafka producer and the metrics endpoint, started in dependency order and closed in reverse.
 * Start-up reconciles the schedulers with the active connections before workers take jobs.
 */
export class IngestService {
  readonly queues: IngestQueues;
  readonly scheduler: IngestScheduler;
  readonly producer: EventProducer;
  readonly states: ChannelStateStore;
  private readonly cadence: CadenceKeeper;
  private readonly redis: Redis;
  private readonly bullConnection: Redis;
  private workers: IngestWorkers | undefined;
  /** The push path (Twitch EventSub); polling stays the reconciler. */
  push: PushIngest | undefined;
  /** YouTube go-live by WebSub push (YOUTUBE_WEBSUB_CALLBACK_URL set, with workers). */
  webSub: WebSubIngest | undefined;
  /** Where this process serves the WebSub callback. */
  webSubUrl: string | undefined;
  /** Category competition samples (INGEST_COMPETITION_SAMPLE_MINUTES > 0, Twitch connected). */
  competition: CompetitionSampler | undefined;
  private readonly webSubStore: WebSubStore | undefined;
  private listener: ConnectionEventsListener | undefined;
  private metrics: MetricsServerHandle | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private reconciling: Promise<unknown> = Promise.resolve();
  private readonly closer = new Closer();
  private validateTimer: NodeJS.Timeout | undefined;
  private readonly processId = `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;

  private constructor(private readonly rt: Runtime, private readonly opts: IngestServiceOptions) {
    const c = rt.config;
    this.redis = createRedis(c.REDIS_URL);
    this.bullConnection = createRedis(c.REDIS_URL, { forBullMQ: true });
    this.queues = new IngestQueues(this.bullConnection, c.REDIS_KEY_PREFIX, opts.ports.platforms);
    this.states = new ChannelStateStore(this.redis, c.REDIS_KEY_PREFIX);
    this.producer = new EventProducer(rt);
    this.cadence = new CadenceKeeper(this.queues, rt.logger.child({ module: 'ingest-cadence' }));
    const webSubOn = !!c.YOUTUBE_WEBSUB_CALLBACK_URL && opts.workers !== false && opts.ports.platforms.includes('youtube') && !!opts.ports.adapterFor('youtube').feed;
    // The hub secrets are sealed with the platform tokens' key ring (no secret at rest in clear).
    if (webSubOn) this.webSubStore = new WebSubStore(this.redis, c.REDIS_KEY_PREFIX, cipherFromConfig(c, rt.logger));
    const store = this.webSubStore;
    this.scheduler = new IngestScheduler({
      queues: this.queues, policy: new PollPolicy(c), states: this.states, redis: this.redis,
      redisKeyPrefix: c.REDIS_KEY_PREFIX, jobOptions: pollJobOptions(c), logger: rt.logger.child({ module: 'ingest-scheduler' }),
      youtubeQuota: opts.ports.youtubeQuota, youtubeChatQuotaShare: c.INGEST_YOUTUBE_CHAT_QUOTA_SHARE,
      batch: c.INGEST_BATCH_POLLING ? batchSettings(opts.ports, c.INGEST_BATCH_SHARDS) : undefined,
      youtubePushedGoLive: store && { reconcileMs: 1000 * c.INGEST_WEBSUB_RECONCILE_SECONDS, active: (id) => store.active(id), activeChannels: () => store.activeChannels() },
    });
  }

  static async start(rt: Runtime, opts: IngestServiceOptions): Promise<IngestService> {
    const svc = new IngestService(rt, opts);
    try {
      await svc.startParts();
    } catch (err) {
      await svc.close().catch(() => undefined);
      throw err;
    }
    return svc;
  }

  private async startParts(): Promise<void> {
    const { rt, opts } = this;
    const c = rt.config;
    const log = rt.logger.child({ module: 'ingest' });
    this.closer.add('redis', () => this.redis.disconnect());
    this.closer.add('bullmq redis', () => this.bullConnection.disconnect());
    this.closer.add('queues', () => this.queues.close());
    if (opts.ports.close) this.closer.add('platform ports', () => opts.ports.close!());
    await this.producer.waitUntilReady();
    this.closer.add('producer', () => this.producer.close());

    this.listener = new ConnectionEventsListener(createRedis(c.REDIS_URL), c.REDIS_KEY_PREFIX, (e) => this.onConnectionEvent(e), log);
    await this.listener.start();
    this.closer.add('connection events', () => this.listener!.close());

    if (opts.push ?? opts.workers !== false) {
      this.push = new PushIngest({
        ports: opts.ports, producer: this.producer, states: this.states, redis: this.redis, redisKeyPrefix: c.REDIS_KEY_PREFIX, processId: this.processId,
        onLiveChanged: (conn, live) => this.scheduler.onLiveChanged(conn, live), logger: rt.logger.child({ module: 'ingest-push' }),
      });
      this.closer.add('push sessions', () => this.push!.close());
    }

    if (this.webSubStore) {
      this.webSub = new WebSubIngest({
        ports: opts.ports, producer: this.producer, states: this.states, scheduler: this.scheduler, store: this.webSubStore,
        callbackBaseUrl: c.YOUTUBE_WEBSUB_CALLBACK_URL!, leaseSeconds: c.YOUTUBE_WEBSUB_LEASE_SECONDS, processId: this.processId, logger: rt.logger.child({ module: 'ingest-websub' }),
      });
      const server = new WebSubCallbackServer(this.webSub, rt.logger.child({ module: 'ingest-websub' }));
      this.webSubUrl = await server.listen(opts.webSubPort ?? c.INGEST_WEBSUB_PORT, c.INGEST_WEBSUB_HOST);
      this.closer.add('websub callback', async () => {
        this.webSub!.close();
        await server.close();
      });
    }

    await this.reconcile();
    this.reconcileTimer = setInterval(() => void this.reconcile().catch((err: Error) => log.warn({ err }, 'reconciliation failed; will try again')), c.INGEST_RECONCILE_SECONDS * 1000);
    this.closer.add('reconcile timer', async () => {
      clearInterval(this.reconcileTimer);
      await this.reconciling.catch(() => undefined);
    });

    if (opts.workers !== false) {
      const handlerDeps = { ports: opts.ports, producer: this.producer, states: this.states, scheduler: this.scheduler, redis: this.redis, processId: this.processId };
      this.workers = new IngestWorkers({
        config: c, connection: this.bullConnection, queues: this.queues, ports: opts.ports, scheduler: this.scheduler,
        producer: this.producer, redis: this.redis, handlers: createHandlers(handlerDeps), logger: rt.logger,
        batch: createBatchSnapshotHandler({ ...handlerDeps, liveEveryMs: 1000 * c.INGEST_LIVE_POLL_SECONDS, offlineEveryMs: 1000 * c.INGEST_OFFLINE_POLL_SECONDS }),
      });
      this.workers.start();
      // Workers close first (registered last): in-flight jobs finish while producer and Redis are still up.
      // Leave a few seconds of SHUTDOWN_GRACE_MS for the rest of the clean-up after the drain.
      this.closer.add('workers', () => this.workers!.close(Math.max(1000, c.SHUTDOWN_GRACE_MS - 3000)));
      await this.workers.waitUntilReady();
    }

    await this.startCompetition();

    // Twitch requires validating every user token at start-up and hourly; one process per hour does it.
    const validate = () => void this.validateTokens().catch((err: Error) => log.warn({ err }, 'token validation failed; next hour again'));
    validate();
    this.validateTimer = setInterval(validate, TOKEN_VALIDATION_EVERY_MS);
    this.closer.add('token validation timer', () => clearInterval(this.validateTimer));

    const port = opts.metricsPort === undefined ? c.METRICS_PORT : opts.metricsPort;
    if (port !== null) {
      this.metrics = await acquireMetricsServer(port);
      this.closer.add('metrics server', () => this.metrics!.close());
    }
    log.info({ platforms: this.queues.platforms, concurrency: c.INGEST_CONCURRENCY, metrics: this.metrics?.url }, 'ingest started');
  }

  /** The competition sampler (issue 22.3) when it is on and the Twitch adapter can read directories; else a leftover scheduler goes. */
  private async startCompetition(): Promise<void> {
    const c = this.rt.config;
    const twitch = this.opts.ports.platforms.includes('twitch') ? this.opts.ports.adapterFor('twitch') : undefined;
    if (c.INGEST_COMPETITION_SAMPLE_MINUTES === 0 || !twitch || !isCategoryDirectory(twitch)) {
      await CompetitionSampler.removeScheduler(this.bullConnection, this.queues.prefix);
      return;
    }
    const repo = new ClickHouseRepository(this.rt.clickhouseSettings);
    this.closer.add('competition clickhouse', () => repo.close());
    this.competition = new CompetitionSampler({
      connection: this.bullConnection, prefix: this.queues.prefix, ports: this.opts.ports, directory: twitch, repo,
      everyMs: 60_000 * c.INGEST_COMPETITION_SAMPLE_MINUTES, maxCalls: c.INGEST_COMPETITION_MAX_CALLS,
      worker: this.opts.workers !== false, logger: this.rt.logger.child({ module: 'ingest-competition' }),
    });
    this.closer.add('competition sampler', () => this.competition!.close());
    await this.competition.start();
  }

  get metricsUrl(): string | undefined {
    return this.metrics?.url;
  }

  /**
   * Converges schedulers on the active connections, then on their cadence (jobs of dead workers back
   * in the queue, schedulers without a future iteration re-armed); concurrent calls share one run.
   */
  reconcile(): Promise<{ added: number; removed: number }> {
    const run = this.reconciling.catch(() => undefined).then(async () => {
      const active = await this.opts.ports.connections.listActive();
      const result = await this.scheduler.reconcile(active);
      await this.cadence.restore();
      if (this.push) await this.push.reconcile(active);
      if (this.webSub) await this.webSub.reconcile(active);
      return result;
    });
    this.reconciling = run;
    return run;
  }

  private async validateTokens(): Promise<void> {
    const { tokens, platforms } = this.opts.ports;
    if (!tokens.validateAll || !platforms.includes('twitch')) return;
    const claim = `${this.rt.config.REDIS_KEY_PREFIX}:ingest:twitch-token-validation`;
    if ((await this.redis.set(claim, this.processId, 'PX', TOKEN_VALIDATION_EVERY_MS - 60_000, 'NX')) !== 'OK') return;
    const outcome = await tokens.validateAll('twitch');
    this.rt.logger.info({ module: 'ingest', outcome }, 'validated Twitch user tokens');
  }

  /** Resolves once every connection event received so far has been applied (tests). */
  async eventsApplied(): Promise<void> {
    await this.listener?.idle();
  }

  private async onConnectionEvent(e: ConnectionEvent): Promise<void> {
    if (e.type === 'connected') {
      const conn = await this.opts.ports.connections.get(e.connectionId);
      if (conn && conn.status === 'active') await this.scheduler.ensureChannel(conn);
      if (conn && conn.status === 'active' && this.push) await this.push.reconcile(await this.opts.ports.connections.listActive());
      if (conn && conn.status === 'active' && conn.platform === 'youtube' && this.webSub) await this.webSub.reconcile(await this.opts.ports.connections.listActive());
      return;
    }
    // A channel stays polled while any other owner's connection is active (the owner index already
    // reflects this event: it is published after the status change).
    if ((await this.opts.ports.connections.listActiveByChannel(e.platform, e.channelId)).length === 0) {
      await this.scheduler.removeChannel(e);
      if (this.push) await this.push.reconcile(await this.opts.ports.connections.listActive());
    }
    if (e.type === 'reauth_required') {
      const conn = (await this.opts.ports.connections.get(e.connectionId)) ?? e;
      await raiseReauthAlert(this.redis, this.rt.config.REDIS_KEY_PREFIX, this.producer, reauthAlert(conn));
    }
  }

  close(): Promise<void> {
    return this.closer.close((name, err) => this.rt.logger.warn({ module: 'ingest', part: name, err }, 'close failed'));
  }
}
