import { isLifecycleType, type ChatActivity, type FollowerCount, type LifecycleType, type StreamLifecycle, type StreamSnapshot } from '../../shared/events/events';
import type { Topics } from '../../shared/kafka/topics';
import { UndecodableMessageError } from '../../shared/schema-registry/schema-registry';
import { INPUT_TOPICS, type InputTopic, type ProcessorEvent } from '../state/processor-event';
import { compileEventReader, EventReader } from './event.reader';
import { dlq, ok, StepResult } from './step.result';

export interface Decoder {
  decode<T>(topic: string, buffer: Buffer | null): Promise<T>;
  /** The Avro reader of a registered schema id (the registry client caches these). */
  schemaFor?(id: number): Promise<AvroReader>;
}

export interface AvroReader {
  fromBuffer(buffer: Buffer): unknown;
  /** The schema as JSON (avsc's `Type#schema()`): what `compileEventReader` compiles. */
  schema?(): unknown;
}


/** Why a decoded record is unusable, or null. Avro guarantees types; these are the domain rules. */
function invalidReason(e: ProcessorEvent): string | null {
  if (!e.eventId || !e.platform || !e.channelId) return 'eventId, platform and channelId must be non-empty';
  if (!Number.isFinite(e.t) || e.t <= 0) return 'event time must be a positive epoch-ms timestamp';
  switch (e.kind) {
    case 'snapshot':
      return e.viewers !== null && (e.viewers < 0 || !Number.isFinite(e.viewers)) ? 'viewers must be ≥ 0' : null;
    case 'followers':
      return e.followers < 0 ? 'followers must be ≥ 0' : (e.paidSubscribers ?? 0) < 0 || (e.subscriptionPoints ?? 0) < 0 ? 'paid subscribers and points must be ≥ 0' : null;
    case 'chat':
      return e.messages < 0 ? 'messages must be ≥ 0' : null;
    case 'lifecycle':
      return !isLifecycleType(e.type) ? `unknown lifecycle type "${e.type}"` : !e.streamId ? 'streamId must be non-empty' : null;
  }
}

/**
 * Decodes a Confluent-framed Avro message of one input topic into a ProcessorEvent. Undecodable bytes
 * (UndecodableMessageError: bad framing, a schema id the registry answers 404 for, a body that does not
 * match its schema) and records that break a domain rule go to the DLQ. Any other error — above all
 * SchemaRegistryUnavailableError, the registry unreachable, timing out or answering 5xx — is thrown:
 * the message is good, and the consumer loop waits until the registry answers (untilRegistryAnswers).
 *
 * Hot path: once a schema id's reader is known the decode is synchronous (wire format = magic byte 0,
 * 4-byte schema id, Avro body) — a promise per message cost about a third of the processor's time —
 * and reads the body straight into the event (`event.reader.ts`, compiled per topic and writer schema;
 * avsc's reader + `toEvent` for a schema it does not cover). Anything unusual (unknown id, wrong magic
 * byte) takes the registry client's path and its errors.
 */
