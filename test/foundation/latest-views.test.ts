import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClickHouseRepository, createClickHouse, loadMigrations, migrate, MIGRATIONS_DIR, type ClickHouseSettings } from '../../shared/clickhouse/clickhouse.repository';
import { latestViewColumns, refreshLatestViews, type ColumnInfo } from '../../shared/clickhouse/latest-views';
import { LATEST_VIEWS } from '../../shared/clickhouse/tables';
import { clickhouseSettingsOf } from '../../shared/runtime';
import { testConfig } from '../support/stack';

/**
 * The `*_latest` views follow their tables' columns (shared/clickhouse/latest-views.ts): on a fresh
 * database, and on one the previous version migrated (its runner only ran the files) when a new
 * migration adds a column with an ALTER TABLE alone — no view written by hand.
 */
describe('*_latest views are generated from their tables\' columns (real ClickHouse)', () => {
  const databases: ClickHouseSettings[] = [];
  const settings = () => {
    const s = clickhouseSettingsOf(testConfig());
    databases.push(s);
    return s;
  };
  afterAll(async () => {
    const admin = createClickHouse(databases[0]!, undefined);
    for (const s of databases) await admin.command({ query: 'DROP DATABASE IF EXISTS {db:Identifier}', query_params: { db: s.database } }).catch(() => undefined);
    await admin.close();
  });

  const columns = (repo: ClickHouseRepository, table: string) =>
    repo.query<ColumnInfo>('columns', 'SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String} ORDER BY position', { t: table });

  /** Every view has exactly the columns its table gives, and nothing is left to re-create. */
  async function expectCurrent(repo: ClickHouseRepository) {
    for (const v of LATEST_VIEWS) {
      const want = latestViewColumns(v, await columns(repo, v.table));
      expect(new Set((await columns(repo, v.view)).map((c) => `${c.name} ${c.type}`))).toEqual(new Set(want.map((c) => `${c.name} ${c.type}`)));
    }
    expect(await refreshLatestViews(repo)).toEqual([]);
  }

  /** Two versions of one metrics_1m window and one session: the views give the newer whole row. */
  async function expectNewestRows(repo: ClickHouseRepository) {
    const w = { platform: 'twitch', channel_id: 'c1', user_id: 'u1', window_start: '2026-12-01 10:00:00', samples: 2, avg_viewers: 10, peak_viewers: 12, min_viewers: 8, viewer_minutes: 10, followers: 5, follower_delta: 1, chat_messages: 3, unique_chatters: 2, engagement_rate: 0.2, messages_per_viewer_minute: 0.3, live: 1, stream_id: 's1' };
    await repo.insert('windows', 'metrics_1m', [{ ...w, version: 1, paid_subscribers: 4, chat_sampling_rate: 0.5 }, { ...w, version: 2, avg_viewers: 11, paid_subscribers: 6, chat_sampling_rate: 0.25 }]);
    const s = { platform: 'twitch', channel_id: 'c1', user_id: 'u1', stream_id: 's1', started_at: '2026-12-01 10:00:00.000', duration_seconds: 0, peak_viewers: 12, avg_viewers: 10, hours_watched: 0, followers_gained: 0, chat_messages: 3, title: 't', category: 'c', status: 'live' };
    await repo.insert('sessions', 'stream_sessions', [{ ...s, version: 1 }, { ...s, version: 2, status: 'ended', ended_at: '2026-12-01 11:00:00.000', paid_subscribers_gained: 2 }]);
    for (const [table, view] of [['metrics_1m', 'metrics_1m_latest'], ['stream_sessions', 'stream_sessions_latest']] as const) {
      const newest = await repo.query<Record<string, unknown>>('newest', `SELECT * EXCEPT version FROM ${table} ORDER BY version DESC LIMIT 1`);
      expect(await repo.query<Record<string, unknown>>('latest', `SELECT * EXCEPT latest_version FROM ${view}`)).toEqual(newest);
    }
    // The views that read them still answer.
    expect(await repo.query('creator', 'SELECT total_avg_viewers FROM creator_metrics_1m')).toEqual([{ total_avg_viewers: 11 }]);
    expect(await repo.query('session events', 'SELECT count() AS n FROM session_channel_events')).toEqual([{ n: 0 }]);
  }

  it('a fresh database: every view is current after migrate, and gives the newest version of every column', async () => {
    const s = settings();
    await migrate(s);
    const repo = new ClickHouseRepository(s);
    try {
      await expectCurrent(repo);
      await expectNewestRows(repo);
    } finally {
      await repo.close();
    }
  });

  it('a database the previous version migrated: nothing to do; then a migration that only adds columns brings the views along', async () => {
    const s = settings();
    // The previous version's runner: create the database, run each file's statements, record it.
    const admin = createClickHouse(s, undefined);
    await admin.command({ query: 'CREATE DATABASE IF NOT EXISTS {db:Identifier}', query_params: { db: s.database } });
    await admin.close();
    const repo = new ClickHouseRepository(s);
    try {
      await repo.command('schema_migrations', `CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = ReplacingMergeTree(applied_at) ORDER BY version`);
      for (const m of loadMigrations(s)) {
        for (const stmt of m.statements) await repo.command(m.name, stmt);
        await repo.insert('record', 'schema_migrations', [{ version: m.version, name: m.name, checksum: m.checksum }]);
      }
      expect(await migrate(s)).toEqual([]);
      await expectCurrent(repo);

      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
      for (const f of fs.readdirSync(MIGRATIONS_DIR)) fs.copyFileSync(path.join(MIGRATIONS_DIR, f), path.join(dir, f));
      fs.writeFileSync(path.join(dir, '0199_probe_columns.sql'), [
        'ALTER TABLE metrics_1m ADD COLUMN IF NOT EXISTS probe_count UInt32 DEFAULT 7 AFTER followers;',
        'ALTER TABLE stream_sessions ADD COLUMN IF NOT EXISTS probe_label LowCardinality(String) DEFAULT \'p\';',
      ].join('\n'));
      try {
        expect(await migrate(s, undefined, dir)).toEqual([199]);
        expect(await migrate(s, undefined, dir)).toEqual([]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      await expectCurrent(repo);
      await expectNewestRows(repo);
      expect(await repo.query('probe', 'SELECT probe_count FROM metrics_1m_latest')).toEqual([{ probe_count: 7 }]);
      expect(await repo.query('probe', 'SELECT probe_label FROM stream_sessions_latest')).toEqual([{ probe_label: 'p' }]);
    } finally {
      await repo.close();
    }
  });
});
