import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { ClickHouseClient, type ClickHouseSettings as ClickHouseServerSettings, createClient } from '@clickhouse/client';
import { AppError } from '../errors/app-error';
import { waitUntilReachable } from '../errors/retry';
import { repoPath } from '../paths';
import { refreshLatestViews } from './latest-views';

export interface ClickHouseSettings {
  url: string;
  user: string;
  password: string;
  database: string;
  rawTtlDays: number;
  /**
   * Set for read-side processes (the API, Grafana's queries, the gateway's model reads): every query
   * then runs with `readonly=2` (reads and settings only — no INSERT, DDL or ALTER, whatever the user's
   * grants; on chDB, whose default user can do anything, this is the only barrier), a time and memory
   * cap, and is cancelled by the server when the client closes the connection (an abandoned export).
   */
  readOnly?: { maxExecutionSeconds: number; maxMemoryBytes: number };
}

/**
 * For writers of few, large inserts (the processor's flushes: thousands of rows each): the insert is
 * written as its own part at once instead of going through the server's async-insert buffer, whose
 * wait (50–200 ms busy timeout) each insert otherwise sits out — the default (async_insert=1) of the
 * ClickHouse 26 engine here. Measured on a 3,333-row metrics_1m insert (load ≈ 14, 20 inserts each,
 * median): 107 ms instead of 155 ms, 28 ms of the engine's CPU instead of 46 ms.
 */
export const SYNCHRONOUS_INSERT: ClickHouseServerSettings = { async_insert: 0 };

/** A ClickHouse error keeps the server's code and type (STYLE habit 12). */
export class ClickHouseQueryError extends AppError {
  constructor(readonly queryName: string, cause: unknown) {
    const e = cause as { code?: string; type?: string; message?: string };
    super('CLICKHOUSE_QUERY_FAILED', `ClickHouse query "${queryName}" failed${e?.type ? ` (${e.type})` : ''}: ${e?.message ?? String(cause)}`, {
      cause,
      retriable: !e?.code || isTransportError(cause) || TRANSIENT_SERVER_CODES.has(e.code),
      context: { query: queryName, serverCode: e?.code, serverType: e?.type },
    });
  }
}

/**
 * Server answers that say "not now" rather than "never": overload and limits (TOO_MANY_SIMULTANEOUS_QUERIES,
 * MEMORY_LIMIT_EXCEEDED, TOO_MANY_PARTS), timeouts and network trouble between servers (TIMEOUT_EXCEEDED,
 * SOCKET_TIMEOUT, NETWORK_ERROR), a replica read-only or a Keeper hiccup (TABLE_IS_READ_ONLY, KEEPER_EXCEPTION),
 * and an insert whose fate is unknown (UNKNOWN_STATUS_OF_INSERT; our inserts are idempotent, so retrying is safe).
 */
const TRANSIENT_SERVER_CODES = new Set(['159', '202', '209', '210', '241', '242', '252', '319', '999']);

function isTransportError(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET'].includes(code ?? '') || /socket hang up|timeout/i.test(String((err as Error)?.message));
}

export function createClickHouse(s: ClickHouseSettings, ...db: [database?: string | undefined]): ClickHouseClient {
  // An explicit `undefined` means "no database" (admin clients that create it); a default parameter
  // would turn it back into s.database.
  const database = db.length > 0 ? db[0] : s.database;
  return createClient({
    url: s.url,
    username: s.user,
    password: s.password,
    database,
    request_timeout: 30000,
    clickhouse_settings: {
      // 64-bit integers as JSON numbers: our counts stay far below 2^53.
      output_format_json_quote_64bit_integers: 0,
      date_time_input_format: 'best_effort',
      ...(s.readOnly ? readOnlySettings(s.readOnly) : {}),
    },
  });
}

/**
 * readonly=2, not 1: 1 would also refuse the settings the client sends with every query (these and the
 * ones above), and Grafana's datasource sends its own. The server's users.d profile for the reader user
 * (infra/clickhouse/users.d) pins the same values with constraints, so a client cannot raise them.
 */
export function readOnlySettings(r: NonNullable<ClickHouseSettings['readOnly']>) {
  return {
    readonly: '2',
    max_execution_time: r.maxExecutionSeconds,
    max_memory_usage: String(r.maxMemoryBytes),
    // Only honoured for read-only queries: the server polls the socket and cancels when the client left.
    cancel_http_readonly_queries_on_client_close: 1,
  } as const;
}

/**
 * The one ClickHouse access module (STYLE: clickhouse-js). Named, parameterised queries only: values
 * are bound server-side as {name:Type}; no SQL is assembled from input.
 */
export class ClickHouseRepository {
  readonly client: ClickHouseClient;

  constructor(readonly settings: ClickHouseSettings, client?: ClickHouseClient) {
    this.client = client ?? createClickHouse(settings);
  }

  async waitUntilReady(timeoutMs = 30000): Promise<void> {
    const admin = createClickHouse(this.settings, undefined);
    try {
      await waitUntilReachable('ClickHouse', this.settings.url, async () => {
        const r = await admin.ping();
        if (!r.success) throw (r as { error?: unknown }).error;
      }, timeoutMs);
    } finally {
      await admin.close();
    }
  }

  async query<T>(name: string, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    try {
      const rs = await this.client.query({ query, query_params: params, format: 'JSONEachRow' });
      return await rs.json<T>();
    } catch (err) {
      throw new ClickHouseQueryError(name, err);
    }
  }

