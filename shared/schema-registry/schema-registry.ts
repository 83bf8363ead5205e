import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import axios from 'axios';
import TimeoutMiddleware from 'mappersmith/middleware/timeout';
import { Counter } from 'prom-client';
import { AppError, ServiceUnavailableError } from '../errors/app-error';
import { redactUrl } from '../redis/redis';
import { retry, RetryOptions, waitUntilReachable } from '../errors/retry';
import { getOrCreate, metricsRegistry } from '../metrics/metrics';
import { TOPIC_DEFS, TopicName, Topics } from '../kafka/topics';
import { SCHEMAS } from '../events/events';

export type Compatibility = 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FULL' | 'NONE';

export class SchemaCompatibilityError extends AppError {
  constructor(subject: string, detail: string) {
    super('SCHEMA_INCOMPATIBLE', `schema for ${subject} is incompatible with the registered versions: ${detail}`, {
      context: { subject },
    });
  }
}

/**
 * A message that is really not decodable, whatever the registry's health: not Confluent-framed (no
 * value, shorter than the 5-byte header, magic byte not 0), a schema id the registry answers 404 for, a
 * schema that is not usable Avro, or an Avro body that does not match its schema. Never retriable:
 * consumers dead-letter or skip it.
 */
export class UndecodableMessageError extends AppError {
  constructor(topic: string, cause: unknown, schemaId?: number) {
    super('MESSAGE_UNDECODABLE', `a message on ${topic} could not be decoded${cause instanceof Error ? `: ${cause.message}` : ''}`, {
      cause,
      context: { topic, schemaId },
    });
  }
}

/**
 * The registry could not say what a schema id is: unreachable, timed out, or any answer but a schema
 * or a 404 (5xx, 429, 401…). The message is fine; a retry can decode it. Consumers wait it out with
 * `untilRegistryAnswers` — they never dead-letter, skip or commit past it.
 */
export class SchemaRegistryUnavailableError extends AppError {
  constructor(readonly address: string, readonly topic: string, readonly schemaId: number, cause: unknown) {
    super('SCHEMA_REGISTRY_UNAVAILABLE', `Schema Registry at ${address} could not answer for schema id ${schemaId} (${topic})${cause instanceof Error ? `: ${cause.message}` : ''}`, {
      retriable: true,
      cause,
      context: { service: 'Schema Registry', address, topic, schemaId },
    });
  }
}

/** What a failed schema lookup means: only a 404 proves the id does not exist (see the errors above). */
export function classifySchemaLookupError(err: unknown, ctx: { url: string; topic: string; schemaId: number }): SchemaRegistryUnavailableError | UndecodableMessageError {
  // The client (mappersmith) turns every failed request into an error with a status: the registry's
  // own, or 400 for a refused connection or a timeout — so a status other than 404 is an outage.
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === 'number') {
    return status === 404
      ? new UndecodableMessageError(ctx.topic, new Error(`schema id ${ctx.schemaId} is unknown to the registry (404)`), ctx.schemaId)
      : new SchemaRegistryUnavailableError(ctx.url, ctx.topic, ctx.schemaId, err);
  }
  // The registry answered with a schema that does not parse as Avro: no retry can change that.
  return new UndecodableMessageError(ctx.topic, err, ctx.schemaId);
}

const registryRetries = getOrCreate(
  'spacehub_schema_registry_retries_total',
  () => new Counter({
    name: 'spacehub_schema_registry_retries_total',
    help: 'Decodes retried because the Schema Registry could not answer (the consumer waited instead of dead-lettering), by consumer',
    labelNames: ['consumer'] as const,
    registers: [metricsRegistry],
  }),
);

export interface RegistryWait {
  /** Which consumer waits (metric label, and the error that says what ran out). */
  what: string;
  /** Stops the wait (the consumer is closing); the message is then neither committed nor skipped. */
  signal?: AbortSignal;
  /** Called before each backoff: consumers heartbeat here (keep the group session) and log. */
  onRetry?: RetryOptions['onRetry'];
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Runs a decode until the registry answers: SchemaRegistryUnavailableError (and any other retriable
 * error) is retried through the shared retry helper with backoff (200 ms → 5 s, jittered), for as
 * long as it takes; an undecodable message throws at once. The consumer blocks on this message, so it
 * is neither skipped nor committed past, and later messages wait behind it.
 */
export function untilRegistryAnswers<T>(decode: (attempt: number) => Promise<T>, o: RegistryWait): Promise<T> {
  return retry(decode, {
    what: o.what,
    attempts: Number.POSITIVE_INFINITY,
    initialDelayMs: o.initialDelayMs ?? 200,
    maxDelayMs: o.maxDelayMs ?? 5000,
    signal: o.signal,
    onRetry: (err, attempt, delayMs) => {
      registryRetries.inc({ consumer: o.what });
      o.onRetry?.(err, attempt, delayMs);
    },
  });
}

/** The avsc type of a registered Avro schema, as far as we use it. */
export interface AvroType {
  fromBuffer(buffer: Buffer): unknown;
  toBuffer(value: unknown): Buffer;
}

export interface SchemaRegistryClientOptions {
  /** Per request to the registry; a registry that hangs is an outage like one that refuses (default 10 s). */
  requestTimeoutMs?: number;
}

/**
 * The Confluent-compatible Schema Registry (Apicurio's ccompat API locally, Confluent's in production):
 * registers the repo's schemas under TopicNameStrategy subjects, enforces a compatibility level, and
 * encodes/decodes the Confluent wire format (magic byte + schema id + Avro).
 */
export class SchemaRegistryClient {
  readonly registry: SchemaRegistry;
  private readonly ids = new Map<TopicName, number>();

