import type { Consumer, EachBatchPayload } from 'kafkajs';
import { chDateTime64 } from '../shared/clickhouse/tables';
import type { Runtime } from '../shared/runtime';
import type { ClickHouseRepository } from '../shared/clickhouse/clickhouse.repository';
import type { ChannelEvent, Heartbeat, StreamSnapshot } from '../shared/events/events';
import { retry } from '../shared/errors/retry';
import { UndecodableMessageError, untilRegistryAnswers } from '../shared/schema-registry/schema-registry';


/**
 * Lands raw snapshots, heartbeats and pushed channel events (follows, raids, subs, cheers: table
 * channel_events, per-minute counts in the view channel_events_1m) in ClickHouse, unchanged. Offsets are committed only after
 * ClickHouse acknowledged the batch; a replay re-inserts the same event ids, which the
 * ReplacingMergeTree tables collapse. A message that does not decode (UndecodableMessageError) is
 * counted and skipped with a log line naming topic/partition/offset, never retried forever. A Schema
 * Registry that cannot answer is not that: the batch waits (backoff, heartbeats) until it answers.
 */
export class RawSink {
  private readonly consumer: Consumer;
  private readonly repo: ClickHouseRepository;
  /** Ends a wait for the registry on close (the batch is then not committed; it is read again). */
  private readonly abort = new AbortController();
  undecodable = 0;

  /** `clients` come from the composition root (`processor.wiring.ts`); the sink connects and closes them. */
  constructor(private readonly rt: Pick<Runtime, 'topics' | 'registry' | 'logger'>, clients: { consumer: Consumer; clickhouse: ClickHouseRepository }) {
    this.consumer = clients.consumer;
    this.repo = clients.clickhouse;
  }

  async start(): Promise<void> {
    const { topics } = this.rt;
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [topics.snapshots, topics.heartbeat, topics.channelEvents], fromBeginning: true });
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (p) => this.onBatch(p) });
  }

  private async onBatch({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topics, registry, logger } = this.rt;
    const snapshots: object[] = [];
    const heartbeats: object[] = [];
    const channelEvents: object[] = [];
    const decode = <T>(value: Buffer | null) => untilRegistryAnswers(() => registry.decode<T>(batch.topic, value), {
      what: 'raw sink decode', signal: this.abort.signal,
      onRetry: (err, attempt, delayMs) => {
        logger.warn({ module: 'raw-sink', topic: batch.topic, partition: batch.partition, attempt, delayMs, err }, 'Schema Registry unavailable; waiting');
        void heartbeat().catch(() => undefined);
      },
    });
    for (const m of batch.messages) {
      try {
        if (batch.topic === topics.channelEvents) {
          const e = await decode<ChannelEvent>(m.value);
          channelEvents.push({
            event_id: e.eventId, type: e.type, platform: e.platform, channel_id: e.channelId, user_id: e.userId,
            occurred_at: chDateTime64(e.occurredAt), received_at: chDateTime64(e.receivedAt), actor_id: e.actorId, actor_login: e.actorLogin, actor_name: e.actorName,
            viewers: e.viewers, tier: e.tier, gifted: e.gifted === null ? null : e.gifted ? 1 : 0, months: e.months, count: e.count, bits: e.bits,
          });
        } else if (batch.topic === topics.heartbeat) {
          const h = await decode<Heartbeat>(m.value);
          heartbeats.push({ event_id: h.eventId, source: h.source, emitted_at: chDateTime64(h.emittedAt), sequence: h.sequence });
        } else {
          const s = await decode<StreamSnapshot>(m.value);
          snapshots.push({
            event_id: s.eventId, platform: s.platform, channel_id: s.channelId, user_id: s.userId,
            observed_at: chDateTime64(s.observedAt), live: s.live ? 1 : 0, viewers: s.viewers, stream_id: s.streamId,
            started_at: s.startedAt === null ? null : chDateTime64(s.startedAt), title: s.title, category: s.category,
            language: s.language, source: s.source, kafka_partition: batch.partition, kafka_offset: Number(m.offset),
          });
        }
      } catch (err) {
        if (!(err instanceof UndecodableMessageError)) throw err;
        this.undecodable++;
        logger.warn({ module: 'raw-sink', topic: batch.topic, partition: batch.partition, offset: m.offset, err }, 'undecodable record skipped');
      }
    }
    if (!isRunning() || isStale()) return;
    await retry(
      async () => {
        await this.repo.insert('insert heartbeats', 'heartbeats', heartbeats);
        await this.repo.insert('insert snapshots_raw', 'snapshots_raw', snapshots);
        await this.repo.insert('insert channel_events', 'channel_events', channelEvents);
      },
      {
        what: 'raw sink insert', attempts: 10, initialDelayMs: 200, maxDelayMs: 5000,
        onRetry: (err, attempt, delay) => {
          logger.warn({ module: 'raw-sink', attempt, delay, err }, 'ClickHouse insert failed; retrying');
          void heartbeat().catch(() => undefined);
        },
      },
    );
    const last = batch.messages[batch.messages.length - 1];
    if (last) resolveOffset(last.offset);
    await commitOffsetsIfNecessary();
    await heartbeat();
  }

  async close(): Promise<void> {
    this.abort.abort(new Error('raw sink closing'));
    try {
      await this.consumer.disconnect();
    } finally {
      await this.repo.close();
    }
  }
}
