import avro from 'avsc';
import { ChatActivitySchema, FollowerCountSchema, StreamLifecycleSchema, StreamSnapshotSchema } from '../../shared/events/events';
import { AvroReader, createDecodeStep } from './decode.step';
import type { InputTopic } from '../state/processor-event';
import { compileEventReader } from './event.reader';

const topics = { snapshots: 'snap', followers: 'fol', chat: 'chat', lifecycle: 'life' };
const SCHEMA_ID = 7;
const frame = (body: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, 0, SCHEMA_ID]), body]);

/** The decode step over one writer schema: with the compiled reader (`fast`) or avsc's reader + toEvent only. */
function decoder(schema: object, fast: boolean) {
  const type = avro.Type.forSchema(schema as avro.Schema);
  const reader: AvroReader = fast ? type : { fromBuffer: (b) => type.fromBuffer(b) };
  const step = createDecodeStep({
    registry: { decode: async (_t, b) => type.fromBuffer(b!.subarray(5)) as never, schemaFor: async () => reader },
    topics,
  });
  return async (topic: string, value: Buffer) => {
    await step(topic, value); // the first message of a schema id takes the registry path and caches the reader
    return step(topic, value);
  };
}

async function expectSame(kind: InputTopic, schema: object, records: object[]) {
  const type = avro.Type.forSchema(schema as avro.Schema);
  const fast = decoder(schema, true);
  const slow = decoder(schema, false);
  const topic = topics[kind];
  for (const rec of records) {
    const value = frame(type.toBuffer(rec));
    const a = await fast(topic, value);
    expect(a).toEqual(await slow(topic, value));
    expect(a.kind).toBe('ok');
    // A body cut short or with bytes after it is undecodable on both paths.
    for (const broken of [value.subarray(0, value.length - 1), Buffer.concat([value, Buffer.from([2])])]) {
      expect((await fast(topic, broken)).kind).toBe('dlq');
      expect((await slow(topic, broken)).kind).toBe('dlq');
    }
  }
}

const base = { platform: 'twitch', channelId: 'chännel-1', userId: 'u-😀' };
const T = 1_736_164_800_123;

