import http from 'node:http';
import net from 'node:net';
import { AppError } from '../errors/app-error';
import { topicsFor } from '../kafka/topics';
import { SchemaRegistryClient, SchemaRegistryUnavailableError, UndecodableMessageError, untilRegistryAnswers } from './schema-registry';

/**
 * Issue 16 part 2: what a decode failure means. Only bytes that are not Confluent-framed Avro, an id the
 * registry answers 404 for, or an Avro body that does not match its schema are undecodable; a registry
 * that is unreachable, times out or answers 5xx is a retriable outage. The registry here is a stub HTTP
 * server on 127.0.0.1 speaking the Confluent API (GET /schemas/ids/{id}), so each answer is chosen.
 */
const SCHEMA = { type: 'record', name: 'Probe', namespace: 'test', fields: [{ name: 'id', type: 'string' }, { name: 'n', type: 'int' }] };
/** { id: 'a', n: 1 } in Avro, by hand: string = zig-zag length 1 (0x02) + 'a'; int 1 = zig-zag 0x02. */
const BODY = Buffer.from([0x02, 0x61, 0x02]);
const framed = (id: number, body: Buffer) => {
  const header = Buffer.alloc(5);
  header.writeInt32BE(id, 1);
  return Buffer.concat([header, body]);
};
const good = (id = 7) => framed(id, BODY);

type Mode = 'ok' | '404' | '503' | 'hang';

class StubRegistry {
  mode: Mode = 'ok';
  requests = 0;
  private server!: http.Server;
  url = '';
  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      this.requests++;
      if (this.mode === 'hang') return; // accepts, never answers
      if (this.mode === '503') return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"message":"unavailable","error_code":50301}');
      if (this.mode === '404' || !/^\/schemas\/ids\/\d+$/.test(req.url ?? '')) {
        return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Schema not found","error_code":40403}');
      }
      res.writeHead(200, { 'content-type': 'application/vnd.schemaregistry.v1+json' }).end(JSON.stringify({ schema: JSON.stringify(SCHEMA) }));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** A port that refuses connections: bound and closed again. */
async function refusedUrl(): Promise<string> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

const topics = topicsFor('unit');
const client = (url: string) => new SchemaRegistryClient(url, topics, { requestTimeoutMs: 500 });
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as AppError);

describe('Schema Registry decode: undecodable vs registry unavailable', () => {
  const stub = new StubRegistry();
  beforeAll(() => stub.start());
  afterAll(() => stub.close());
  beforeEach(() => { stub.mode = 'ok'; });

  it('a registry that refuses connections is a retriable outage, not an undecodable message', async () => {
    const err = await failure(client(await refusedUrl()).decode('t', good()));
    expect(err).toBeInstanceOf(SchemaRegistryUnavailableError);
    expect(err).not.toBeInstanceOf(UndecodableMessageError);
    expect(err.retriable).toBe(true);
    expect(err.context).toMatchObject({ topic: 't', schemaId: 7 });
  });

  it('a registry answering 5xx is a retriable outage', async () => {
    stub.mode = '503';
    const err = await failure(client(stub.url).decode('t', good()));
    expect(err).toBeInstanceOf(SchemaRegistryUnavailableError);
    expect(err.retriable).toBe(true);
  });

  it('a registry that does not answer within the request timeout is a retriable outage', async () => {
    stub.mode = 'hang';
    const err = await failure(client(stub.url).decode('t', good()));
    expect(err).toBeInstanceOf(SchemaRegistryUnavailableError);
    expect(err.retriable).toBe(true);
  });

  it('an id the registry answers 404 for is undecodable (not retriable)', async () => {
    stub.mode = '404';
    const err = await failure(client(stub.url).decode('t', good(4242)));
    expect(err).toBeInstanceOf(UndecodableMessageError);
    expect(err.retriable).toBe(false);
    expect(err.message).toMatch(/schema id 4242/);
  });

  it.each([
    ['no value', null],
    ['shorter than the 5-byte header', Buffer.from([0, 0, 0])],
    ['a wrong magic byte', Buffer.concat([Buffer.from([1]), good().subarray(1)])],
    ['plain JSON', Buffer.from('{"id":"a","n":1}')],
  ])('%s: undecodable without asking the registry', async (_name, value) => {
    const before = stub.requests;
    const err = await failure(client(stub.url).decode('t', value as Buffer | null));
    expect(err).toBeInstanceOf(UndecodableMessageError);
    expect(err.retriable).toBe(false);
    expect(stub.requests).toBe(before);
  });

  it('an Avro body that does not match its schema is undecodable', async () => {
    const truncated = good().subarray(0, 7);
    const err = await failure(client(stub.url).decode('t', truncated));
    expect(err).toBeInstanceOf(UndecodableMessageError);
    expect(err.retriable).toBe(false);
  });

  it('decodes a good message, and with a warm cache needs no registry', async () => {
    const c = client(stub.url);
    expect(await c.decode('t', good())).toEqual({ id: 'a', n: 1 });
    stub.mode = '503';
    expect(await c.decode('t', good())).toEqual({ id: 'a', n: 1 });
  });
});

describe('untilRegistryAnswers (the shared retry helper, as consumers use it)', () => {
  const stub = new StubRegistry();
  beforeAll(() => stub.start());
  afterAll(() => stub.close());

  it('waits out an outage with backoff, calling onRetry (the consumer heartbeats there), then decodes', async () => {
    stub.mode = '503';
    const c = client(stub.url);
    const retries: number[] = [];
    const value = untilRegistryAnswers(() => c.decode('t', good()), {
      what: 'unit decode', initialDelayMs: 20, maxDelayMs: 50,
      onRetry: (err, attempt) => {
        expect(err).toBeInstanceOf(SchemaRegistryUnavailableError);
        retries.push(attempt);
        if (attempt === 3) stub.mode = 'ok';
      },
    });
    await expect(value).resolves.toEqual({ id: 'a', n: 1 });
    expect(retries).toEqual([1, 2, 3]);
  });

  it('does not retry an undecodable message', async () => {
    stub.mode = '404';
    let retries = 0;
    const err = await failure(untilRegistryAnswers(() => client(stub.url).decode('t', good(99)), { what: 'unit decode', onRetry: () => retries++ }));
    expect(err).toBeInstanceOf(UndecodableMessageError);
    expect(retries).toBe(0);
  });

  it('stops when its signal aborts (a consumer closing), without turning the outage into anything else', async () => {
    stub.mode = '503';
    const abort = new AbortController();
    const c = client(stub.url);
    const p = failure(untilRegistryAnswers(() => c.decode('t', good()), { what: 'unit decode', initialDelayMs: 20, maxDelayMs: 50, signal: abort.signal, onRetry: (_e, attempt) => { if (attempt === 2) abort.abort(new Error('closing')); } }));
    const err = await p;
    expect(err).not.toBeInstanceOf(UndecodableMessageError);
    expect((err as Error).message).toMatch(/closing|Schema Registry/);
  });
});
