import type { AvroRecordType } from '../avro-types';
import { eventIdField, timestampMillis } from './channel-fields';

export const HeartbeatSchema = {
  "type": "record",
  "name": "Heartbeat",
  "namespace": "io.spacehub.events",
  "doc": "A liveness tick from a pipeline process; lands in ClickHouse so dashboards can show end-to-end freshness.",
  "fields": [
    eventIdField,
    { "name": "source", "type": "string" },
    { "name": "emittedAt", "type": timestampMillis },
    { "name": "sequence", "type": "long" }
  ]
} as const;
export type Heartbeat = AvroRecordType<typeof HeartbeatSchema>;
