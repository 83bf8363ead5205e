import type { Consumer, Producer } from 'kafkajs';
import type { Logger } from '../../shared/logging/logger';
import type { Topics } from '../../shared/kafka/topics';
import type { DataVersions } from '../../shared/redis/data-version';
import { chunkTopicMessages } from '../kafka/produce.chunks';
import { processorMetrics as M } from '../processor.metrics';
import type { ProcessorStats } from '../processor.stats';
import type { ClosedWindow } from '../state/window.accumulator';
import { type ProcessorClickHouseSink, windowReports } from './clickhouse.sink';
import type { CommitPlan } from './commit.plan';
import type { Outputs, PendingEnd, SessionRow } from './outputs';
import { endedAlert, toAlert, toMetricWindow } from './records';
import { RollupWriter } from './rollup.writer';

export interface FlushWriterDeps {
  sink: ProcessorClickHouseSink;
  producer: Producer;
  consumer: Consumer;
  topics: Pick<Topics, 'windows' | 'alerts'>;
  dlqTopic: string;
  /** Synchronous Confluent-framed encoders of the MetricWindow and Alert schemas. */
  encode: { windows(value: object): Buffer; alerts(value: object): Buffer };
  withRetry<T>(target: string, fn: () => Promise<T>): Promise<T>;
  /** Per-channel data versions the API's series cache compares with (shared/redis/data-version.ts). */
  versions: Pick<DataVersions, 'bump'>;
  stats: ProcessorStats;
  log: Logger;
}

const sessionKey = (x: { platform: string; channelId: string; streamId: string }) => `${x.platform}:${x.channelId}:${x.streamId}`;

/**
 * Writes what a flush took — ClickHouse rows, Kafka messages — and then the commit that covers it.
 * Writes are chained: one at a time, in order, while processing goes on; the loop waits for the write
 * in flight before handing over the next (`idle`), so an outage pauses consumption instead of piling up
 * memory (processors/README.md, "Exactly-once effect" 2).
 */
export class FlushWriter {
  private writing: Promise<void> = Promise.resolve();
  private inFlight = 0;
  /** metrics_1h_rollup: the hours this flush completed (sink/rollup.writer.ts). */
  private readonly rollups: RollupWriter;

  constructor(private readonly d: FlushWriterDeps) {
    this.rollups = new RollupWriter(d.sink.repo);
  }

  /** Resolves when the write in flight (if any) is done, successfully or not. */
  idle(): Promise<void> {
    return this.writing;
  }

  /** True while a write is queued or running. */
  busy(): boolean {
    return this.inFlight > 0;
  }

  /** Chains the write of `out` (+ the session ends now ready) and then `commit`; `current()` false skips the commit (a rebalance happened). */
  enqueue(out: Outputs, ends: PendingEnd[], commit: CommitPlan, current: () => boolean): Promise<void> {
    this.inFlight++;
    const run = this.writing.then(() => this.write(out, ends, commit, current)).finally(() => {
      this.inFlight--;
    });
    this.writing = run.catch(() => undefined);
    return run;
  }

  /**
   * Order matters for a crash at any point: windows and late rows first (the rollup and the session
   * summaries read them; those two side by side), then Kafka (alerts, windows, DLQ) alongside the session
   * and alert rows, then the commit. Each step
   * retries with backoff until it succeeds, so an outage delays, never loses; nothing is committed
   * before everything it covers is written.
   */
  private async write(out: Outputs, ends: PendingEnd[], commit: CommitPlan, current: () => boolean): Promise<void> {
    const { sink, stats, withRetry } = this.d;
    const started = performance.now();
    const version = Date.now();
    const t0 = performance.now();
    await withRetry('ClickHouse windows', () => sink.insertWindowsAndLate(out.windows, out.late, version));
    stats.ms.chWindows += performance.now() - t0;
    // Both only read the windows just written, so they run side by side: the hourly rollup (then the
    // data versions, which must follow it) and the session reads.
    const since = performance.now();
    const took = (stage: 'chRollup' | 'chSessionReads') => () => void (stats.ms[stage] += performance.now() - since);
    const [, summaries] = await Promise.all([
      withRetry('ClickHouse hourly rollup', () => this.rollups.afterWindows(out.windows)).then(took('chRollup'))
        // metrics_1m and the rollup of these channels changed: the API's cached series of them are now stale,
        // and the windows with their rows go to the channels' open tails (api/README.md "Open tail").
        .then(() => withRetry('Redis data versions', () => this.d.versions.bump(windowReports(out.windows, version)))),
      this.readSessions(out, ends).then((r) => (took('chSessionReads')(), r)),
    ]);
    // A session that ended in this flush keeps only its final summary; a running row replaces this
    // flush's start row of its session. Ended rows come after the flush's start rows (same version: the last one wins).
    for (const row of summaries.ended) {
      out.sessions.push(row);
      out.alerts.push(endedAlert(row));
    }
    if (summaries.running.length) {
      const updated = new Set(summaries.running.map(sessionKey));
      out.sessions = [...out.sessions.filter((x) => x.status !== 'live' || !updated.has(sessionKey(x))), ...summaries.running];
    }
    stats.ms.clickhouse += performance.now() - t0;
    // Kafka and the session/alert rows are independent (both only need the summaries above), so they
    // overlap; the commit still waits for both.
    const t1 = performance.now();
    const timed = (stage: 'kafka' | 'clickhouse', run: Promise<void>) => run.then(() => void (stats.ms[stage] += performance.now() - t1));
    await Promise.all([
      timed('kafka', this.produce(out)),
      timed('clickhouse', withRetry('ClickHouse sessions and alerts', () => sink.insertSessionsAndAlerts(out.sessions, out.alerts, version))),
    ]);
    M.windowsClosed.inc(out.windows.length);
    for (const a of out.alerts) M.alerts.inc({ type: a.type });
    const t = performance.now();
    if (current()) await this.commit(commit);
    stats.ms.commit += performance.now() - t;
    stats.flushes++;
    M.flushSeconds.observe((performance.now() - started) / 1000);
  }

