/**
 * Type-level mapping from an Avro record schema (declared `as const`) to the TypeScript shape that
 * avsc encodes and decodes: long → number, timestamp-millis → number (epoch ms), ["null", T] → T | null.
 * It covers the Avro subset our schemas use; an unsupported construct maps to `never` and fails to compile.
 */
type Primitive<T> = T extends 'string'
  ? string
  : T extends 'boolean'
    ? boolean
    : T extends 'long' | 'int' | 'double' | 'float'
      ? number
      : T extends 'null'
        ? null
        : never;

type AvroType<T> = T extends string
  ? Primitive<T>
  : T extends readonly (infer U)[]
    ? AvroType<U>
    : T extends { readonly type: 'record'; readonly fields: infer F extends readonly Field[] }
      ? AvroRecordType<{ fields: F }>
    : T extends { readonly type: 'array'; readonly items: infer I }
      ? AvroType<I>[]
      : T extends { readonly type: 'map'; readonly values: infer V }
        ? Record<string, AvroType<V>>
        : T extends { readonly type: infer P }
          ? AvroType<P>
          : never;

type Field = { readonly name: string; readonly type: unknown };

type Writable<T> = { -readonly [K in keyof T]: T[K] };

export type AvroRecordType<S extends { readonly fields: readonly Field[] }> = Writable<{
  [F in S['fields'][number] as F['name']]: AvroType<F['type']>;
}>;
