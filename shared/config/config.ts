import fs from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import { z } from 'zod';
import { bool, int, num, optionalStr, port, str, url } from './env';

/**
 * The one place that reads process.env (STYLE habit 4). Each section below maps environment
 * variables to a typed object; `.env.example` documents every variable and a test keeps the two in sync.
 * Defaults point at the native stack (infra/stack.sh) so `npm start` needs no configuration.
 */
const env = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  KAFKA_BROKERS: str('127.0.0.1:19092'),
  KAFKA_CLIENT_ID: str('spacehub'),
  KAFKA_TOPIC_PREFIX: z.string().regex(/^[a-zA-Z0-9._-]+$/, 'letters, digits, . _ - only').default('spacehub'),
  KAFKA_PARTITIONS: int(6, 1),
  KAFKA_REPLICATION_FACTOR: int(1, 1),

  SCHEMA_REGISTRY_URL: url('http://127.0.0.1:18081/apis/ccompat/v7'),

  CLICKHOUSE_URL: url('http://127.0.0.1:18123'),
  CLICKHOUSE_USER: str('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  CLICKHOUSE_DATABASE: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'an identifier').default('spacehub'),
  // ClickHouse DateTime ends in 2106: a TTL reaching past it would drop every row at insert.
  CLICKHOUSE_RAW_TTL_DAYS: int(30, 1, 3650),

  REDIS_URL: str('redis://127.0.0.1:16379'),
  REDIS_KEY_PREFIX: z.string().regex(/^[a-zA-Z0-9:_-]*$/).default('spacehub'),

  TOKEN_ENCRYPTION_KEYS: optionalStr(),

  API_HOST: str('127.0.0.1'),
  API_PORT: port(8080),
  API_RATE_LIMIT_PER_MINUTE: int(600, 1),
  API_MAX_BODY_BYTES: int(16 * 1024, 256),
  API_READINESS_TIMEOUT_MS: int(2000, 100),
  API_QUERY_MAX_EXECUTION_SECONDS: int(30, 1),
  API_QUERY_MAX_MEMORY_BYTES: int(1024 * 1024 * 1024, 16 * 1024 * 1024),
  API_SERIES_CACHE_MAX_ROWS: int(100_000, 0),
  API_SERIES_CACHE_MAX_AGE_SECONDS: int(600, 1),
  API_SERIES_SEALED_MAX_ROWS: int(200_000, 0),
  GATEWAY_PORT: port(8081),
  GATEWAY_MAX_PAYLOAD_BYTES: int(16 * 1024, 256),
  GATEWAY_MESSAGES_PER_SECOND: int(20, 1),
  GATEWAY_HOST: str('127.0.0.1'),
  GATEWAY_IDLE_TIMEOUT_SECONDS: int(120, 8),
  GATEWAY_MAX_BACKPRESSURE_BYTES: int(1024 * 1024, 1024),
  GATEWAY_SLOW_CONSUMER_POLICY: z.enum(['drop', 'close']).default('close'),
  GATEWAY_ALERT_DEDUP_SIZE: int(10000, 1),
  GATEWAY_MAX_SOCKETS_PER_USER: int(20, 1),
  GATEWAY_UPGRADES_PER_MINUTE_PER_IP: int(120, 1),
  GATEWAY_STREAM_EVENTS_PER_MINUTE: int(60, 1),
  GATEWAY_AUTH_RECHECK_MS: int(5000, 100),
  GATEWAY_SOCKETIO_TRANSPORTS: z.string().regex(/^(websocket|polling)(,(websocket|polling))*$/, 'websocket and/or polling, comma-separated').default('websocket,polling'),
  PUBLIC_BASE_URL: url('http://127.0.0.1:8080'),

  PLATFORMS_MODE: z.enum(['simulator', 'live']).default('simulator'),
  SIMULATOR_PORT: port(8090),
  SIMULATOR_SEED: int(42),
  SIMULATOR_CHANNELS: int(50, 1),
  // Category competition in the simulated world (platforms/README.md, issue 22.3); off keeps every seed's figures.
  SIMULATOR_COMPETITION: bool(false),
  TWITCH_CLIENT_ID: str('spacehub-sim-twitch'),
  TWITCH_CLIENT_SECRET: optionalStr(),
  TWITCH_AUTH_BASE_URL: optionalStr(),
  TWITCH_API_BASE_URL: optionalStr(),
  TWITCH_EVENTSUB_WS_URL: optionalStr(),
  YOUTUBE_CLIENT_ID: str('spacehub-sim-youtube'),
  YOUTUBE_CLIENT_SECRET: optionalStr(),
  GOOGLE_AUTH_BASE_URL: optionalStr(),
  GOOGLE_TOKEN_BASE_URL: optionalStr(),
  YOUTUBE_API_BASE_URL: optionalStr(),
  YOUTUBE_DAILY_QUOTA_UNITS: int(10000, 1),
  PLATFORM_HTTP_TIMEOUT_MS: int(10000, 100),
  PLATFORM_TOKEN_REFRESH_SKEW_SECONDS: int(300, 0),
  OAUTH_STATE_TTL_SECONDS: int(600, 30),
  SIMULATOR_DEMO_CHANNELS: int(12, 0),
  // The simulator approves any login: with NODE_ENV=production it runs only when this says the deployment is a demo.
  DEMO_DEPLOYMENT: bool(false),
  SIMULATOR_DEMO_HISTORY_WEEKS: int(4, 0),

  INGEST_CONCURRENCY: int(8, 1),
  INGEST_LIVE_POLL_SECONDS: int(30, 1),
  INGEST_OFFLINE_POLL_SECONDS: int(300, 1),
  INGEST_FOLLOWERS_POLL_SECONDS: int(180, 1),
  INGEST_CHAT_MIN_POLL_MS: int(5000, 100),
  INGEST_JOB_ATTEMPTS: int(5, 1),
  INGEST_BACKOFF_INITIAL_MS: int(1000, 1),
  INGEST_BACKOFF_MAX_MS: int(60000, 1),
  INGEST_JOB_TIMEOUT_MS: int(30000, 100),
  INGEST_PLATFORM_JOBS_PER_SECOND: int(50, 1),
  INGEST_RECONCILE_SECONDS: int(60, 1),
  INGEST_STALLED_INTERVAL_MS: int(10000, 100),
  INGEST_YOUTUBE_CHAT_QUOTA_SHARE: num(0.5),
  INGEST_MAX_RATE_LIMIT_DEFERRALS: int(10, 0),
  INGEST_BATCH_POLLING: bool(true),
  INGEST_BATCH_SHARDS: int(8, 1),
  // Category competition samples (ingest/README.md, issue 22.3): every N minutes, 0 = off; calls per sample at most.
  INGEST_COMPETITION_SAMPLE_MINUTES: int(0, 0),
  INGEST_COMPETITION_MAX_CALLS: int(150, 2),
  // YouTube go-live by WebSub push (ingest/README.md "YouTube WebSub"): off unless a public callback URL is set.
  YOUTUBE_WEBSUB_CALLBACK_URL: z.string().url().optional().or(z.literal('').transform(() => undefined)),
  YOUTUBE_WEBSUB_HUB_URL: optionalStr(),
  YOUTUBE_WEBSUB_LEASE_SECONDS: int(432_000, 60),
  INGEST_WEBSUB_HOST: str('127.0.0.1'),
  INGEST_WEBSUB_PORT: port(8092),
  INGEST_WEBSUB_RECONCILE_SECONDS: int(3600, 1),

  PROCESSOR_ALLOWED_LATENESS_SECONDS: int(120, 0),
  PROCESSOR_MAX_FUTURE_SKEW_SECONDS: int(5, 0),
  PROCESSOR_EARLY_FIRE_SECONDS: int(10, 0),
  PROCESSOR_BATCH_MAX_EVENTS: int(5000, 1),
  PROCESSOR_FLUSH_INTERVAL_MS: int(1000, 10),
  PROCESSOR_GROUP_ID: optionalStr(),
  PROCESSOR_BASELINE_WINDOWS: int(10, 1),
  PROCESSOR_VIEWER_SPIKE_FACTOR: num(2),
  PROCESSOR_ENGAGEMENT_DROP_FACTOR: num(0.5),

  MODELS_DIR: str('.stack/models'),
  MODELS_BACKEND: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  MODELS_SEED: int(42),
  MODELS_HOLDOUT_DAYS: int(7, 1),
  MODELS_RELOAD_INTERVAL_MS: int(5000, 100),
  MODELS_RETRAIN_CRON: optionalStr(),
  MODELS_RETRAIN_EVERY_MINUTES: int(0, 0),

  // 0 = any free port (tests).
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  HEARTBEAT_INTERVAL_MS: int(5000, 100),
  ALLOW_PRIVATE_WEBHOOK_TARGETS: bool(false),
  WEBHOOK_ALLOWED_PORTS: z.string().regex(/^(\*|\d{1,5}(,\d{1,5})*)$/, 'comma-separated port numbers, or *').default('80,443'),
  NOTIFY_CONCURRENCY: int(8, 1),
  NOTIFY_MAX_ATTEMPTS: int(8, 1),
  NOTIFY_BACKOFF_INITIAL_MS: int(2000, 1),
  NOTIFY_BACKOFF_MAX_MS: int(600000, 1),
  NOTIFY_HTTP_TIMEOUT_MS: int(10000, 100),
  NOTIFY_USER_CONCURRENCY: int(2, 1),
  NOTIFY_CIRCUIT_FAILURES: int(5, 1),
  NOTIFY_CIRCUIT_OPEN_SECONDS: int(60, 1),
  NOTIFY_TEST_PER_MINUTE: int(5, 1),
  NOTIFY_MAX_RETRY_AFTER_SECONDS: int(3600, 1),
  NOTIFY_GROUP_ID: optionalStr(),
  CHDB_LIB: optionalStr(),
  STATE_DIR: str('.stack'),
  // Numbers only used to tune behaviour in tests and benchmarks.
  SHUTDOWN_GRACE_MS: num(10000),
});

