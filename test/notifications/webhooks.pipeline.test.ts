import { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import { createIdempotentProducer } from '../../shared/kafka/kafka.client';
import { ProcessorService } from '../../processors/processor.service';
import { NotifyService } from '../../notifications/notify.service';
import { verifySignature } from '../../notifications/webhook.signature';
import { eventually, testStack, TestStack } from '../support/stack';
import { generateStream, produceEvents } from '../processors/processor-fixtures';
import { cleanupNotify, WebhookReceiver } from './webhook-receiver';
import { createRedis } from '../../shared/redis/redis';
import { ConnectionRepository } from '../../platforms/connections/connection.repository';
import { TokenCipher } from '../../platforms/tokens/token-cipher';
import { createProcessor } from '../../processors/processor.wiring';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/**
 * The whole path: lifecycle, snapshot, chat and follower events of one simulated stream → the real
 * processor (windows, session, alerts on Kafka) → `NotifyService` → a signed webhook for the start and one
 * for the end, whose summary equals the session row the processor wrote to ClickHouse.
 */
describe('notifications: a stream through the processor gives one start and one end webhook matching ClickHouse', () => {
  let stack: TestStack;
  let notify: NotifyService;
  let processor: ProcessorService;
  let repo: ClickHouseRepository;
  const rx = new WebhookReceiver();
  const secret = 'whsec_pipeline-test';

  beforeAll(async () => {
    stack = await testStack({ ALLOW_PRIVATE_WEBHOOK_TARGETS: 'true', WEBHOOK_ALLOWED_PORTS: '*', PROCESSOR_ALLOWED_LATENESS_SECONDS: '60', PROCESSOR_FLUSH_INTERVAL_MS: '100', NOTIFY_BACKOFF_INITIAL_MS: '50', NOTIFY_BACKOFF_MAX_MS: '200' });
    repo = new ClickHouseRepository(stack.rt.clickhouseSettings);
    await rx.start();
    notify = await NotifyService.start(stack.rt, { metricsPort: null });
    // generateStream's channel 0 is twitch:ch0 of user0, who connected it (alerts go to a channel's active owners).
    const redis = createRedis(stack.rt.config.REDIS_URL);
    await new ConnectionRepository(redis, stack.rt.config.REDIS_KEY_PREFIX, TokenCipher.fromKeyRing(stack.rt.config.TOKEN_ENCRYPTION_KEYS))
      .upsert({ userId: 'user0', platform: 'twitch', channelId: 'ch0', login: 'ch0', displayName: 'ch0', scopes: [] }, { accessToken: 'a', refreshToken: 'r', expiresAt: null, scopes: [] });
    redis.disconnect();
    await notify.repo.create({ userId: 'user0', url: rx.script('/pipeline', [200]), format: 'json', events: ['stream_started', 'stream_ended'], description: '', secret });
    processor = createProcessor(stack.rt);
    await processor.start();
    const producer = createIdempotentProducer(stack.rt.kafka);
    await producer.connect();
    await produceEvents(stack.rt, producer, generateStream({ channels: 1, minutes: 4 }).events);
    await producer.disconnect();
  }, 120_000);

  afterAll(async () => {
    await processor?.close();
    await notify?.close();
    await repo?.close();
    await rx.close();
    if (stack) {
      const redis = createRedis(stack.rt.config.REDIS_URL);
      await cleanupNotify(stack.rt, redis).catch(() => undefined);
      redis.disconnect();
    }
    await stack?.cleanup();
  });

  it('exactly one signed stream_started and one stream_ended whose summary equals stream_sessions', async () => {
    await eventually(async () => rx.on('/pipeline'), (r) => r.length >= 2, 90_000);
    const sessions = await eventually(
      () => repo.query<Json>('session', `SELECT * FROM stream_sessions_latest WHERE platform = 'twitch' AND channel_id = 'ch0' AND status = 'ended'`),
      (r) => r.length === 1,
    );
    const s = sessions[0];
    const got = rx.on('/pipeline');
    for (const r of got) {
      expect(verifySignature(secret, r.headers['x-spacehub-signature'] as string, r.headers['x-spacehub-timestamp'] as string, r.body)).toEqual({ ok: true });
    }
    // Webhooks are not ordered among themselves (concurrent deliveries); receivers order by occurredAt.
    const bodies = got.map((r) => JSON.parse(r.body) as Json).sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
    expect(bodies.map((b) => b.type)).toEqual(['stream_started', 'stream_ended']);
    expect(bodies[0]).toMatchObject({ platform: 'twitch', channelId: 'ch0', id: 'stream_started:twitch:ch0:stream-0' });
    expect(bodies[1].summary).toMatchObject({
      streamId: 'stream-0', durationSeconds: s.duration_seconds, peakViewers: s.peak_viewers, avgViewers: s.avg_viewers,
      hoursWatched: s.hours_watched, followersGained: s.followers_gained, chatMessages: s.chat_messages,
    });
    expect(bodies[1].summary.durationSeconds).toBe(240);
    // Nothing else arrives for these two alerts (a late duplicate would show up as a third request).
    expect(await notify.repo.deliveries((await notify.repo.listByUser('user0'))[0]!.id, 10)).toHaveLength(2);
    expect(rx.on('/pipeline')).toHaveLength(2);
  });
});
