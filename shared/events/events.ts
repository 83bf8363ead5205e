/**
 * The Avro schemas: the contract between the parts of the pipeline (STYLE habit 3). They are the one
 * source: TypeScript types are derived from them at the type level, and the Schema Registry receives
 * them at bootstrap (subject "<topic>-value", compatibility BACKWARD). Evolve them only by adding fields
 * with defaults; a test registers an incompatible change to prove the registry rejects it.
 *
 * One file per record under ./schemas/ (shared field fragments in schemas/channel-fields.ts); this file
 * is the one import point. To add a record: a file in schemas/, a line below and in SCHEMAS, a topic in
 * shared/kafka/topics.ts, and its pinned text in schemas/schemas.unit.test.ts.
 */
import { AlertSchema } from './schemas/alert';
import { ChannelEventSchema } from './schemas/channel-event';
import { ChatActivitySchema } from './schemas/chat-activity';
import { FollowerCountSchema } from './schemas/follower-count';
import { HeartbeatSchema } from './schemas/heartbeat';
import { MetricWindowSchema } from './schemas/metric-window';
import { StreamLifecycleSchema } from './schemas/stream-lifecycle';
import { StreamSnapshotSchema } from './schemas/stream-snapshot';

export * from './schemas/alert';
export * from './schemas/channel-event';
export * from './schemas/chat-activity';
export * from './schemas/follower-count';
export * from './schemas/heartbeat';
export * from './schemas/metric-window';
export * from './schemas/stream-lifecycle';
export * from './schemas/stream-snapshot';

export const SCHEMAS = {
  StreamSnapshot: StreamSnapshotSchema,
  FollowerCount: FollowerCountSchema,
  ChatActivity: ChatActivitySchema,
  StreamLifecycle: StreamLifecycleSchema,
  Alert: AlertSchema,
  MetricWindow: MetricWindowSchema,
  Heartbeat: HeartbeatSchema,
  ChannelEvent: ChannelEventSchema,
} as const;
export type SchemaName = keyof typeof SCHEMAS;
