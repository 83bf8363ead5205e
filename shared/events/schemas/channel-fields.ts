/**
 * Field fragments shared by the records (spread into their `fields`, each record keeping its own field
 * order: Avro encodes fields in declaration order, so reordering one is a wire-format change).
 *
 * The registry receives `JSON.stringify(schema)`: a fragment must stringify exactly as the inline field
 * it replaces did, or every subject gets a new version and a new schema id
 * (shared/events/schemas/schemas.unit.test.ts pins the text of each record).
 */

/** Epoch milliseconds (avsc decodes them as a plain number, see avro-types.ts). */
export const timestampMillis = { "type": "long", "logicalType": "timestamp-millis" } as const;

export const platformField = { "name": "platform", "type": "string" } as const;
export const channelIdField = { "name": "channelId", "type": "string" } as const;
export const userIdField = { "name": "userId", "type": "string" } as const;

/** The channel a record is about and the user whose connection observed it, in the usual order. */
export const channelFields = [platformField, channelIdField, userIdField] as const;

export const eventIdField = { "name": "eventId", "type": "string" } as const;
