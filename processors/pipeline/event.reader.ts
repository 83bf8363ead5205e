import avro from 'avsc';
import { ChatActivitySchema, FollowerCountSchema, StreamLifecycleSchema, StreamSnapshotSchema, type LifecycleType } from '../../shared/events/events';
import type { InputTopic, ProcessorEvent } from '../state/processor-event';

/**
 * Avro body → ProcessorEvent in one pass, compiled once per (input topic, writer schema id) from the
 * writer schema: the fields the processor uses are read straight into the event's own shape, the rest
 * (a snapshot's `language` and `source`, a chat record's `intervalStart`, a lifecycle's `source` and
 * `reportedAt`, anything a later schema version adds) are skipped without allocating, and no
 * intermediate Avro record is built and copied. Values are those avsc gives for the same bytes (unions
 * unwrapped, longs as numbers, timestamp-millis as plain numbers); a body that does not match its
 * schema throws (truncated, trailing bytes, a bad union branch), as avsc's `fromBuffer` does.
 *
 * Why (issue 19.1, processors/README.md "Benchmark"): the avsc record plus its copy into the event
 * were a third of the decode step's time and about a fifth of the processor's allocations.
 *
 * The writer schemas of this version of the repo (`shared/events/schemas/`, what every producer here
 * writes) get a hand-unrolled reader (`CURRENT`, straight-line code: about twice as fast as the
 * field-by-field one, which an older or newer writer schema gets).
 *
 * `compileEventReader` returns undefined for a writer schema it does not cover (a needed field missing,
 * named-type references, an unexpected field type): the decode step then keeps avsc's reader for that id.
 */
/** Reads the Avro body that starts at `start` and runs to the end of `buf` (no subarray per message). */
export type EventReader = (buf: Buffer, start: number) => ProcessorEvent;

type Op = (r: Cursor) => unknown;

/** Node's Buffer has the native `utf8Slice` (what avsc's own string reader calls); typed here. */
type SliceableBuffer = Buffer & { utf8Slice(start: number, end: number): string };

interface Cursor {
  buf: SliceableBuffer;
  pos: number;
}

/** Zig-zag varint long as a JS number: avsc's own arithmetic (28 bits with integer ops, then floating point). */
function readLong(r: Cursor): number {
  const buf = r.buf;
  let n = 0;
  let k = 0;
  let b: number;
  let h: number;
  do {
    b = buf[r.pos++]!;
    h = b & 0x80;
    n |= (b & 0x7f) << k;
    k += 7;
  } while (h && k < 28);
  if (h) {
    let f = n;
    let fk = 268435456; // 2 ** 28
    do {
      b = buf[r.pos++]!;
      f += (b & 0x7f) * fk;
      fk *= 128;
    } while (b & 0x80);
    return (f % 2 ? -(f + 1) : f) / 2;
  }
  return (n >> 1) ^ -(n & 1);
}

function readString(r: Cursor): string {
  const len = readLong(r);
  const start = r.pos;
  const end = start + len;
  if (len < 0 || end > r.buf.length) throw new Error('truncated buffer');
  r.pos = end;
  return r.buf.utf8Slice(start, end);
}

/**
 * Strings that repeat from event to event (platform, channel, user and stream ids, titles, chatter ids)
 * are interned: a direct-mapped cache keyed by the bytes returns the same string object for the same
 * bytes, so no new string is built (or kept in the window state), and its hash — which every Map and
 * Set lookup of the state needs — is computed once, not per event. A miss (or a slot taken by another
 * string) just decodes it, as `readString` does; the value is the same either way.
 */
const INTERN_SLOTS = 1 << 14;
const INTERN_MAX_BYTES = 64;

class StringCache {
  private readonly bytes: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(INTERN_SLOTS).fill(undefined);
  private readonly strings: string[] = new Array<string>(INTERN_SLOTS).fill('');

  read(r: Cursor): string {
    const len = readLong(r);
    const start = r.pos;
    const end = start + len;
    if (len < 0 || end > r.buf.length) throw new Error('truncated buffer');
    r.pos = end;
    return this.slice(r.buf, start, end);
  }

