import { chDateTime64 } from '../../shared/clickhouse/tables';
import { apiHarness, type ApiHarness } from '../support/api.harness';
import { fixtureIdentity, session, T0, window } from '../api/api-fixtures';

/** RFC 4180 cells with whether each was quoted (an unquoted empty cell is how NULL must be written). */
function cells(text: string): Array<Array<{ v: string; quoted: boolean }>> {
  const rows: Array<Array<{ v: string; quoted: boolean }>> = [];
  let row: Array<{ v: string; quoted: boolean }> = [];
  let cell = '';
  let quoted = false;
  let wasQuoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') { quoted = true; wasQuoted = true; } else if (c === ',' || c === '\n') {
      row.push({ v: cell, quoted: wasQuoted });
      cell = ''; wasQuoted = false;
      if (c === '\n') { rows.push(row); row = []; }
    } else cell += c;
  }
  if (cell || row.length) { row.push({ v: cell, quoted: wasQuoted }); rows.push(row); }
  return rows;
}

/**
 * Issue 17, "CSV formula injection": a stream title is the creator's (or anyone's who can set a title)
 * text, and a spreadsheet runs a cell that starts with = + - @ tab or CR as a formula. OWASP: prefix such
 * cells with a single quote (and quote every cell). NULLs are written as empty cells, not `\N`.
 */
describe('security: CSV exports neutralise formula cells and write NULL as an empty cell (real ClickHouse)', () => {
  let h: ApiHarness;
  let alice: string;
  const hostile = ['=HYPERLINK("http://x","y")', '+SUM(1,2)', '-2+3', '@cmd', '\tTAB', '\rCR', '=cmd|\' /C calc\'!A0'];
  const benign = '1. Speedrun, part 2 (no formula)';
  const get = (path: string) => fetch(`${h.api.url}${path}`, { headers: { authorization: `Bearer ${alice}` } });

  beforeAll(async () => {
    h = await apiHarness({ env: { API_RATE_LIMIT_PER_MINUTE: '100000' }, users: { alice: 'Alice' } });
    alice = h.tokenOf.alice!;
    const at = (i: number) => chDateTime64(T0 + i * 3600_000);
    await h.repo.insert('hostile sessions', 'stream_sessions', [
      ...hostile.map((title, i) => session('twitch', '7001', 'alice', `s${i}`, { started_at: at(i), title, category: i === 0 ? '=1+1' : 'Chess' })),
      session('twitch', '7001', 'alice', 'benign', { started_at: at(20), title: benign, category: '1v1' }),
    ]);
    // One minute with no viewer samples: avg/peak viewers are NULL.
    await h.repo.insert('windows', 'metrics_1m', [window('twitch', '7001', 'alice', T0, { live: 1, samples: 0, avg_viewers: null, peak_viewers: null, min_viewers: null })]);
    await h.connect('alice', 'twitch', '7001', fixtureIdentity('twitch', '7001'));
    await h.start({ streaming: null, predictions: null });
  }, 120_000);
  afterAll(async () => h?.close());

  const range = `from=${new Date(T0 - 86400_000).toISOString()}&to=${new Date(T0 + 30 * 86400_000).toISOString()}`;

  it('sessions?format=csv: titles and categories starting with = + - @ tab or CR are prefixed with a quote; JSON keeps them as they are', async () => {
    const json = (await (await get(`/v1/channels/twitch/7001/sessions?${range}`)).json()) as { sessions: Array<{ title: string; category: string }> };
    expect(json.sessions.map((s) => s.title).sort()).toEqual([...hostile, benign].sort());

    const text = await (await get(`/v1/channels/twitch/7001/sessions?${range}&format=csv`)).text();
    const [header, ...rows] = cells(text);
    const col = (name: string) => header!.findIndex((h) => h.v === name);
    expect(rows).toHaveLength(hostile.length + 1);
    const titles = rows.map((r) => r[col('title')]!);
    // Only formula-looking cells change; a title starting with a digit or a comma inside stays as it is.
    expect(titles.map((t) => t.v).sort()).toEqual([...hostile.map((t) => `'${t}`), benign].sort());
    for (const t of titles) expect(t.quoted).toBe(true);
    expect(rows.map((r) => r[col('category')]!.v)).toContain("'=1+1");
    // No cell of the file starts with a formula character.
    for (const r of rows) for (const c of r) if (c.quoted) expect(c.v).not.toMatch(/^[=+\-@\t\r]/);
  });

  it('NULLs are empty cells, never \\N (sessions without an end, minutes without samples)', async () => {
    const sessions = await (await get(`/v1/channels/twitch/7001/sessions?${range}&format=csv`)).text();
    expect(sessions).not.toContain('\\N');
    const [sh, ...srows] = cells(sessions);
    const endedAt = sh!.findIndex((h) => h.v === 'endedAt');
    for (const r of srows) expect(r[endedAt]).toEqual({ v: '', quoted: false });

    const metrics = await (await get(`/v1/channels/twitch/7001/metrics?from=${new Date(T0).toISOString()}&to=${new Date(T0 + 60_000).toISOString()}&granularity=1m&format=csv`)).text();
    expect(metrics).not.toContain('\\N');
    const [mh, m0] = cells(metrics);
    expect(m0![mh!.findIndex((h) => h.v === 'avgViewers')]).toEqual({ v: '', quoted: false });
  });
});
