import axios from 'axios';
import { Queue } from 'bullmq';
import type { Admin } from 'kafkajs';
import type { Redis } from 'ioredis';
import { loadConfig, Config } from '../shared/config/config';
import { createLogger } from '../shared/logging/logger';
import { createKafka } from '../shared/kafka/kafka.client';
import { rawTopicFor } from '../shared/kafka/topics';
import { createRedis } from '../shared/redis/redis';
import { ClickHouseRepository, createClickHouse } from '../shared/clickhouse/clickhouse.repository';
import { clickhouseSettingsOf, kafkaSettingsOf } from '../shared/runtime';
import { ReadinessService, clickhouseCheck, redisCheck, schemaRegistryCheck } from '../api/health/readiness.service';
import { DLQ_NAME, pollQueueName } from '../ingest/jobs/ingest-job';
import { bullPrefix } from '../shared/redis/redis';
import { DELIVERY_QUEUE } from '../notifications/delivery.queue';
import { YouTubeQuota } from '../platforms/http/youtube-quota';
import { simulatorUrl } from '../platforms/endpoints';
import type { CommandModule } from '../shared/lifecycle/process.contract';
import { keyValues, table } from '../shared/lifecycle/command-output';

/**
 * `spacehub status`: one look at a running deployment, from the outside, without starting anything —
 * each backing service and pipeline part (up or not, and why), consumer lag per group, the newest
 * closed window, dead-letter queue sizes, and platform rate-limit and quota use. Every probe has a
 * timeout, so a dead service reads as an error line, never as a hang. Exit 1 when a backing service
 * (Kafka, Schema Registry, ClickHouse, Redis) is down.
 */
export interface StatusReport {
  services: Array<{ name: string; ok: boolean; detail: string }>;
  consumerLag: Array<{ group: string; members: number; lag: number | null; error?: string }>;
  newestWindow: { windowStart: string | null; ageSeconds: number | null; error?: string };
  deadLetters: { ingest: number | null; processor: number | null; notify: number | null; error?: string };
  platforms: {
    twitch: { buckets: number; lowestRemaining: number | null; limit: number | null; error?: string };
    youtube: { quotaUsed: number | null; quotaBudget: number; error?: string };
  };
}

const BACKING = ['kafka', 'schema-registry', 'clickhouse', 'redis'];

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

const message = (err: unknown) => (err as Error)?.message ?? String(err);

async function groupLag(admin: Admin, groupId: string): Promise<number> {
  const committed = await admin.fetchOffsets({ groupId });
  let lag = 0;
  for (const t of committed) {
    const ends = await admin.fetchTopicOffsets(t.topic);
    for (const p of t.partitions) {
      const end = ends.find((e) => e.partition === p.partition);
      if (!end) continue;
      const from = Number(p.offset) >= 0 ? Number(p.offset) : Number(end.low);
      lag += Math.max(0, Number(end.high) - from);
    }
  }
  return lag;
}