describe('compileEventReader: the same events as avsc + toEvent (decode.step.ts), straight from the body', () => {
  it('snapshots: live, offline, nulls, large and negative numbers, non-ASCII strings', async () => {
    await expectSame('snapshots', StreamSnapshotSchema, [
      { ...base, eventId: 'e1', observedAt: T, live: true, viewers: 123, streamId: 'S', startedAt: T - 60_000, title: 'Títle ✓', category: 'Just Chatting', language: 'de', source: 'poll' },
      { ...base, eventId: 'e2', observedAt: 1, live: false, viewers: null, streamId: null, startedAt: null, title: null, category: null, language: null, source: 'replay' },
      { ...base, eventId: 'e3', observedAt: 2 ** 52, live: true, viewers: 0, streamId: '', startedAt: 0, title: '', category: 'x'.repeat(300), language: null, source: '' },
      { ...base, eventId: 'e4', observedAt: 2 ** 28 - 1, live: true, viewers: 2 ** 28, streamId: 's', startedAt: -(2 ** 40), title: null, category: null, language: 'en', source: 'creator_tool' },
    ]);
  });

  it('many distinct and repeating strings through one reader (its string cache: hits, misses, slots taken over) decode as avsc does', async () => {
    const records = [];
    for (let i = 0; i < 40_000; i++) {
      const c = (i * 7919) % 20_000; // every channel twice, in a scattered order
      records.push({ ...base, channelId: `ch${c}`, userId: `u${c >> 1}`, eventId: `e${i}`, observedAt: T + i, live: true, viewers: i, streamId: `s${c % 3}`, startedAt: T, title: c % 2 ? 'A' : 'ä', category: null, language: null, source: 'poll' });
    }
    const type = avro.Type.forSchema(StreamSnapshotSchema as unknown as avro.Schema);
    const fast = decoder(StreamSnapshotSchema, true);
    for (const rec of records) {
      const got = await fast('snap', frame(type.toBuffer(rec)));
      expect(got.kind === 'ok' && got.value.kind === 'snapshot' && [got.value.channelId, got.value.userId, got.value.streamId, got.value.title]).toEqual([rec.channelId, rec.userId, rec.streamId, rec.title]);
    }
  });

  it('followers with and without paid subscribers; chat with empty and long chatter lists and sampling', async () => {
    await expectSame('followers', FollowerCountSchema, [
      { ...base, eventId: 'f1', observedAt: T, followers: 1000, paidSubscribers: null, subscriptionPoints: null },
      { ...base, eventId: 'f2', observedAt: T, followers: 0, paidSubscribers: 12, subscriptionPoints: 30 },
    ]);
    await expectSame('chat', ChatActivitySchema, [
      { ...base, eventId: 'c1', intervalStart: T - 20_000, intervalEnd: T, messages: 9, chatterIds: ['a', 'b'], samplingRate: 1 },
      { ...base, eventId: 'c2', intervalStart: T - 20_000, intervalEnd: T, messages: 0, chatterIds: [], samplingRate: 0.25 },
      { ...base, eventId: 'c3', intervalStart: 0, intervalEnd: 2, messages: 500, chatterIds: Array.from({ length: 200 }, (_, i) => `h${i}`), samplingRate: 0.5 },
    ]);
  });

  it('lifecycle events, and a record that breaks a domain rule goes to the DLQ as `invalid` on both paths', async () => {
    await expectSame('lifecycle', StreamLifecycleSchema, [
      { ...base, eventId: 'l1', type: 'started', streamId: 'S', occurredAt: T, title: 'T', category: null, source: 'poll', reportedAt: null },
      { ...base, eventId: 'l2', type: 'ended', streamId: 'S', occurredAt: T, title: null, category: 'C', source: 'creator_tool', reportedAt: T - 3 },
    ]);
    const type = avro.Type.forSchema(StreamLifecycleSchema as unknown as avro.Schema);
    const value = frame(type.toBuffer({ ...base, eventId: 'l3', type: 'paused', streamId: 'S', occurredAt: T, title: null, category: null, source: 'poll', reportedAt: null }));
    const a = await decoder(StreamLifecycleSchema, true)('life', value);
    expect(a).toEqual(await decoder(StreamLifecycleSchema, false)('life', value));
    expect(a).toMatchObject({ kind: 'dlq', reason: 'invalid' });
  });

  it('the current schemas get the unrolled reader; an older or newer writer schema is left to avsc, with the same events', async () => {
    for (const [kind, schema] of [['snapshots', StreamSnapshotSchema], ['followers', FollowerCountSchema], ['chat', ChatActivitySchema], ['lifecycle', StreamLifecycleSchema]] as const) {
      expect(compileEventReader(kind, avro.Type.forSchema(schema as unknown as avro.Schema).schema())).toBeDefined();
    }
    const older = { ...ChatActivitySchema, fields: ChatActivitySchema.fields.filter((f) => f.name !== 'samplingRate') };
    await expectSame('chat', older, [{ ...base, eventId: 'c1', intervalStart: T - 20_000, intervalEnd: T, messages: 3, chatterIds: ['a'] }]);
    const withExtra = { ...FollowerCountSchema, fields: [...FollowerCountSchema.fields, { name: 'extra', type: { type: 'map', values: { type: 'array', items: ['null', 'double', 'bytes'] } }, default: {} }] };
    await expectSame('followers', withExtra, [{ ...base, eventId: 'f1', observedAt: T, followers: 5, paidSubscribers: 1, subscriptionPoints: 2, extra: { k: [null, 1.5, Buffer.from('x')] } }]);
    for (const [kind, schema] of [['chat', older], ['followers', withExtra]] as const) {
      expect(compileEventReader(kind, avro.Type.forSchema(schema as unknown as avro.Schema).schema())).toBeUndefined();
    }
  });
});