  constructor(readonly url: string, private readonly topics: Topics, opts: SchemaRegistryClientOptions = {}) {
    this.registry = new SchemaRegistry({
      host: url.replace(/\/$/, ''),
      retry: { retries: 3 },
      middlewares: [TimeoutMiddleware(opts.requestTimeoutMs ?? 10_000)],
    });
  }

  async waitUntilReady(timeoutMs = 60000): Promise<void> {
    await waitUntilReachable('Schema Registry', this.url, async () => {
      await axios.get(`${this.url}/subjects`, { timeout: 3000 });
    }, timeoutMs);
  }

  async setCompatibility(subject: string, level: Compatibility): Promise<void> {
    await axios.put(`${this.url}/config/${encodeURIComponent(subject)}`, { compatibility: level }, {
      headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
      timeout: 10000,
    });
  }

  /** Registers (or finds) a schema under a subject; an incompatible change throws SchemaCompatibilityError. */
  async register(subject: string, schema: object): Promise<number> {
    try {
      const { id } = await this.registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject });
      return id;
    } catch (err) {
      const status = (err as { status?: number }).status;
      const message = (err as Error).message ?? '';
      // Apicurio answers a registration that raced an identical one (e.g. the client's own retry after
      // a slow first attempt) with 409 "already exists": the schema is there, so return its id.
      if (status === 409 && /already exists/i.test(message)) {
        return this.registry.getRegistryIdBySchema(subject, { type: SchemaType.AVRO, schema: JSON.stringify(schema) });
      }
      if (status === 409) throw new SchemaCompatibilityError(subject, message);
      throw new ServiceUnavailableError('Schema Registry', this.url, err);
    }
  }

  /** Registers every topic's schema with BACKWARD compatibility and remembers the ids for encoding. */
  async registerAll(names: TopicName[] = Object.keys(TOPIC_DEFS) as TopicName[]): Promise<Map<TopicName, number>> {
    for (const name of names) {
      const subject = `${this.topics[name]}-value`;
      await this.setCompatibility(subject, 'BACKWARD');
      this.ids.set(name, await this.register(subject, SCHEMAS[TOPIC_DEFS[name].schema]));
    }
    return this.ids;
  }

  schemaId(name: TopicName): number {
    const id = this.ids.get(name);
    if (id === undefined) throw new AppError('SCHEMA_NOT_REGISTERED', `no schema registered for topic ${name}; call registerAll() first`);
    return id;
  }

  async encode(name: TopicName, value: object): Promise<Buffer> {
    return this.registry.encode(this.schemaId(name), value);
  }

  /**
   * A synchronous encoder for a topic's registered schema (Confluent wire format, the schema's avsc
   * type resolved once): for hot paths where one promise per message is a visible cost.
   */
  async syncEncoder(name: TopicName): Promise<(value: object) => Buffer> {
    const id = this.schemaId(name);
    const type = await this.schemaFor(id, this.topics[name]);
    const header = Buffer.alloc(5);
    header.writeInt32BE(id, 1);
    return (value) => Buffer.concat([header, type.toBuffer(value)]);
  }

  /**
   * The Avro type of a schema id, from the client's cache or the registry; failures are classified
   * (UndecodableMessageError only for a 404 or an unusable schema, else SchemaRegistryUnavailableError).
   */
  async schemaFor(id: number, topic = '(unknown topic)'): Promise<AvroType> {
    try {
      return (await this.registry.getSchema(id)) as unknown as AvroType;
    } catch (err) {
      throw classifySchemaLookupError(err, { url: redactUrl(this.url), topic, schemaId: id });
    }
  }

  /**
   * Confluent wire format: magic byte 0, 4-byte big-endian schema id, Avro body. Throws
   * UndecodableMessageError for what is really undecodable and SchemaRegistryUnavailableError when the
   * registry could not answer (retriable: wait with `untilRegistryAnswers`).
   */
  async decode<T>(topic: string, buffer: Buffer | null): Promise<T> {
    if (!buffer || buffer.length < 5) throw new UndecodableMessageError(topic, new Error(buffer ? `${buffer.length} bytes: shorter than the Confluent header` : 'empty message value'));
    if (buffer[0] !== 0) throw new UndecodableMessageError(topic, new Error(`magic byte ${buffer[0]}, expected 0: not Confluent-framed`));
    const id = buffer.readInt32BE(1);
    const type = await this.schemaFor(id, topic);
    try {
      return type.fromBuffer(buffer.subarray(5)) as T;
    } catch (err) {
      throw new UndecodableMessageError(topic, err, id);
    }
  }
}
