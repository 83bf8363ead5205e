/**
 * The topics of the pipeline and the Avro record each carries: `schema` names a record of
 * shared/events/events.ts (one TypeScript file per record under shared/events/schemas/ — there are no
 * .avsc files), registered by bootstrap under the subject "<topic>-value".
 * Keys are "<platform>:<channelId>" for channel topics and "<userId>" for user-addressed ones, so a
 * channel's events stay ordered within one partition. A prefix lets tests and tenants isolate topics.
 */
export const TOPIC_DEFS = {
  snapshots: { suffix: 'stream.snapshots', schema: 'StreamSnapshot' },
  followers: { suffix: 'channel.followers', schema: 'FollowerCount' },
  chat: { suffix: 'chat.activity', schema: 'ChatActivity' },
  lifecycle: { suffix: 'stream.lifecycle', schema: 'StreamLifecycle' },
  alerts: { suffix: 'alerts', schema: 'Alert' },
  windows: { suffix: 'metrics.windows', schema: 'MetricWindow' },
  heartbeat: { suffix: 'heartbeat', schema: 'Heartbeat' },
  channelEvents: { suffix: 'channel.events', schema: 'ChannelEvent' },
} as const;

export type TopicName = keyof typeof TOPIC_DEFS;
export type Topics = Record<TopicName, string>;

export function topicsFor(prefix: string): Topics {
  const out = {} as Topics;
  for (const [name, def] of Object.entries(TOPIC_DEFS)) out[name as TopicName] = `${prefix}.${def.suffix}`;
  return out;
}

/**
 * Topics that carry raw bytes, not Avro — dead letters keep the original key, value and headers plus
 * x-dlq-* headers saying why. They have no schema, so bootstrap neither registers nor (by default)
 * creates them; the part that writes one creates it (e.g. processors/processor.service.ts).
 */
export const RAW_TOPIC_DEFS = {
  processorDlq: { suffix: 'processor.dlq' },
} as const;

export type RawTopicName = keyof typeof RAW_TOPIC_DEFS;

export const rawTopicFor = (prefix: string, name: RawTopicName) => `${prefix}.${RAW_TOPIC_DEFS[name].suffix}`;

/** The Kafka key of a channel's records, and the one spelling of "which channel" in maps, leases and logs. */
export const channelKey = (platform: string, channelId: string) => `${platform}:${channelId}`;
export const channelKeyOf = (c: { platform: string; channelId: string }) => channelKey(c.platform, c.channelId);
