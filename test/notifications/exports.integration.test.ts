import { Readable } from 'node:stream';
import type { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import type { RunningApi } from '../../api/api.service';
import { seriesExportQuery, sessionsExportQuery } from '../../api/exports/channel-export';
import { apiHarness, type ApiHarness } from '../support/api.harness';
import { fixtureIdentity, insertAll, T0 } from '../api/api-fixtures';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** CSVWithNames as the API writes it: a header row, strings in double quotes ("" escapes), NULL as an unquoted empty cell. */
function parseCsv(text: string): Array<Record<string, string | null>> {
  const rows: Array<Array<string | null>> = [];
  let row: Array<string | null> = [];
  let cell = '';
  let quoted = false;
  let wasQuoted = false;
  const end = () => { row.push(cell === '' && !wasQuoted ? null : cell); cell = ''; wasQuoted = false; };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') { quoted = true; wasQuoted = true; } else if (c === ',') end(); else if (c === '\n') {
      end(); rows.push(row); row = [];
    } else cell += c;
  }
  if (cell || row.length) { end(); rows.push(row); }
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries(header!.map((h, i) => [h!, r[i] ?? null])));
}

/** A CSV/Parquet cell vs the JSON value: instants compared as instants, numbers as numbers, null as null. */
function same(json: unknown, cell: unknown): boolean {
  if (json === null) return cell === null;
  if (typeof json === 'number') return Math.abs(Number(cell) - json) < 1e-9 * Math.max(1, Math.abs(json));
  if (typeof json === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(json)) return Date.parse(`${String(cell).replace(' ', 'T')}Z`) === Date.parse(json);
  return String(cell) === String(json);
}

/**
 * CSV and Parquet exports of the metrics series and the sessions: produced by ClickHouse and streamed
 * through the API; the rows equal the JSON answer's, field by field, and the Parquet file reads back in
 * ClickHouse. Same authorisation as JSON.
 */
describe('exports: CSV and Parquet streamed from ClickHouse (real ClickHouse, Redis)', () => {
  let h: ApiHarness;
  let api: RunningApi;
  let repo: ClickHouseRepository;
  let alice: string;
  let bob: string;
  const from = new Date(T0).toISOString();
  const to = new Date(T0 + 2 * 3600_000).toISOString();
  const get = (path: string, token: string, headers: Record<string, string> = {}) => fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${token}`, ...headers } });

  beforeAll(async () => {
    h = await apiHarness({ env: { API_RATE_LIMIT_PER_MINUTE: '100000' }, users: { alice: 'Alice', bob: 'Bob' } });
    ({ repo } = h);
    ({ alice, bob } = h.tokenOf as { alice: string; bob: string });
    await insertAll(repo, Date.now());
    await h.connect('alice', 'twitch', '1001', fixtureIdentity('twitch', '1001'));
    await h.connect('bob', 'twitch', '2002', fixtureIdentity('twitch', '2002'));
    api = await h.start({ streaming: null, predictions: null });
  }, 120_000);
  afterAll(async () => h?.close());

  it.each(['1m', '1h'])('metrics CSV (granularity %s) equals the JSON answer row for row, by ?format= and by Accept', async (granularity) => {
    const path = `/v1/channels/twitch/1001/metrics?from=${from}&to=${to}&granularity=${granularity}`;
    const json = (await (await get(path, alice)).json()) as Json;
    expect(json.points.length).toBe(granularity === '1m' ? 120 : 2);
    for (const res of [await get(`${path}&format=csv`, alice), await get(path, alice, { accept: 'text/csv' })]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="twitch-1001-metrics-${granularity}.csv"`);
      // Streamed: chunked from ClickHouse's body, no Content-Length computed from a buffered file.
      expect(res.headers.get('content-length')).toBeNull();
      const rows = parseCsv(await res.text());
      expect(rows).toHaveLength(json.points.length);
      expect(Object.keys(rows[0]!)).toEqual(Object.keys(json.points[0]));
      json.points.forEach((p: Json, i: number) => {
        for (const [k, v] of Object.entries(p)) expect({ row: i, k, ok: same(v, rows[i]![k]) }).toEqual({ row: i, k, ok: true });
      });
    }
  });

  it('sessions CSV equals the JSON answer (strings quoted, NULL end of a live session)', async () => {
    const path = `/v1/channels/twitch/1001/sessions?from=2026-11-01T00:00:00Z&to=${new Date(Date.now() + 86400_000).toISOString()}`;
    const json = (await (await get(path, alice)).json()) as Json;
    expect(json.sessions.length).toBeGreaterThanOrEqual(2);
    const rows = parseCsv(await (await get(`${path}&format=csv`, alice)).text());
    expect(rows).toHaveLength(json.sessions.length);
    json.sessions.forEach((s: Json, i: number) => {
      for (const [k, v] of Object.entries(s)) expect({ row: i, k, ok: same(v, rows[i]![k]) }).toEqual({ row: i, k, ok: true });
    });
  });

  it('Parquet export reads back through ClickHouse with the same rows', async () => {
    const path = `/v1/channels/twitch/1001/metrics?from=${from}&to=${to}&granularity=1m`;
    const json = (await (await get(path, alice)).json()) as Json;
    const res = await get(path, alice, { accept: 'application/vnd.apache.parquet' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.apache.parquet');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.subarray(0, 4).toString()).toBe('PAR1');
    expect(bytes.subarray(-4).toString()).toBe('PAR1');
    // A table with the export's own columns (LIMIT 0 of the same query), filled from the Parquet bytes.
    const q = seriesExportQuery({ platform: 'twitch', channelId: '1001' }, { fromMs: T0, toMs: T0 + 2 * 3600_000 }, 60);
    await repo.client.command({ query: `CREATE TABLE parquet_back ENGINE = Memory AS SELECT * FROM (${q.query}) LIMIT 0`, query_params: q.params });
    await repo.client.insert({ table: 'parquet_back', values: Readable.from([bytes], { objectMode: false }), format: 'Parquet' });
    const back = await (await repo.client.query({ query: 'SELECT * FROM parquet_back ORDER BY start', format: 'JSONEachRow' })).json<Record<string, unknown>>();
    expect(back).toHaveLength(json.points.length);
    json.points.forEach((p: Json, i: number) => {
      for (const [k, v] of Object.entries(p)) expect({ row: i, k, ok: same(v, back[i]![k]) }).toEqual({ row: i, k, ok: true });
    });
    const sq = sessionsExportQuery({ platform: 'twitch', channelId: '1001' }, { fromMs: 0, toMs: Date.now() }, 10);
    expect(sq.query).toContain('{limit:UInt32}'); // the JSON route's bound parameters, not interpolated values
  });

  it('same authorisation as JSON: another user\'s channel is 403 problem+json, no token is 401, a bad format is 400', async () => {
    const r = await get(`/v1/channels/twitch/1001/metrics?format=csv`, bob);
    expect(r.status).toBe(403);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    expect((await get(`/v1/channels/twitch/1001/sessions`, bob, { accept: 'application/vnd.apache.parquet' })).status).toBe(403);
    expect((await fetch(`${api.url}/v1/channels/twitch/1001/metrics?format=csv`)).status).toBe(401);
    const bad = await get(`/v1/channels/twitch/1001/metrics?format=xlsx`, alice);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Json).invalidParams[0]).toMatchObject({ name: 'format', in: 'query' });
  });
});