export function createDecodeStep(deps: { registry: Decoder; topics: Pick<Topics, InputTopic> }) {
  const { registry, topics } = deps;
  const kindOf = new Map<string, InputTopic>(INPUT_TOPICS.map((k) => [topics[k], k]));
  const readers = new Map<number, AvroReader>();
  /** Per input topic and schema id: the compiled event reader, or null where avsc's reader is used. */
  const compiled = new Map<InputTopic, Map<number, EventReader | null>>(INPUT_TOPICS.map((k) => [k, new Map()]));
  const compiledFor = (kind: InputTopic, id: number, reader: AvroReader): EventReader | null => {
    const byId = compiled.get(kind)!;
    let fast = byId.get(id);
    if (fast === undefined) {
      fast = (reader.schema && compileEventReader(kind, reader.schema())) || null;
      byId.set(id, fast);
    }
    return fast;
  };

  const finish = (kind: InputTopic, raw: unknown): StepResult<ProcessorEvent> => {
    const event = toEvent(kind, raw);
    const reason = invalidReason(event);
    return reason ? dlq('invalid', reason) : ok(event);
  };

  /** A writer schema the event reader does not cover: avsc's reader, then `toEvent`. */
  const viaAvsc = (kind: InputTopic, topic: string, reader: AvroReader, value: Buffer): StepResult<ProcessorEvent> => {
    let raw: unknown;
    try {
      raw = reader.fromBuffer(value.subarray(5));
    } catch (err) {
      return dlq('undecodable', new UndecodableMessageError(topic, err).message);
    }
    return finish(kind, raw);
  };

  const slow = async (kind: InputTopic, topic: string, value: Buffer | null): Promise<StepResult<ProcessorEvent>> => {
    if (registry.schemaFor && value && value.length >= 5 && value[0] === 0) {
      const id = value.readInt32BE(1);
      const reader = await registry.schemaFor(id).catch(() => undefined);
      if (reader) readers.set(id, reader);
    }
    try {
      return finish(kind, await registry.decode<unknown>(topic, value));
    } catch (err) {
      if (err instanceof UndecodableMessageError) return dlq('undecodable', err.message);
      throw err;
    }
  };

  // The reader of the last (topic, schema id) seen: a batch is one topic, and its messages share one id.
  let lastTopic = '';
  let lastId = -1;
  let lastFast: EventReader | null = null;

  return function decodeStep(topic: string, value: Buffer | null): StepResult<ProcessorEvent> | Promise<StepResult<ProcessorEvent>> {
    const id = value && value.length >= 5 && value[0] === 0 ? value.readInt32BE(1) : -1;
    let fast = id >= 0 && id === lastId && topic === lastTopic ? lastFast : null;
    if (!fast) {
      const kind = kindOf.get(topic);
      if (!kind) return dlq('invalid', `not an input topic: ${topic}`);
      const reader = id >= 0 ? readers.get(id) : undefined;
      if (!reader) return slow(kind, topic, value);
      fast = compiledFor(kind, id, reader);
      if (!fast) return viaAvsc(kind, topic, reader, value!);
      lastTopic = topic;
      lastId = id;
      lastFast = fast;
    }
    let event: ProcessorEvent;
    try {
      event = fast(value!, 5);
    } catch (err) {
      return dlq('undecodable', new UndecodableMessageError(topic, err).message);
    }
    const reason = invalidReason(event);
    return reason ? dlq('invalid', reason) : ok(event);
  };
}

function toEvent(kind: InputTopic, raw: unknown): ProcessorEvent {
  switch (kind) {
    case 'snapshots': {
      const s = raw as StreamSnapshot;
      return {
        kind: 'snapshot', eventId: s.eventId, platform: s.platform, channelId: s.channelId, userId: s.userId, t: s.observedAt,
        live: s.live, viewers: s.viewers, streamId: s.streamId, startedAt: s.startedAt, title: s.title, category: s.category,
      };
    }
    case 'followers': {
      const f = raw as FollowerCount;
      return {
        kind: 'followers', eventId: f.eventId, platform: f.platform, channelId: f.channelId, userId: f.userId, t: f.observedAt, followers: f.followers,
        paidSubscribers: f.paidSubscribers ?? null, subscriptionPoints: f.subscriptionPoints ?? null,
      };
    }
    case 'chat': {
      const c = raw as ChatActivity;
      return {
        kind: 'chat', eventId: c.eventId, platform: c.platform, channelId: c.channelId, userId: c.userId,
        t: c.intervalEnd - 1, messages: c.messages, chatterIds: c.chatterIds, samplingRate: c.samplingRate ?? 1,
      };
    }
    case 'lifecycle': {
      const l = raw as StreamLifecycle;
      return {
        kind: 'lifecycle', eventId: l.eventId, type: l.type as LifecycleType, platform: l.platform, channelId: l.channelId,
        userId: l.userId, t: l.occurredAt, streamId: l.streamId, title: l.title, category: l.category,
      };
    }
  }
}