  /** The string of `buf[start, end)`, from the cache when the same bytes were seen last in its slot. */
  slice(buf: SliceableBuffer, start: number, end: number): string {
    const len = end - start;
    if (len > INTERN_MAX_BYTES) return buf.utf8Slice(start, end);
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    const slot = (h ^ len) & (INTERN_SLOTS - 1);
    const cached = this.bytes[slot];
    if (cached !== undefined && cached.length === len) {
      let same = true;
      for (let i = 0; i < len; i++) {
        if (cached[i] !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return this.strings[slot]!;
    }
    const s = buf.utf8Slice(start, end);
    this.bytes[slot] = Uint8Array.prototype.slice.call(buf, start, end);
    this.strings[slot] = s;
    return s;
  }
}

function skipBytes(r: Cursor): undefined {
  const len = readLong(r);
  if (len < 0 || r.pos + len > r.buf.length) throw new Error('truncated buffer');
  r.pos += len;
  return undefined;
}

function fixedLength(r: Cursor, n: number): void {
  if (r.pos + n > r.buf.length) throw new Error('truncated buffer');
  r.pos += n;
}

/** A schema node as JSON (what avsc's `Type#schema()` returns): a type name, an array (union) or an object. */
type SchemaNode = string | SchemaNode[] | { type: SchemaNode; items?: SchemaNode; values?: SchemaNode; fields?: Array<{ name: string; type: SchemaNode }>; symbols?: string[]; size?: number; logicalType?: string };

/**
 * The op that reads a value of `node` (`skip`: reads past it and returns undefined; `intern`: its strings
 * through the cache), or undefined when not covered.
 */
function opFor(node: SchemaNode, skip: boolean, intern?: StringCache): Op | undefined {
  if (Array.isArray(node)) {
    const branches = node.map((n) => opFor(n, skip, intern));
    if (branches.some((b) => !b)) return undefined;
    return (r) => {
      const i = readLong(r);
      const branch = branches[i];
      if (!branch) throw new Error(`invalid union index ${i}`);
      return branch(r);
    };
  }
  if (typeof node === 'object' && node !== null) {
    switch (node.type) {
      case 'array': {
        const item = node.items === undefined ? undefined : opFor(node.items, skip, intern);
        if (!item) return undefined;
        return (r) => readBlocks(r, item, skip);
      }
      case 'map': {
        const value = node.values === undefined ? undefined : opFor(node.values, skip, intern);
        if (!value) return undefined;
        return (r) => readMap(r, value, skip);
      }
      case 'record': {
        const fields = (node.fields ?? []).map((f) => [f.name, opFor(f.type, skip, intern)] as const);
        if (fields.some(([, op]) => !op)) return undefined;
        return (r) => {
          const o: Record<string, unknown> | undefined = skip ? undefined : {};
          for (const [name, op] of fields) {
            const v = op!(r);
            if (o) o[name] = v;
          }
          return o;
        };
      }
      case 'enum': {
        const symbols = node.symbols ?? [];
        return (r) => {
          const i = readLong(r);
          if (i < 0 || i >= symbols.length) throw new Error(`invalid enum index ${i}`);
          return skip ? undefined : symbols[i];
        };
      }
      case 'fixed': {
        const size = node.size ?? 0;
        return (r) => {
          const start = r.pos;
          fixedLength(r, size);
          return skip ? undefined : r.buf.subarray(start, start + size);
        };
      }
      default:
        // A primitive with attributes, e.g. { type: 'long', logicalType: 'timestamp-millis' } (decoded as a plain number).
        return opFor(node.type, skip, intern);
    }
  }
  switch (node) {
    case 'null':
      return () => null;
    case 'boolean':
      return (r) => !!r.buf[r.pos++];
    case 'int':
    case 'long':
      return readLong;
    case 'float':
      return (r) => {
        fixedLength(r, 4);
        return r.buf.readFloatLE(r.pos - 4);
      };
    case 'double':
      return (r) => {
        fixedLength(r, 8);
        return r.buf.readDoubleLE(r.pos - 8);
      };
    case 'string':
      if (skip) return skipBytes;
      if (intern) return (r) => intern.read(r);
      return readString;
    case 'bytes':
      return skip ? skipBytes : (r) => {
        const len = readLong(r);
        const start = r.pos;
        fixedLength(r, len);
        return r.buf.subarray(start, start + len);
      };
    default:
      return undefined; // a reference to a named type: left to avsc
  }
}

function readBlocks(r: Cursor, item: Op, skip: boolean): unknown[] | undefined {
  const out: unknown[] | undefined = skip ? undefined : [];
  for (let n = readLong(r); n !== 0; n = readLong(r)) {
    if (n < 0) {
      n = -n;
      readLong(r); // the block's size in bytes
    }
    for (let i = 0; i < n; i++) {
      const v = item(r);
      if (out) out.push(v);
    }
  }
  return out;
}

function readMap(r: Cursor, value: Op, skip: boolean): Record<string, unknown> | undefined {
  const out: Record<string, unknown> | undefined = skip ? undefined : {};
  for (let n = readLong(r); n !== 0; n = readLong(r)) {
    if (n < 0) {
      n = -n;
      readLong(r);
    }
    for (let i = 0; i < n; i++) {
      const k = readString(r);
      const v = value(r);
      if (out) out[k] = v;
    }
  }
  return out;
}

/** Per input topic: the writer fields the event is built from, in the order `build` takes them. */
const NEEDED: Record<InputTopic, readonly string[]> = {
  snapshots: ['eventId', 'platform', 'channelId', 'userId', 'observedAt', 'live', 'viewers', 'streamId', 'startedAt', 'title', 'category'],
  followers: ['eventId', 'platform', 'channelId', 'userId', 'observedAt', 'followers', 'paidSubscribers', 'subscriptionPoints'],
  chat: ['eventId', 'platform', 'channelId', 'userId', 'intervalEnd', 'messages', 'chatterIds', 'samplingRate'],
  lifecycle: ['eventId', 'type', 'platform', 'channelId', 'userId', 'streamId', 'occurredAt', 'title', 'category'],
};

/** The same event `toEvent` (decode.step.ts) makes of the avsc record; `v` holds NEEDED's fields in order. */
function build(kind: InputTopic, v: unknown[]): ProcessorEvent {
  switch (kind) {
    case 'snapshots':
      return {
        kind: 'snapshot', eventId: v[0] as string, platform: v[1] as string, channelId: v[2] as string, userId: v[3] as string, t: v[4] as number,
        live: v[5] as boolean, viewers: v[6] as number | null, streamId: v[7] as string | null, startedAt: v[8] as number | null,
        title: v[9] as string | null, category: v[10] as string | null,
      };
    case 'followers':
      return {
        kind: 'followers', eventId: v[0] as string, platform: v[1] as string, channelId: v[2] as string, userId: v[3] as string, t: v[4] as number,
        followers: v[5] as number, paidSubscribers: (v[6] as number | null | undefined) ?? null, subscriptionPoints: (v[7] as number | null | undefined) ?? null,
      };
    case 'chat':
      return {
        kind: 'chat', eventId: v[0] as string, platform: v[1] as string, channelId: v[2] as string, userId: v[3] as string, t: (v[4] as number) - 1,
        messages: v[5] as number, chatterIds: v[6] as string[], samplingRate: (v[7] as number | undefined) ?? 1,
      };
    case 'lifecycle':
      return {
        kind: 'lifecycle', eventId: v[0] as string, type: v[1] as never, platform: v[2] as string, channelId: v[3] as string, userId: v[4] as string,
        t: v[6] as number, streamId: v[5] as string, title: v[7] as string | null, category: v[8] as string | null,
      };
  }
}

/** Fields that may be absent from an older writer schema (the event then takes toEvent's default). */
const OPTIONAL = new Set(['paidSubscribers', 'subscriptionPoints', 'samplingRate']);

/**
 * Hand-unrolled readers of the current schemas. One module-level cursor (a decode is synchronous and
 * never re-entered); bounds are checked where a read could run past the end, and the end position at the end.
 */
let B: SliceableBuffer = Buffer.alloc(0) as SliceableBuffer;
let P = 0;
const cache = new StringCache();
const at = (buf: Buffer, start: number) => {
  B = buf as SliceableBuffer;
  P = start;
};
function long(): number {
  let n = 0;
  let k = 0;
  let b: number;
  let h: number;
  do {
    b = B[P++]!;
    h = b & 0x80;
    n |= (b & 0x7f) << k;
    k += 7;
  } while (h && k < 28);
  if (h) {
    let f = n;
    let fk = 268435456;
    do {
      b = B[P++]!;
      f += (b & 0x7f) * fk;
      fk *= 128;
    } while (b & 0x80);
    return (f % 2 ? -(f + 1) : f) / 2;
  }
  return (n >> 1) ^ -(n & 1);
}
function str(): string {
  const len = long();
  const start = P;
  P += len;
  if (len < 0 || P > B.length) throw new Error('truncated buffer');
  return B.utf8Slice(start, P);
}
function interned(): string {
  const len = long();
  const start = P;
  P += len;
  if (len < 0 || P > B.length) throw new Error('truncated buffer');
  return cache.slice(B, start, P);
}
function skipStr(): void {
  const len = long();
  P += len;
  if (len < 0 || P > B.length) throw new Error('truncated buffer');
}
/** A ["null", X] union's branch: false for null, true for X. */
function present(): boolean {
  const i = long();
  if (i !== 0 && i !== 1) throw new Error(`invalid union index ${i}`);
  return i === 1;
}
function bool(): boolean {
  return !!B[P++];
}
function double(): number {
  P += 8;
  if (P > B.length) throw new Error('truncated buffer');
  return B.readDoubleLE(P - 8);
}
function done<T>(e: T): T {
  if (P > B.length) throw new Error('truncated buffer');
  if (P < B.length) throw new Error('trailing data');
  return e;
}

const CURRENT: Record<InputTopic, { schema: object; read: EventReader }> = {
  snapshots: {
    schema: StreamSnapshotSchema,
    read: (buf, start) => {
      at(buf, start);
      const eventId = str(), platform = interned(), channelId = interned(), userId = interned(), t = long(), live = bool();
      const viewers = present() ? long() : null;
      const streamId = present() ? interned() : null;
      const startedAt = present() ? long() : null;
      const title = present() ? interned() : null;
      const category = present() ? interned() : null;
      if (present()) skipStr(); // language
      skipStr(); // source
      return done({ kind: 'snapshot', eventId, platform, channelId, userId, t, live, viewers, streamId, startedAt, title, category });
    },
  },
  followers: {
    schema: FollowerCountSchema,
    read: (buf, start) => {
      at(buf, start);
      const eventId = str(), platform = interned(), channelId = interned(), userId = interned(), t = long(), followers = long();
      const paidSubscribers = present() ? long() : null;
      const subscriptionPoints = present() ? long() : null;
      return done({ kind: 'followers', eventId, platform, channelId, userId, t, followers, paidSubscribers, subscriptionPoints });
    },
  },
  chat: {
    schema: ChatActivitySchema,
    read: (buf, start) => {
      at(buf, start);
      const eventId = str(), platform = interned(), channelId = interned(), userId = interned();
      long(); // intervalStart
      const t = long() - 1, messages = long();
      const chatterIds: string[] = [];
      for (let n = long(); n !== 0; n = long()) {
        if (n < 0) {
          n = -n;
          long();
        }
        for (let i = 0; i < n; i++) chatterIds.push(interned());
      }
      const samplingRate = double();
      return done({ kind: 'chat', eventId, platform, channelId, userId, t, messages, chatterIds, samplingRate });
    },
  },
  lifecycle: {
    schema: StreamLifecycleSchema,
    read: (buf, start) => {
      at(buf, start);
      const eventId = str(), type = interned() as LifecycleType, platform = interned(), channelId = interned(), userId = interned();
      const streamId = interned(), t = long();
      const title = present() ? interned() : null;
      const category = present() ? interned() : null;
      skipStr(); // source
      if (present()) long(); // reportedAt
      return done({ kind: 'lifecycle', eventId, type, platform, channelId, userId, t, streamId, title, category });
    },
  },
};

/** The wire layout of a record schema: its fields' names and types in order (defaults and docs do not change the bytes). */
const layout = (schema: SchemaNode) => (typeof schema === 'object' && !Array.isArray(schema) && schema.fields ? JSON.stringify(schema.fields.map((f) => [f.name, f.type])) : undefined);
const currentLayouts = new Map<InputTopic, string | undefined>();
const currentLayout = (kind: InputTopic) => {
  if (!currentLayouts.has(kind)) currentLayouts.set(kind, layout(avro.Type.forSchema(CURRENT[kind].schema as avro.Schema).schema() as SchemaNode));
  return currentLayouts.get(kind);
};

/** Compiles the reader of `kind`'s events for one writer schema (JSON, as avsc's `Type#schema()` gives it). */
export function compileEventReader(kind: InputTopic, writerSchema: unknown, opts: { unrolled?: boolean } = {}): EventReader | undefined {
  const schema = writerSchema as SchemaNode;
  if (typeof schema !== 'object' || Array.isArray(schema) || schema === null || schema.type !== 'record' || !schema.fields) return undefined;
  if (opts.unrolled !== false && layout(schema) === currentLayout(kind)) return CURRENT[kind].read;
  const needed = NEEDED[kind];
  const slots = new Map(needed.map((name, i) => [name, i]));
  const present = new Set(schema.fields.map((f) => f.name));
  if (needed.some((n) => !present.has(n) && !OPTIONAL.has(n))) return undefined;
  const steps: Array<{ op: Op; slot: number }> = [];
  const cache = new StringCache();
  for (const f of schema.fields) {
    const slot = slots.get(f.name) ?? -1;
    // Every string the event keeps except its event id (unique per event) is interned.
    const op = opFor(f.type, slot < 0, f.name === 'eventId' ? undefined : cache);
    if (!op) return undefined;
    steps.push({ op, slot });
  }
  const width = needed.length;
  // One cursor and one value array per reader, reused: a decode is synchronous and never re-entered.
  const r: Cursor = { buf: Buffer.alloc(0) as SliceableBuffer, pos: 0 };
  const v: unknown[] = new Array<unknown>(width).fill(undefined);
  return (body, start) => {
    r.buf = body as SliceableBuffer;
    r.pos = start;
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i]!;
      const x = s.op(r);
      if (s.slot >= 0) v[s.slot] = x;
    }
    if (r.pos > body.length) throw new Error('truncated buffer');
    if (r.pos < body.length) throw new Error('trailing data');
    return build(kind, v);
  };
}
