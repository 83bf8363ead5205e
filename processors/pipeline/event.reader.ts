import avro from 'avsc';
import { ChatActivitySchema, FollowerCountSchema, StreamLifecycleSchema, StreamSnapshotSchema, type LifecycleType } from '../../shared/events/events';
import type { InputTopic, ProcessorEvent } from '../state/processor-event';

/**
 * Avro body → ProcessorEvent in one pass for the writer schemas of this version of the repo
 * (`shared/events/schemas/`, what every producer here writes): a hand-unrolled reader per input topic
 * (`CURRENT`) reads the fields the processor uses straight into the event's own shape, skips the rest
 * (a snapshot's `language` and `source`, a chat record's `intervalStart`, a lifecycle's `source` and
 * `reportedAt`) without allocating, and builds no intermediate Avro record to copy. Values are those
 * avsc gives for the same bytes (unions unwrapped, longs as numbers, timestamp-millis as plain
 * numbers); a body that does not match its schema throws (truncated, trailing bytes, a bad union
 * branch), as avsc's `fromBuffer` does.
 *
 * Why (issue 19.1, processors/README.md "Benchmark"): the avsc record plus its copy into the event
 * were a third of the decode step's time and about a fifth of the processor's allocations.
 *
 * `compileEventReader` returns undefined for any other writer schema (an older or newer version, seen
 * during a rolling upgrade): the decode step then keeps avsc's resolving reader for that schema id.
 */
/** Reads the Avro body that starts at `start` and runs to the end of `buf` (no subarray per message). */
export type EventReader = (buf: Buffer, start: number) => ProcessorEvent;

/** Node's Buffer has the native `utf8Slice` (what avsc's own string reader calls); typed here. */
type SliceableBuffer = Buffer & { utf8Slice(start: number, end: number): string };

/**
 * Strings that repeat from event to event (platform, channel, user and stream ids, titles, chatter ids)
 * are interned: a direct-mapped cache keyed by the bytes returns the same string object for the same
 * bytes, so no new string is built (or kept in the window state), and its hash — which every Map and
 * Set lookup of the state needs — is computed once, not per event. A miss (or a slot taken by another
 * string) just decodes it; the value is the same either way.
 */
const INTERN_SLOTS = 1 << 14;
const INTERN_MAX_BYTES = 64;

class StringCache {
  private readonly bytes: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(INTERN_SLOTS).fill(undefined);
  private readonly strings: string[] = new Array<string>(INTERN_SLOTS).fill('');

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

/** A writer schema as JSON (what avsc's `Type#schema()` returns): a type name, an array (union) or an object. */
type SchemaNode = string | SchemaNode[] | { type: SchemaNode; fields?: Array<{ name: string; type: SchemaNode }> };

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

/** The reader of `kind`'s events for one writer schema (JSON, as avsc's `Type#schema()` gives it): the unrolled one when its wire layout is the current schema's, else undefined (avsc's reader). */
export function compileEventReader(kind: InputTopic, writerSchema: unknown): EventReader | undefined {
  const schema = writerSchema as SchemaNode;
  if (typeof schema !== 'object' || Array.isArray(schema) || schema === null || !schema.fields) return undefined;
  return layout(schema) === currentLayout(kind) ? CURRENT[kind].read : undefined;
}
