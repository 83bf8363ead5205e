import { z } from 'zod';

/**
 * The gateway's wire contract, shared by both front-ends (plain JSON WS and Socket.IO): event names,
 * the zod schemas that validate what clients send (zod, as the REST API), the shapes we send back,
 * error codes and WebSocket close codes. Names and payloads are those of the original module, so
 * `socket.emit('join_stream_channel', { userId })` clients work unchanged.
 */

export const CLIENT_EVENTS = ['join_stream_channel', 'leave_stream_channel', 'stream_event', 'ping'] as const;
export type ClientEvent = (typeof CLIENT_EVENTS)[number];
export const isClientEvent = (e: string): e is ClientEvent => (CLIENT_EVENTS as readonly string[]).includes(e);

export const SERVER_EVENTS = ['stream_notification', 'metrics_update', 'alert', 'recommendation', 'error', 'pong', 'ack'] as const;
export type ServerEvent = (typeof SERVER_EVENTS)[number];

export type Protocol = 'ws' | 'socket.io';

/** Stable error codes: clients branch on these, never on messages. */
export const ErrorCode = {
  INVALID_JSON: 'INVALID_JSON',
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  UNKNOWN_EVENT: 'UNKNOWN_EVENT',
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  CHANNEL_NOT_CONNECTED: 'CHANNEL_NOT_CONNECTED',
  RATE_LIMITED: 'RATE_LIMITED',
  /** The user already holds GATEWAY_MAX_SOCKETS_PER_USER open connections on this instance. */
  TOO_MANY_CONNECTIONS: 'TOO_MANY_CONNECTIONS',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNAVAILABLE: 'UNAVAILABLE',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** WebSocket close codes of the plain protocol (4000–4999 are application codes, RFC 6455 §7.4.2). */
export const CloseCode = {
  GOING_AWAY: 1001,
  /** A frame over GATEWAY_MAX_PAYLOAD_BYTES (after an error event). */
  MESSAGE_TOO_BIG: 1009,
  /** The connection's API token was revoked or has expired (found by the periodic recheck). */
  TOKEN_REVOKED: 4001,
  SLOW_CONSUMER: 4008,
  RATE_LIMITED: 4029,
} as const;

export interface WireError {
  code: ErrorCode;
  message: string;
}

/** What every client → server event answers (the Socket.IO ack payload; the plain protocol's `ack`). */
export type Reply = ({ ok: true } & Record<string, unknown>) | { ok: false; error: WireError };

export const fail = (code: ErrorCode, message: string): Reply => ({ ok: false, error: { code, message } });

const userId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a user id: 1-64 letters, digits, _ or -');
const shortText = (max: number) => z.string().min(1).max(max);
/** Epoch milliseconds or an ISO-8601 string. */
const instant = z.union([z.number().int().positive(), z.string().datetime({ offset: true }).transform((s) => Date.parse(s))]);

/** `userId` may be omitted: the caller's own feed. */
export const JoinSchema = z.object({ userId: userId.optional() });
export const LeaveSchema = JoinSchema;

export const StreamDataSchema = z.object({
  /** The platform's stream id; creator tools that do not know it get one derived from startedAt. */
  streamId: shortText(128).optional(),
  /** Needed only when the user connected several channels on the platform. */
  channelId: shortText(128).optional(),
  title: z.string().max(300).nullable().optional(),
  category: z.string().max(200).nullable().optional(),
  startedAt: instant.optional(),
  occurredAt: instant.optional(),
});

export const StreamEventSchema = z.object({
  type: z.enum(['start', 'end', 'update']),
  platform: z.string().regex(/^[a-z][a-z0-9_-]{1,31}$/, 'a platform id such as twitch or youtube'),
  userId,
  streamData: StreamDataSchema.default({}),
});
export type StreamEventInput = z.infer<typeof StreamEventSchema>;

/** The plain protocol's envelope; `id` (optional) correlates the `ack`. */
export const EnvelopeSchema = z.object({
  event: z.string().min(1).max(64),
  data: z.unknown().optional(),
  id: z.union([z.string().max(64), z.number().int()]).optional(),
});
export type Envelope = z.infer<typeof EnvelopeSchema>;

/** One line per zod issue, with the field path: the reason a client sees. */
export function describeZodError(err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/** Server → client payloads. */
export interface StreamNotification {
  type: 'start' | 'end';
  alertId: string;
  userId: string;
  platform: string;
  channelId: string;
  occurredAt: number;
  message: string;
  /** The session summary (on end), as the processors wrote it into the alert's detailsJson. */
  summary?: Record<string, unknown>;
  details?: Record<string, unknown>;
}

export interface AlertNotification {
  alertId: string;
  type: string;
  severity: string;
  userId: string;
  platform: string;
  channelId: string;
  occurredAt: number;
  message: string;
  details: Record<string, unknown>;
}

/** The feed room / uWS topic of one user. Socket.IO prefixes its topics with the namespace, so no clash. */
export const feedTopic = (userId: string) => `feed/${userId}`;
export const feedRoom = (userId: string) => `user:${userId}`;
