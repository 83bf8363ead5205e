import type { Redis } from 'ioredis';
import { ApiTokenStore } from '../../shared/auth/api-tokens';
import { ClickHouseRepository } from '../../shared/clickhouse/clickhouse.repository';
import { createRedis } from '../../shared/redis/redis';
import { startApi, RunningApi } from '../../api/api.service';
import { ConnectionRepository } from '../../platforms/connections/connection.repository';
import { TokenCipher } from '../../platforms/tokens/token-cipher';
import { testStack, TestStack } from '../support/stack';
import { session, T0, window } from '../api/api-fixtures';

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
  let stack: TestStack;
  let api: RunningApi;
  let repo: ClickHouseRepository;
  let redis: Redis;
  let alice: string;
  const hostile = ['=HYPERLINK("http://x","y")', '+SUM(1,2)', '-2+3', '@cmd', '\tTAB', '\rCR', '=cmd|\' /C calc\'!A0'];
  const benign = '1. Speedrun, part 2 (no formula)';
  const get = (path: string) => fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${alice}` } });

  beforeAll(async () => {
    stack = await testStack({ API_RATE_LIMIT_PER_MINUTE: '100000' });
    repo = new ClickHouseRepository(stack.rt.clickhouseSettings);
    const at = (i: number) => new Date(T0 + i * 3600_000).toISOString().replace('T', ' ').replace('Z', '');
    await repo.insert('hostile sessions', 'stream_sessions', [
      ...hostile.map((title, i) => session('twitch', '7001', 'alice', `s${i}`, { started_at: at(i), title, category: i === 0 ? '=1+1' : 'Chess' })),
      session('twitch', '7001', 'alice', 'benign', { started_at: at(20), title: benign, category: '1v1' }),
    ]);
    // One minute with no viewer samples: avg/peak viewers are NULL.
    await repo.insert('windows', 'metrics_1m', [window('twitch', '7001', 'alice', T0, { live: 1, samples: 0, avg_viewers: null, peak_viewers: null, min_viewers: null })]);
    redis = createRedis(stack.rt.config.REDIS_URL);
    const tokens = new ApiTokenStore(redis, stack.rt.config.REDIS_KEY_PREFIX);
    await tokens.createUser('Alice', 'alice');
    alice = (await tokens.createToken('alice')).token;
    const connections = new ConnectionRepository(redis, stack.rt.config.REDIS_KEY_PREFIX, TokenCipher.fromKeyRing(stack.rt.config.TOKEN_ENCRYPTION_KEYS!));
    await connections.upsert({ userId: 'alice', platform: 'twitch', channelId: '7001', login: 'l7001', displayName: 'twitch 7001', scopes: [] }, { accessToken: 'a', refreshToken: 'r', expiresAt: null, scopes: [] });
    api = await startApi(stack.rt, { port: 0, streaming: null, predictions: null });
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    await repo?.close();
    redis?.disconnect();
    await stack?.cleanup();
  });

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
