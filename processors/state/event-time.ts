import type { ProcessorEvent } from './processor-event';

/**
 * Event time bounded by arrival time (processors/README.md, "Time").
 *
 * A record's event time comes from whoever made it: a platform's clock (a stream's `started_at`), an
 * ingest host, a creator's tool. Its arrival time is the Kafka record timestamp that our own producer
 * (ingest, the gateway) wrote when it handed the record to Kafka — stored in the log, so a replay sees
 * the same value. An event cannot have happened after it arrived (up to the clock skew between hosts),
 * so the event time used for windows and the watermark is `min(eventTime, arrival + maxFutureSkew)`.
 * No source can then move a shard's clock — and with it every other channel's windows — further ahead
 * than the newest arrival plus the skew.
 *
 * A snapshot's `startedAt` is bounded by its (bounded) event time too: a stream cannot have started
 * after it was observed live.
 */
export interface BoundedEvent {
  event: ProcessorEvent;
  /** True when the event time (or a snapshot's start time) was moved back to the bound. */
  clamped: boolean;
}

export function boundEventTime(e: ProcessorEvent, arrivalMs: number, maxFutureSkewMs: number): BoundedEvent {
  const event = boundedEvent(e, arrivalMs, maxFutureSkewMs);
  return { event, clamped: event !== e };
}

/** The same bound without a result object (once per event on the hot path): `e` itself when unchanged, else a bounded copy. */
export function boundedEvent(e: ProcessorEvent, arrivalMs: number, maxFutureSkewMs: number): ProcessorEvent {
  // A record without a timestamp (-1: a producer of the pre-0.10 format) has no arrival to bound by.
  if (!Number.isFinite(arrivalMs) || arrivalMs <= 0) return e;
  const bound = arrivalMs + maxFutureSkewMs;
  const t = Math.min(e.t, bound);
  if (e.kind === 'snapshot' && e.startedAt !== null && e.startedAt > t) return { ...e, t, startedAt: t };
  if (t === e.t) return e;
  return { ...e, t };
}
