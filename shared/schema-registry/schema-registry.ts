import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import axios from 'axios';
import { AppError, ServiceUnavailableError } from '../errors/app-error';
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

/** A message that does not decode (wrong magic byte, unknown schema id, truncated Avro). */
export class UndecodableMessageError extends AppError {
  constructor(topic: string, cause: unknown) {
    super('MESSAGE_UNDECODABLE', `a message on ${topic} could not be decoded${cause instanceof Error ? `: ${cause.message}` : ''}`, {
      cause,
      context: { topic },
    });
  }
}

/**
 * The Confluent-compatible Schema Registry (Apicurio's ccompat API locally, Confluent's in production):
 * registers the repo's schemas under TopicNameStrategy subjects, enforces a compatibility level, and
 * encodes/decodes the Confluent wire format (magic byte + schema id + Avro).
 */
export class SchemaRegistryClient {
  readonly registry: SchemaRegistry;
  private readonly ids = new Map<TopicName, number>();

  constructor(readonly url: string, private readonly topics: Topics) {
    this.registry = new SchemaRegistry({ host: url.replace(/\/$/, ''), retry: { retries: 3 } });
  }

  async waitUntilReady(timeoutMs = 60000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastErr: unknown;
    while (Date.now() < deadline) {
      try {
        await axios.get(`${this.url}/subjects`, { timeout: 3000 });
        return;
      } catch (err) {
        lastErr = err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    throw new ServiceUnavailableError('Schema Registry', this.url, lastErr);
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

  async decode<T>(topic: string, buffer: Buffer | null): Promise<T> {
    if (!buffer) throw new UndecodableMessageError(topic, new Error('empty message value'));
    try {
      return (await this.registry.decode(buffer)) as T;
    } catch (err) {
      throw new UndecodableMessageError(topic, err);
    }
  }
}