  /** The same in JSONCompactEachRow: each row an array of its columns' values (no key per value to send and parse). */
  async queryCompact<T extends unknown[]>(name: string, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    try {
      const rs = await this.client.query({ query, query_params: params, format: 'JSONCompactEachRow' });
      return await rs.json<T>();
    } catch (err) {
      throw new ClickHouseQueryError(name, err);
    }
  }

  /**
   * `settings`: per-insert server settings, e.g. `SYNCHRONOUS_INSERT` for a writer of few, large inserts
   * (the server's default here is async_insert=1, which buffers every insert and waits for its flush).
   */
  async insert<T extends object>(name: string, table: string, rows: T[], settings?: ClickHouseServerSettings): Promise<void> {
    if (rows.length === 0) return;
    try {
      await this.client.insert({ table, values: rows, format: 'JSONEachRow', ...(settings ? { clickhouse_settings: settings } : {}) });
    } catch (err) {
      throw new ClickHouseQueryError(name, err);
    }
  }

  async command(name: string, query: string, params: Record<string, unknown> = {}): Promise<void> {
    try {
      await this.client.command({ query, query_params: params });
    } catch (err) {
      throw new ClickHouseQueryError(name, err);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

export const MIGRATIONS_DIR = repoPath('shared', 'clickhouse', 'migrations');

export interface Migration {
  version: number;
  name: string;
  statements: string[];
  checksum: string;
}

/** Reads `NNNN_name.sql` files; `{{RAW_TTL_DAYS}}` is the only template value (a validated integer). */
export function loadMigrations(settings: Pick<ClickHouseSettings, 'rawTtlDays'>, dir = MIGRATIONS_DIR): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      const rendered = text.replace(/\{\{RAW_TTL_DAYS\}\}/g, String(Math.trunc(settings.rawTtlDays)));
      const statements = rendered
        .split(/;\s*$/m)
        .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
        .filter((s) => s.length > 0);
      return {
        version: Number(file.slice(0, 4)),
        name: file.replace(/\.sql$/, ''),
        statements,
        checksum: crypto.createHash('sha256').update(text).digest('hex'),
      };
    });
}

/**
 * Creates the database and applies pending migrations, recording each in schema_migrations.
 * Idempotent: statements are IF NOT EXISTS, applied versions are skipped, and a changed
 * already-applied file is an error (migrations are append-only). After each migration's statements
 * the `*_latest` views are brought up to their tables' columns (latest-views.ts), before the migration
 * is recorded: a run killed in between re-applies it and refreshes them then.
 */
export async function migrate(settings: ClickHouseSettings, log?: (msg: string) => void, dir = MIGRATIONS_DIR): Promise<number[]> {
  // Read-side processes run as a read-only ClickHouse user in production (infra/clickhouse/users.d), which
  // may not even CREATE DATABASE IF NOT EXISTS: when a writer has applied everything, no DDL is needed.
  if (await allApplied(settings, dir)) return [];
  const admin = createClickHouse(settings, undefined);
  try {
    await admin.command({ query: 'CREATE DATABASE IF NOT EXISTS {db:Identifier}', query_params: { db: settings.database } });
  } catch (err) {
    throw new ClickHouseQueryError('create database', err);
  } finally {
    await admin.close();
  }
  const repo = new ClickHouseRepository(settings);
  try {
    await repo.command(
      'create schema_migrations',
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
       ) ENGINE = ReplacingMergeTree(applied_at) ORDER BY version`,
    );
    const applied = new Map(
      (await repo.query<{ version: number; checksum: string }>('applied migrations', 'SELECT version, any(checksum) AS checksum FROM schema_migrations GROUP BY version')).map(
        (r) => [Number(r.version), r.checksum],
      ),
    );
    const done: number[] = [];
    for (const m of loadMigrations(settings, dir)) {
      const prior = applied.get(m.version);
      if (prior !== undefined) {
        if (prior !== m.checksum) throw new AppError('MIGRATION_CHANGED', `migration ${m.name} was changed after it was applied; add a new migration instead`);
        continue;
      }
      for (const [i, stmt] of m.statements.entries()) await repo.command(`${m.name}#${i + 1}`, stmt);
      for (const view of await refreshLatestViews(repo)) log?.(`re-created ${view} with the columns of ${m.name}`);
      await repo.insert('record migration', 'schema_migrations', [{ version: m.version, name: m.name, checksum: m.checksum }]);
      log?.(`applied ClickHouse migration ${m.name}`);
      done.push(m.version);
    }
    return done;
  } finally {
    await repo.close();
  }
}

/** True when every migration file is recorded with its checksum (read-only check; false on any error). */
async function allApplied(settings: ClickHouseSettings, dir: string): Promise<boolean> {
  const client = createClickHouse(settings, undefined);
  try {
    // Asked of system.tables first: a query on a missing database would be logged as an error by the client.
    const exists = await client.query({
      query: 'SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = \'schema_migrations\'',
      query_params: { db: settings.database },
      format: 'JSONEachRow',
    });
    if (Number(((await exists.json()) as Array<{ n: number }>)[0]?.n ?? 0) === 0) return false;
    const rs = await client.query({
      query: 'SELECT version, any(checksum) AS checksum FROM {db:Identifier}.schema_migrations GROUP BY version',
      query_params: { db: settings.database },
      format: 'JSONEachRow',
    });
    const applied = new Map(((await rs.json()) as Array<{ version: number; checksum: string }>).map((r) => [Number(r.version), r.checksum]));
    return loadMigrations(settings, dir).every((m) => applied.get(m.version) === m.checksum);
  } catch {
    return false;
  } finally {
    await client.close();
  }
}
