/**
 * The closed lists of values some Avro `string` fields take (alert, lifecycle and channel-event types,
 * severities, sources). The fields stay `string` on the wire — an Avro enum gaining a symbol is not a
 * backward-compatible change — and these lists are the TypeScript vocabulary over them.
 */

/** A type guard for one list: values decoded from Kafka are plain strings until checked. */
export const isOneOf = <T extends string>(values: readonly T[]) => (v: string): v is T => (values as readonly string[]).includes(v);

/** The `doc` of a field that takes the list's values ("a | b | c", as the registry has it). */
export const oneOfDoc = (values: readonly string[]) => values.join(' | ');