export type Config = z.infer<typeof env>;

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly variable: string, detail: string) {
    super(`Invalid configuration: ${variable} ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Parse a config from an explicit source (tests) — never touches the cache. */
export function parseConfig(input: Record<string, string | undefined>): Config {
  const source = withStackEndpoints(input);
  const result = env.safeParse(source);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    const given = source[variable];
    throw new ConfigError(variable, given === undefined ? `is missing or empty: ${issue.message}` : `= ${JSON.stringify(variable.includes('SECRET') || variable.includes('KEY') || variable.includes('PASSWORD') ? '***' : given)}: ${issue.message}`);
  }
  const c = result.data;
  // The simulator's OAuth screens approve any login: in production that would hand anyone an account.
  if (c.NODE_ENV === 'production' && c.PLATFORMS_MODE === 'simulator' && !c.DEMO_DEPLOYMENT) {
    throw new ConfigError('PLATFORMS_MODE', '= "simulator" is refused with NODE_ENV=production: the simulator approves any login. Set PLATFORMS_MODE=live, or DEMO_DEPLOYMENT=true for a public demo on simulated platforms');
  }
  return c;
}

/**
 * The native stack (infra/stack.sh) listens on STACK_*_PORT; where an endpoint is not configured, the
 * services use the stack's, so moving the stack's ports moves every client with it.
 */
function withStackEndpoints(source: Record<string, string | undefined>): Record<string, string | undefined> {
  const out = { ...source };
  const port = (name: string) => (source[name] && /^\d+$/.test(source[name]!) ? source[name] : undefined);
  const kafka = port('STACK_KAFKA_PORT');
  const registry = port('STACK_SCHEMA_REGISTRY_PORT');
  const clickhouse = port('STACK_CLICKHOUSE_PORT');
  const redis = port('STACK_REDIS_PORT');
  if (!out.KAFKA_BROKERS && kafka) out.KAFKA_BROKERS = `127.0.0.1:${kafka}`;
  if (!out.SCHEMA_REGISTRY_URL && registry) out.SCHEMA_REGISTRY_URL = `http://127.0.0.1:${registry}/apis/ccompat/v7`;
  if (!out.CLICKHOUSE_URL && clickhouse) out.CLICKHOUSE_URL = `http://127.0.0.1:${clickhouse}`;
  if (!out.REDIS_URL && redis) out.REDIS_URL = `redis://127.0.0.1:${redis}`;
  return out;
}

let cached: Config | undefined;

/** The process-wide config: `.env` (if present) under the environment, validated once. */
export function loadConfig(): Config {
  if (cached) return cached;
  const file = path.resolve(process.cwd(), '.env');
  const fromFile = fs.existsSync(file) ? dotenv.parse(fs.readFileSync(file)) : {};
  const merged: Record<string, string | undefined> = { ...fromFile, ...process.env };
  for (const k of Object.keys(merged)) if (merged[k] === '') delete merged[k];
  cached = parseConfig(merged);
  return cached;
}

export const CONFIG_VARIABLES = Object.keys(env.shape);