  /**
   * The summaries of the sessions that ended (their last window is written) and the running summaries
   * of those still live, from the windows just written: read side by side.
   */
  private async readSessions(out: Outputs, ends: PendingEnd[]): Promise<{ ended: SessionRow[]; running: SessionRow[] }> {
    const { sink, withRetry } = this.d;
    const endedNow = new Set(ends.map(sessionKey));
    const liveRefs = [...out.liveSessions.values()].filter((r) => !endedNow.has(sessionKey(r)));
    const [ended, running] = await Promise.all([
      Promise.all(ends.map((p) => withRetry('ClickHouse session summary', () => sink.summarizeSession(p)))),
      liveRefs.length ? withRetry('ClickHouse running session summaries', () => sink.summarizeLiveSessions(liveRefs)) : Promise.resolve([]),
    ]);
    return { ended, running };
  }

  private async produce(out: Outputs): Promise<void> {
    const { topics, encode } = this.d;
    const topicMessages = [];
    if (out.windows.length) {
      const running = new Map(out.sessions.filter((x) => x.status === 'live').map((x) => [`${x.platform}:${x.channelId}`, x]));
      topicMessages.push({ topic: topics.windows, messages: out.windows.map((w) => ({ key: w.userId, value: encode.windows(toMetricWindow(w, running.get(`${w.platform}:${w.channelId}`))) })) });
    }
    if (out.alerts.length) topicMessages.push({ topic: topics.alerts, messages: out.alerts.map((a) => ({ key: a.userId, value: encode.alerts(toAlert(a)) })) });
    if (out.dlq.length) topicMessages.push({ topic: this.d.dlqTopic, messages: out.dlq });
    // In calls of bounded size (kafka/produce.chunks.ts: kafkajs' grouping is quadratic in a call's messages),
    // one after another; a failed call is retried alone (the topics are at-least-once either way).
    for (const chunk of chunkTopicMessages(topicMessages)) {
      await this.d.withRetry('Kafka produce', () => this.d.producer.sendBatch({ acks: -1, topicMessages: chunk }));
    }
  }

  private async commit(offsets: CommitPlan): Promise<void> {
    if (offsets.length === 0) return;
    try {
      await this.d.consumer.commitOffsets(offsets);
      this.d.stats.commits++;
    } catch (err) {
      // A rebalance is under way: the next owner replays from the previous commit, which is safe.
      this.d.log.warn({ err }, 'offset commit failed; the partitions will be replayed from the previous commit');
    }
  }

  /**
   * Early firing (processors/README.md): provisional MetricWindows of still-open windows. Fire-and-forget
   * on the same producer as the final windows; never written to ClickHouse, never committed.
   */
  sendProvisional(windows: ClosedWindow[]): void {
    if (windows.length === 0) return;
    this.d.stats.earlyFirings += windows.length;
    M.earlyFirings.inc(windows.length);
    void this.d.producer
      .send({ topic: this.d.topics.windows, messages: windows.map((w) => ({ key: w.userId, value: this.d.encode.windows(toMetricWindow(w, undefined, true)) })) })
      .catch((err) => this.d.log.debug({ err }, 'provisional windows not sent; the final ones follow'));
  }
}
