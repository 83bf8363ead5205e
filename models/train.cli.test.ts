import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createWorld } from '../platforms/simulator/world';
import { ClickHouseRepository, createClickHouse, migrate } from '../shared/clickhouse/clickhouse.repository';
import { clickhouseSettingsOf } from '../shared/runtime';
import { REPO_ROOT } from '../shared/paths';
import { testConfig } from '../test/support/stack';
import { backfillHistory } from './history';

/**
 * The CLI as a data engineer runs it (a real `spacehub` process against the real ClickHouse): bad
 * input exits non-zero with a message that says what is wrong, and a small backfill + train works.
 */
const DAY = 86_400_000;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

describe('spacehub train / models CLI', () => {
  const config = testConfig();
  const settings = clickhouseSettingsOf(config);
  const modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spacehub-cli-models-'));
  const env = {
    // The child `spacehub` is configured like a user would: through its environment.
    // eslint-disable-next-line no-restricted-properties
    ...process.env,
    CLICKHOUSE_URL: config.CLICKHOUSE_URL,
    CLICKHOUSE_DATABASE: config.CLICKHOUSE_DATABASE,
    MODELS_DIR: modelsDir,
    LOG_LEVEL: 'error',
    SPACEHUB_DEV: '1',
  };
  const spacehubWith = (extraEnv: Record<string, string>, ...args: string[]) =>
    new Promise<Result>((resolve) => {
      execFile(path.join(REPO_ROOT, 'bin', 'spacehub'), args, { env: { ...env, ...extraEnv }, cwd: REPO_ROOT, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  const spacehub = (...args: string[]) => spacehubWith({}, ...args);

  beforeAll(async () => {
    await migrate(settings);
  });

  afterAll(async () => {
    const admin = createClickHouse(settings, undefined);
    await admin.command({ query: 'DROP DATABASE IF EXISTS {db:Identifier}', query_params: { db: config.CLICKHOUSE_DATABASE } }).catch(() => undefined);
    await admin.close();
    fs.rmSync(modelsDir, { recursive: true, force: true });
  });

  it('with no data in ClickHouse, train exits 1 and says there is no training data', async () => {
    const r = await spacehub('train', '--model', 'viewers');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/spacehub train: no training data/);
  });

  it('a bad --model value exits 2 with the accepted values', async () => {
    const r = await spacehub('train', '--model', 'everything');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--model must be viewers, timing or all/);
  });

  it('an unknown --channel exits 1 naming the channel; too short a history exits 1 saying how much is needed', async () => {
    const world = createWorld({ seed: 5, channels: 4 });
    const to = Date.UTC(2026, 10, 20);
    const repo = new ClickHouseRepository(settings);
    try {
      await backfillHistory(repo, world, { fromMs: to - 10 * DAY, toMs: to, seed: 1 });
    } finally {
      await repo.close();
    }
    const unknown = await spacehub('train', '--channel', 'twitch:does-not-exist', '--since', '2026-01-01');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown channel "twitch:does-not-exist"/);
    const short = await spacehub('train', '--since', '2026-01-01');
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/not enough history: .* days of sessions; training needs at least 21/);
  });

  it('backfill then train, piped: stdout is one JSON document (the summaries), every log line is on stderr', async () => {
    const fill = await spacehubWith({ LOG_LEVEL: 'info' }, 'backfill', '--weeks', '4', '--channels', '4', '--seed', '9', '--to', '2026-10-01');
    expect(fill.code).toBe(0);
    expect(JSON.parse(fill.stdout)).toMatchObject({ channels: 4, to: '2026-10-01T00:00:00.000Z' });
    const r = await spacehubWith({ LOG_LEVEL: 'info' }, 'train', '--since', '2026-08-01', '--until', '2026-10-02', '--epochs', '2');
    expect(r.code).toBe(0);
    const summaries = JSON.parse(r.stdout) as Array<{ model: string; metrics: Record<string, number> }>;
    expect(summaries.map((x) => x.model)).toEqual(['viewers', 'timing']);
    expect(r.stdout).not.toMatch(/"msg"/);
    const logs = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string });
    expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['training data loaded', 'model trained']));
    // --json gives the same document; it is what a terminal user asks for to get JSON instead of the table.
    const again = await spacehubWith({ LOG_LEVEL: 'silent' }, 'models', 'runs', '--limit', '2', '--json');
    expect((JSON.parse(again.stdout) as unknown[]).length).toBe(2);
  });

  it('a corrupt model artifact makes `models predict` exit 1 naming the artifact, and nothing is served from it', async () => {
    const version = '20261120T000000Z-deadbeef';
    const dir = path.join(modelsDir, 'viewers', version);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'meta.json'), '{ not json');
    fs.writeFileSync(path.join(dir, 'model.json'), '{}');
    fs.writeFileSync(path.join(modelsDir, 'viewers', 'LATEST'), version);
    const r = await spacehub('models', 'predict', '--channel', 'twitch:123');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/model artifact .*20261120T000000Z-deadbeef is unusable: meta.json is not valid JSON/);
    expect(r.stdout).not.toMatch(/expectedViewers/);
  });
});
