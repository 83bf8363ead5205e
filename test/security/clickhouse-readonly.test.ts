import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createClickHouse, ClickHouseRepository, migrate } from '../../shared/clickhouse/clickhouse.repository';
import { readOnlyClickhouseSettingsOf } from '../../shared/runtime';
import { ChannelExporter } from '../../api/exports/channel-export';
import { eventually, randomSuffix, testStack, TestStack } from '../support/stack';

/**
 * Issue 17, deployment: the API's ClickHouse access is read-only and capped on the native stack too
 * (chDB's default user may do anything, so the per-query `readonly=2` of ClickHouseSettings.readOnly is
 * the barrier there), and an abandoned export stops on the server, not only in the API.
 */
describe('the API\'s ClickHouse access (real ClickHouse)', () => {
  let stack: TestStack;
  let api: ClickHouseRepository;

  beforeAll(async () => {
    stack = await testStack({ API_QUERY_MAX_EXECUTION_SECONDS: '2' });
    api = new ClickHouseRepository(readOnlyClickhouseSettingsOf(stack.rt.config));
  });
  afterAll(async () => {
    await api?.close();
    await stack?.cleanup();
  });

  it('reads, but cannot INSERT, create, drop, alter or switch readonly off', async () => {
    expect(await api.query<{ n: number }>('count', 'SELECT count() AS n FROM metrics_1m')).toEqual([{ n: 0 }]);
    const attempts: Array<() => Promise<unknown>> = [
      () => api.insert('write', 'schema_migrations', [{ version: 9999, name: 'x', checksum: 'x' }]),
      () => api.command('create', 'CREATE TABLE pwned (a UInt8) ENGINE = Memory'),
      () => api.command('drop', 'DROP TABLE metrics_1m'),
      () => api.command('alter', 'ALTER TABLE metrics_1m DELETE WHERE 1'),
      () => api.command('settings', 'INSERT INTO schema_migrations (version, name, checksum) SETTINGS readonly = 0 VALUES (9998, \'x\', \'x\')'),
      () => api.query('set readonly', 'SELECT 1 SETTINGS readonly = 0'),
    ];
    for (const attempt of attempts) await expect(attempt()).rejects.toMatchObject({ context: { serverCode: expect.stringMatching(/^(164|113|62)$/) } });
    const writer = createClickHouse(stack.rt.clickhouseSettings);
    try {
      const rows = await (await writer.query({ query: 'SELECT count() AS n FROM schema_migrations WHERE version >= 9998', format: 'JSONEachRow' })).json();
      expect(rows).toEqual([{ n: 0 }]);
      const tables = await (await writer.query({ query: 'SELECT name FROM system.tables WHERE database = currentDatabase() AND name IN (\'pwned\', \'metrics_1m\')', format: 'JSONEachRow' })).json();
      expect(tables).toEqual([{ name: 'metrics_1m' }]);
    } finally {
      await writer.close();
    }
  });

  it('a read-only process starts on a database a writer migrated (bootstrap needs no DDL then), and cannot migrate a fresh one', async () => {
    await expect(migrate(readOnlyClickhouseSettingsOf(stack.rt.config))).resolves.toEqual([]);
    const fresh = { ...readOnlyClickhouseSettingsOf(stack.rt.config), database: `${stack.rt.config.CLICKHOUSE_DATABASE}_fresh` };
    await expect(migrate(fresh)).rejects.toMatchObject({ context: { serverCode: '164' } });
  });

  it('a query over API_QUERY_MAX_EXECUTION_SECONDS is stopped by the server', async () => {
    await expect(api.query('slow', 'SELECT sum(sleepEachRow(0.1)) FROM numbers(100) SETTINGS max_block_size = 1'))
      .rejects.toMatchObject({ context: { serverCode: '159' } }); // TIMEOUT_EXCEEDED
  });

  it('an export the client abandons is cancelled in ClickHouse (system.processes)', async () => {
    // An aggregation writes nothing until it ends, so only the server noticing the closed connection
    // can stop it early (without that, it runs to max_execution_time).
    const generous = new ClickHouseRepository({ ...readOnlyClickhouseSettingsOf(stack.rt.config), readOnly: { maxExecutionSeconds: 600, maxMemoryBytes: 1 << 30 } });
    const marker = `export_cancel_${randomSuffix()}`;
    const exporter = new ChannelExporter(generous.client);
    const app = express();
    app.get('/export', (req, res, next) => {
      exporter.stream(req, res, { query: `SELECT sum(sleepEachRow(0.05)) AS ${marker} FROM numbers(4000) SETTINGS max_block_size = 1`, params: {} }, 'csv', 'x').catch(next);
    });
    const server = http.createServer(app).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const admin = createClickHouse(stack.rt.clickhouseSettings);
    const running = async () => {
      const rs = await admin.query({
        query: 'SELECT count() AS n FROM system.processes WHERE query LIKE {m:String} AND query_id != queryID()',
        query_params: { m: `%${marker}%` },
        format: 'JSONEachRow',
      });
      return Number(((await rs.json()) as Array<{ n: number }>)[0]!.n);
    };
    try {
      const req = http.get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/export`);
      req.on('error', () => undefined);
      await eventually(running, (n) => n === 1, 30000, 100);
      req.destroy(); // the user closes the download
      // ~200 s of work left: gone within a generous bound means the server cancelled it.
      expect(await eventually(running, (n) => n === 0, 60000, 250)).toBe(0);
    } finally {
      server.close();
      server.closeAllConnections();
      await admin.command({ query: 'KILL QUERY WHERE query LIKE {m:String} ASYNC', query_params: { m: `%${marker}%` } }).catch(() => undefined);
      await admin.close();
      await generous.close();
    }
  });
});