export async function collectStatus(c: Config, timeoutMs: number): Promise<StatusReport> {
  const logger = createLogger('silent');
  const ks = kafkaSettingsOf(c);
  // A few retries: the group coordinator lookup needs one after the first metadata round trip.
  const kafka = createKafka(ks, logger, { retries: 3 });
  const admin = kafka.admin();
  const redis: Redis = createRedis(c.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  const bull = createRedis(c.REDIS_URL, { forBullMQ: true, lazyConnect: true, retryStrategy: () => null });
  const chSettings = clickhouseSettingsOf(c);
  const ch = new ClickHouseRepository(chSettings);
  // Asked first on a client without a database, so a never-bootstrapped deployment reads as one clear line.
  const chAdmin = new ClickHouseRepository(chSettings, createClickHouse(chSettings, undefined));
  const database = within(timeoutMs, 'ClickHouse', chAdmin.query<{ n: number }>('status database', 'SELECT count() AS n FROM system.databases WHERE name = {db:String}', { db: c.CLICKHOUSE_DATABASE })).then(([r]) => {
    if (!Number(r?.n)) throw new Error(`database ${c.CLICKHOUSE_DATABASE} does not exist yet (run spacehub bootstrap)`);
  });
  database.catch(() => undefined);
  const redisUp = within(timeoutMs, 'Redis', redis.connect());
  redisUp.catch(() => undefined);
  const queue = (name: string) => new Queue(name, { connection: bull, prefix: bullPrefix(c.REDIS_KEY_PREFIX) });
  const queues = { twitch: queue(pollQueueName('twitch')), youtube: queue(pollQueueName('youtube')), dlq: queue(DLQ_NAME), notify: queue(DELIVERY_QUEUE) };
  const groups = { processor: c.PROCESSOR_GROUP_ID ?? `${ks.topicPrefix}.processor`, 'raw-sink': `${ks.topicPrefix}.raw-sink`, notify: c.NOTIFY_GROUP_ID ?? `${ks.topicPrefix}.notify` };
  const kafkaUp = within(timeoutMs, 'Kafka', admin.connect());
  kafkaUp.catch(() => undefined);
  const kafkaThen = async <T>(fn: () => Promise<T>) => {
    await kafkaUp;
    return within(timeoutMs, 'Kafka', fn());
  };
  const http = (url: string) => async () => void (await axios.get(url, { timeout: timeoutMs }));
  try {
    const members = kafkaThen(() => admin.describeGroups(Object.values(groups)));
    members.catch(() => undefined);
    const membersOf = async (g: string) => {
      const d = (await members).groups.find((x) => x.groupId === g);
      if (!d?.members.length) throw new Error(`no consumer in group ${g}`);
    };
    const checks: Record<string, () => Promise<void>> = {
      kafka: () => kafkaUp,
      'schema-registry': schemaRegistryCheck(c.SCHEMA_REGISTRY_URL),
      clickhouse: clickhouseCheck(ch.client),
      redis: async () => {
        await redisUp;
        await redisCheck(redis)();
      },
      api: http(`http://${c.API_HOST}:${c.API_PORT}/healthz`),
      gateway: http(`http://${c.GATEWAY_HOST}:${c.GATEWAY_PORT}/healthz`),
      ...(c.PLATFORMS_MODE === 'simulator' ? { simulator: http(`${simulatorUrl(c)}/__sim/channels`) } : {}),
      process: () => membersOf(groups.processor),
      sink: () => membersOf(groups['raw-sink']),
      notify: () => membersOf(groups.notify),
      ingest: async () => {
        const n = (await Promise.all([queues.twitch.getWorkersCount(), queues.youtube.getWorkersCount()])).reduce((a, b) => a + b, 0);
        if (n === 0) throw new Error('no ingest worker');
      },
      heartbeat: async () => {
        await database;
        const [r] = await ch.query<{ age: number | null }>('status heartbeat', 'SELECT if(count() = 0, NULL, dateDiff(\'second\', max(emitted_at), now64(3))) AS age FROM heartbeats', {});
        if (r?.age === null || r?.age === undefined) throw new Error('no heartbeat yet');
        if (Number(r.age) * 1000 > 3 * c.HEARTBEAT_INTERVAL_MS + 10_000) throw new Error(`last heartbeat ${r.age} s ago`);
      },
    };
    const [checked, lag, newestWindow, deadLetters, twitch, youtube] = await Promise.all([
      new ReadinessService(checks, timeoutMs).check(),
      Promise.all(
        Object.values(groups).map(async (group) => {
          try {
            const d = (await members).groups.find((x) => x.groupId === group);
            return { group, members: d?.members.length ?? 0, lag: await kafkaThen(() => groupLag(admin, group)) };
          } catch (err) {
            return { group, members: 0, lag: null, error: message(err) };
          }
        }),
      ),
      within(timeoutMs, 'ClickHouse', database.then(() => ch.query<{ ws: number | null }>('status newest window', 'SELECT if(count() = 0, NULL, toUnixTimestamp(max(window_start))) AS ws FROM metrics_1m WHERE window_start <= now()', {}))).then(
        ([r]) => (r?.ws == null ? { windowStart: null, ageSeconds: null } : { windowStart: new Date(Number(r.ws) * 1000).toISOString(), ageSeconds: Math.round(Date.now() / 1000 - Number(r.ws)) }),
        (err: unknown) => ({ windowStart: null, ageSeconds: null, error: message(err) }),
      ),
      (async () => {
        const out: StatusReport['deadLetters'] = { ingest: null, processor: null, notify: null };
        const errors: string[] = [];
        const count = async (q: Queue, ...types: Array<'waiting' | 'delayed' | 'paused' | 'completed' | 'failed'>) =>
          Object.values(await within(timeoutMs, 'Redis', q.getJobCounts(...types))).reduce((a, b) => a + b, 0);
        await Promise.all([
          count(queues.dlq, 'waiting', 'delayed', 'paused', 'completed', 'failed').then((n) => (out.ingest = n), (e: unknown) => errors.push(message(e))),
          count(queues.notify, 'failed').then((n) => (out.notify = n), (e: unknown) => errors.push(message(e))),
          kafkaThen(async () => {
            const topic = rawTopicFor(ks.topicPrefix, 'processorDlq');
            if (!(await admin.listTopics()).includes(topic)) return 0;
            return (await admin.fetchTopicOffsets(topic)).reduce((a, p) => a + Number(p.high) - Number(p.low), 0);
          }).then((n) => (out.processor = n), (e: unknown) => errors.push(message(e))),
        ]);
        return errors.length ? { ...out, error: [...new Set(errors)].join('; ') } : out;
      })(),
      (async () => {
        try {
          await redisUp;
          const keys: string[] = [];
          let cursor = '0';
          do {
            const [next, batch] = await within(timeoutMs, 'Redis', redis.scan(cursor, 'MATCH', `${c.REDIS_KEY_PREFIX}:twitch:ratelimit:*`, 'COUNT', 500));
            cursor = next;
            keys.push(...batch);
          } while (cursor !== '0' && keys.length < 10_000);
          let lowest: number | null = null;
          let limit: number | null = null;
          for (const k of keys) {
            const [remaining, lim, known] = await redis.hmget(k, 'remaining', 'limit', 'known');
            if (known !== '1') continue;
            if (lowest === null || Number(remaining) < lowest) [lowest, limit] = [Number(remaining), Number(lim)];
          }
          return { buckets: keys.length, lowestRemaining: lowest, limit };
        } catch (err) {
          return { buckets: 0, lowestRemaining: null, limit: null, error: message(err) };
        }
      })(),
      (async () => {
        const quota = new YouTubeQuota(redis, { prefix: c.REDIS_KEY_PREFIX, clientId: c.YOUTUBE_CLIENT_ID, dailyBudget: c.YOUTUBE_DAILY_QUOTA_UNITS });
        try {
          await redisUp;
          return { quotaUsed: await within(timeoutMs, 'Redis', quota.used()), quotaBudget: quota.dailyBudget };
        } catch (err) {
          return { quotaUsed: null, quotaBudget: quota.dailyBudget, error: message(err) };
        }
      })(),
    ]);
    return {
      services: Object.entries(checked.checks).map(([name, r]) => ({ name, ok: r.ok, detail: r.ok ? `ok (${r.ms} ms)` : (r.error ?? 'down') })),
      consumerLag: lag,
      newestWindow,
      deadLetters,
      platforms: { twitch, youtube },
    };
  } finally {
    await Promise.allSettled([admin.disconnect(), ...Object.values(queues).map((q) => q.close()), ch.close(), chAdmin.close()]);
    redis.disconnect();
    bull.disconnect();
  }
}

const show = (v: number | null, error?: string) => (v === null ? `unknown${error ? ` (${error})` : ''}` : String(v));

export function renderStatus(r: StatusReport): string {
  const yt = r.platforms.youtube;
  const tw = r.platforms.twitch;
  return [
    'services',
    table(r.services, [['service', (s) => s.name], ['state', (s) => (s.ok ? 'up' : 'DOWN')], ['detail', (s) => s.detail]]),
    '',
    'consumer lag',
    table(r.consumerLag, [['group', (g) => g.group], ['consumers', (g) => g.members], ['lag (messages)', (g) => show(g.lag, g.error)]]),
    '',
    keyValues([
      ['newest closed window', r.newestWindow.windowStart ? `${r.newestWindow.windowStart} (${r.newestWindow.ageSeconds} s ago)` : show(null, r.newestWindow.error ?? 'none yet')],
      ['dead letters', `ingest ${show(r.deadLetters.ingest)}, processor ${show(r.deadLetters.processor)}, notify ${show(r.deadLetters.notify)}${r.deadLetters.error ? ` (${r.deadLetters.error})` : ''}`],
      ['twitch rate limit', tw.error ? show(null, tw.error) : tw.lowestRemaining === null ? `${tw.buckets} buckets, none measured yet` : `${tw.buckets} buckets, lowest ${tw.lowestRemaining}/${tw.limit} points left`],
      ['youtube quota', yt.quotaUsed === null ? show(null, yt.error) : `${yt.quotaUsed}/${yt.quotaBudget} units used today (${((100 * yt.quotaUsed) / yt.quotaBudget).toFixed(1)} %)`],
    ]),
  ].join('\n');
}

export const statusCommand: CommandModule = {
  name: 'status',
  describe: 'each service, consumer lag, the newest closed window, dead-letter queues, platform rate limit and quota',
  options: [{ flags: '--timeout <ms>', describe: 'per probe', default: '3000' }],
  async run(args, out) {
    const timeoutMs = Number(args.flags.timeout);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000) {
      console.error(`spacehub status: --timeout must be an integer between 100 and 60000, got "${String(args.flags.timeout)}"`);
      return 2;
    }
    const report = await collectStatus(loadConfig(), timeoutMs);
    out.result(report, renderStatus);
    return report.services.every((s) => s.ok || !BACKING.includes(s.name)) ? 0 : 1;
  },
};
