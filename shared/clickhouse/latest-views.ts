/**
 * The `*_latest` views (LATEST_VIEWS in tables.ts), generated from their tables' columns. A ClickHouse
 * view's columns are fixed when it is created, so a column added to the table is missing from its view
 * until the view is made again; migrations 0130 and 0140 did that by hand, each repeating the whole
 * view. The migration runner calls `refreshLatestViews` after every migration it applies instead: a
 * view whose columns differ from what its table's columns give is re-created (CREATE OR REPLACE: the
 * views that read it — creator_metrics_1m, metrics_1h/1d, session_channel_events — resolve it at query
 * time), one that matches is left alone. Idempotent, so any number of writers may run it.
 */
import { LATEST_VIEWS, type LatestView } from './tables';

/** What this needs of ClickHouseRepository (which satisfies it; not imported: the runner imports this file). */
export interface ClickHouseDdl {
  query<T>(name: string, query: string, params?: Record<string, unknown>): Promise<T[]>;
  command(name: string, query: string, params?: Record<string, unknown>): Promise<void>;
}

export interface ColumnInfo {
  name: string;
  type: string;
}

const VERSION = 'version';
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The identifier as SQL. DDL cannot bind identifiers inside a view's body (a parameter there makes a parameterised view), so names are checked and quoted. */
function ident(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not a plain column or table name: ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

/** argMax drops LowCardinality: the view's column of a LowCardinality(T) table column is T. */
const aggregatedType = (type: string) => type.replace(/^LowCardinality\((.*)\)$/, '$1');

/** The columns the view has when it is current: the key, every other column but `version`, `latest_version`. */
export function latestViewColumns(v: LatestView, table: readonly ColumnInfo[]): ColumnInfo[] {
  const byName = new Map(table.map((c) => [c.name, c]));
  const version = byName.get(VERSION);
  const missing = [...v.key, VERSION].filter((k) => !byName.has(k));
  if (missing.length || !version) throw new Error(`${v.table} has no ${missing.join(', ')}: not a versioned table for ${v.view}`);
  return [
    ...v.key.map((k) => byName.get(k)!),
    ...table.filter((c) => c.name !== VERSION && !v.key.includes(c.name)).map((c) => ({ name: c.name, type: aggregatedType(c.type) })),
    { name: 'latest_version', type: version.type },
  ];
}

/** CREATE OR REPLACE VIEW for the table's columns (`table` in the table's own order). */
export function latestViewSql(v: LatestView, table: readonly ColumnInfo[]): string {
  const cols = latestViewColumns(v, table);
  const key = v.key.map(ident).join(', ');
  const values = cols.slice(v.key.length, -1).map((c) => `  argMax(${ident(c.name)}, ${VERSION}) AS ${ident(c.name)},`);
  return [
    `CREATE OR REPLACE VIEW ${ident(v.view)} AS`,
    'SELECT',
    `  ${key},`,
    ...values,
    `  max(${VERSION}) AS latest_version`,
    `FROM ${ident(v.table)}`,
    `GROUP BY ${key}`,
  ].join('\n');
}

/** Whether the view as it is (its columns; none when it does not exist) is what the table's columns give. */
export function isCurrent(v: LatestView, table: readonly ColumnInfo[], view: readonly ColumnInfo[]): boolean {
  const want = latestViewColumns(v, table);
  const have = new Map(view.map((c) => [c.name, c.type]));
  return want.length === view.length && want.every((c) => have.get(c.name) === c.type);
}

/**
 * Re-creates every `*_latest` view of the current database whose columns are not what its table's give;
 * a view whose table does not exist yet (a migration before the one that creates it) is skipped.
 * Returns the views it re-created.
 */
export async function refreshLatestViews(repo: ClickHouseDdl, views: readonly LatestView[] = LATEST_VIEWS): Promise<string[]> {
  const names = [...new Set(views.flatMap((v) => [v.table, v.view]))];
  const rows = await repo.query<ColumnInfo & { table: string }>(
    'latest views: columns',
    'SELECT table, name, type FROM system.columns WHERE database = currentDatabase() AND table IN {names:Array(String)} ORDER BY table, position',
    { names },
  );
  const columnsOf = (t: string) => rows.filter((r) => r.table === t).map(({ name, type }) => ({ name, type }));
  const made: string[] = [];
  for (const v of views) {
    const table = columnsOf(v.table);
    if (table.length === 0 || isCurrent(v, table, columnsOf(v.view))) continue;
    await repo.command(`latest views: ${v.view}`, latestViewSql(v, table));
    made.push(v.view);
  }
  return made;
}
