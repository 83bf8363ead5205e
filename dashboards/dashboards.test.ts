import fs from 'node:fs';
import path from 'node:path';
import { ClickHouseRepository } from '../shared/clickhouse/clickhouse.repository';
import { testStack, TestStack } from '../test/support/stack';
import { DATASOURCE_TYPE, DATASOURCE_UID } from './grafana/dashboard-builder';
import { DASHBOARDS_DIR, renderDashboards } from './grafana/generate-dashboards';
import { parseYamlSubset } from './grafana/yaml-subset';
import { finalSql, GrafanaDashboard, GrafanaPanel, loadDashboards, panelContext } from './grafana-panels';
import { expandMacros, expandMacrosLegacy, leftoverMacros, PLUGIN_MACRO_NAMES, stripComments } from './macros';
import { interpolateVariables, referencedVariables, VariableValue } from './template-variables';
import { buildSeedData, insertSeedData, SEED_CHANNELS, SEED_USER } from '../test/support/pipeline-rows';

const PROVISIONING = path.join(__dirname, 'grafana', 'provisioning');
const dashboards = loadDashboards(DASHBOARDS_DIR);
/** The provisioning files as parsed: loosely typed, each test asserts the fields it relies on. */
type Doc = { apiVersion: number; datasources: Array<Record<string, Record<string, unknown> & { jsonData: Record<string, unknown> }>>; providers: Array<Record<string, unknown>> };

/** The uid the provisioning file gives the data source: every panel must point at exactly this one. */
const PROVISIONED = (() => {
  const doc = parseYamlSubset(fs.readFileSync(path.join(PROVISIONING, 'datasources', 'clickhouse.yaml'), 'utf8')) as unknown as Doc;
  return { type: String(doc.datasources[0]!.type), uid: String(doc.datasources[0]!.uid) };
})();

const queryPanels = dashboards.flatMap(({ file, dashboard }) =>
  dashboard.panels.filter((p) => p.targets?.length).map((panel) => ({ file, dashboard, panel, name: `${file} #${panel.id} "${panel.title}"` })),
);

describe('Grafana provisioning files', () => {
  it('the ClickHouse data source parses, targets the official plugin v4 over HTTP and takes its settings from the environment', () => {
    const doc = parseYamlSubset(fs.readFileSync(path.join(PROVISIONING, 'datasources', 'clickhouse.yaml'), 'utf8')) as unknown as Doc;
    expect(doc.apiVersion).toBe(1);
    expect(doc.datasources).toHaveLength(1);
    const ds = doc.datasources[0];
    expect(ds).toMatchObject({ uid: DATASOURCE_UID, type: DATASOURCE_TYPE, access: 'proxy' });
    expect(ds.jsonData).toMatchObject({
      host: '${CLICKHOUSE_HOST}',
      port: '${CLICKHOUSE_PORT}',
      protocol: 'http',
      username: '${CLICKHOUSE_USER}',
      defaultDatabase: '${CLICKHOUSE_DATABASE}',
    });
    // The password is a secure field (encrypted by Grafana), never plain jsonData.
    expect(ds.secureJsonData).toEqual({ password: '${CLICKHOUSE_PASSWORD}' });
    expect(JSON.stringify(ds.jsonData)).not.toMatch(/password/i);
  });

  it('the dashboard provider loads our folder of JSON files', () => {
    const doc = parseYamlSubset(fs.readFileSync(path.join(PROVISIONING, 'dashboards', 'spacehub.yaml'), 'utf8')) as unknown as Doc;
    expect(doc.apiVersion).toBe(1);
    expect(doc.providers[0]).toMatchObject({ name: 'spacehub', type: 'file', options: { path: '/var/lib/grafana/dashboards/spacehub' } });
  });

  it('the YAML subset parser rejects what it does not understand instead of guessing', () => {
    expect(() => parseYamlSubset('a: [1, 2]')).toThrow(/unsupported/);
    expect(() => parseYamlSubset('a: 1\na: 2')).toThrow(/duplicate key/);
    expect(() => parseYamlSubset('a:\n\tb: 1')).toThrow(/tabs/);
    expect(parseYamlSubset('x:\n  - k: "v # not a comment"  # a comment\n    n: 3\n  - plain\n')).toEqual({ x: [{ k: 'v # not a comment', n: 3 }, 'plain'] });
  });
});

describe('dashboard JSON structure', () => {
  it('the JSON files are exactly what the definitions generate (run generate-dashboards.ts after editing)', () => {
    const rendered = renderDashboards();
    expect(dashboards.map((d) => d.file).sort()).toEqual(Object.keys(rendered).sort());
    for (const [file, text] of Object.entries(rendered)) expect(fs.readFileSync(path.join(DASHBOARDS_DIR, file), 'utf8')).toBe(text);
  });

  it('dashboard uids are unique and every dashboard has the Grafana 10+ schema and a UTC clock', () => {
    expect(new Set(dashboards.map((d) => d.dashboard.uid)).size).toBe(dashboards.length);
    for (const { dashboard } of dashboards) {
      expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(38); // 38 = Grafana 10.0 (table cellOptions); 39 = 10.4 / 11.x
      expect(dashboard.schemaVersion).toBeLessThanOrEqual(41);
      expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
      expect((dashboard as unknown as { timezone: string }).timezone).toBe('utc');
    }
  });

  it.each(dashboards.map((d) => [d.file, d.dashboard] as const))('%s: unique panel ids, a sane grid, and every query on the provisioned data source', (_file, d) => {
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of d.panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      if (p.type === 'text') continue;
      expect(p.datasource).toEqual(PROVISIONED);
      expect(p.targets?.length).toBeGreaterThan(0);
      const refIds = p.targets!.map((t) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
      for (const t of p.targets!) {
        expect(t.datasource).toEqual(PROVISIONED);
        expect(t.editorType).toBe('sql');
        expect([0, 1]).toContain(t.format);
      }
    }
    for (const v of d.templating.list) expect(v.datasource).toEqual(PROVISIONED);
  });

  it.each(dashboards.map((d) => [d.file, d.dashboard] as const))('%s: every template variable a query uses is defined before it is used', (_file, d) => {
    const defined = new Set<string>();
    for (const v of d.templating.list) {
      for (const used of referencedVariables(v.query)) expect({ variable: v.name, uses: used, defined: defined.has(used) }).toEqual({ variable: v.name, uses: used, defined: true });
      defined.add(v.name);
    }
    for (const p of d.panels)
      for (const t of p.targets ?? [])
        for (const used of referencedVariables(t.rawSql)) expect({ panel: p.title, uses: used, defined: defined.has(used) }).toEqual({ panel: p.title, uses: used, defined: true });
  });

  it.each(dashboards.map((d) => [d.file, d.dashboard] as const))('%s: variables reach SQL only through the sqlstring format (quoted and escaped by Grafana)', (_file, d) => {
    const sqls = [...d.templating.list.map((v) => v.query), ...d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.rawSql))];
    for (const text of sqls) {
      const withoutMacros = text.replace(/\$__\w+/g, '');
      const bare = [...withoutMacros.matchAll(/\$\{(\w+)(?::(\w+))?\}|\$(\w+)|\[\[(\w+)/g)].filter((m) => m[2] !== 'sqlstring').map((m) => m[0]);
      expect(bare).toEqual([]);
    }
  });

  it.each(queryPanels.map((q) => [q.name, q.dashboard, q.panel] as const))(
    '%s: uses only the plugin\'s macros, and expands identically under plugin 4.19+ and ≤ 4.18',
    (_name, d: GrafanaDashboard, p: GrafanaPanel) => {
      const ctx = panelContext(d, p, new Date('2026-11-26T12:00:00Z'));
      const vars = Object.fromEntries(d.templating.list.map((v) => [v.name, 'x']));
      for (const t of p.targets!) {
        const interpolated = interpolateVariables(t.rawSql, vars, ctx);
        for (const m of leftoverMacros(interpolated)) expect(PLUGIN_MACRO_NAMES).toContain(m.slice(3));
        const current = expandMacros(interpolated, ctx);
        expect(leftoverMacros(current)).toEqual([]);
        expect(expandMacrosLegacy(stripComments(interpolated), ctx)).toBe(current);
        // Time filtering goes through the plugin's macros, so Grafana's time picker drives every panel.
        expect(t.rawSql).toMatch(/\$__(timeFilter|timeFilter_ms|fromTime|fromTime_ms|toTime|toTime_ms)\b/);
      }
    },
  );
});

describe('every panel query against ClickHouse with pipeline-shaped data', () => {
  let stack: TestStack;
  let repo: ClickHouseRepository;
  const now = new Date(Math.floor(Date.now() / 60_000) * 60_000);
  const seed = buildSeedData(now.getTime());
  /** Values chosen for the variables (as a user would pick them), per dashboard. */
  const chosen = new Map<string, Record<string, VariableValue>>();
  const PREFERRED: Record<string, string> = { user: SEED_USER, platform: 'twitch', channel: SEED_CHANNELS[0]!.channelId };

  beforeAll(async () => {
    stack = await testStack();
    repo = new ClickHouseRepository(stack.rt.clickhouseSettings);
    await insertSeedData(repo, seed);
  });
  afterAll(async () => {
    await repo?.close();
    await stack?.cleanup();
  });

  const run = (name: string, sqlText: string) => repo.query<Record<string, unknown>>(name, sqlText);

  it.each(dashboards.map((d) => [d.file, d.dashboard] as const))('%s: variable queries run in order and offer the seeded values', async (file, d) => {
    const values: Record<string, VariableValue> = {};
    for (const v of d.templating.list) {
      const ctx = panelContext(d, { id: 0, type: 'variable', title: v.name, gridPos: { x: 0, y: 0, w: 1, h: 1 } }, now);
      const rows = await run(`variable ${v.name}`, finalSql(v.query, ctx, values));
      const options = rows.map((r) => String(Object.values(r)[0]));
      expect(options).toContain(PREFERRED[v.name]);
      values[v.name] = PREFERRED[v.name]!;
    }
    chosen.set(file, values);
  });

  it.each(queryPanels.map((q) => [q.name, q.file, q.dashboard, q.panel] as const))('%s: every target runs and returns rows', async (_name, file, d, p) => {
    const vars = chosen.get(file) ?? Object.fromEntries(d.templating.list.map((v) => [v.name, PREFERRED[v.name]!]));
    const ctx = panelContext(d, p, now);
    for (const t of p.targets!) {
      const rows = await run(`${file} panel ${p.id}${t.refId}`, finalSql(t.rawSql, ctx, vars));
      expect({ panel: p.title, refId: t.refId, rows: rows.length > 0 }).toEqual({ panel: p.title, refId: t.refId, rows: true });
    }
  });

  it('replayed windows are counted once: hours watched equals the seeded viewer-minutes / 60', async () => {
    const { dashboard } = dashboards.find((d) => d.file === 'channel-detail.json')!;
    const panel = dashboard.panels.find((p) => p.title === 'Hours watched')!;
    const ctx = panelContext(dashboard, panel, now);
    const rows = await run('hours watched', finalSql(panel.targets![0]!.rawSql, ctx, { platform: 'twitch', channel: '9001' }));
    const expected = seed.metrics
      .filter((m) => m.version === 1 && m.channel_id === '9001' && m.window_start * 1000 >= ctx.from.getTime() && m.window_start * 1000 <= ctx.to.getTime())
      .reduce((a, m) => a + m.viewer_minutes, 0) / 60;
    expect(Number(rows[0]!.hours)).toBeCloseTo(expected, 6);
  });

  it('a hostile variable value stays a string literal (sqlstring format), not SQL', async () => {
    const { dashboard } = dashboards.find((d) => d.file === 'channel-detail.json')!;
    const panel = dashboard.panels.find((p) => p.title === 'Peak viewers')!;
    const ctx = panelContext(dashboard, panel, now);
    const rows = await run('hostile', finalSql(panel.targets![0]!.rawSql, ctx, { platform: 'twitch', channel: "9001' OR 1=1 --" }));
    expect(rows).toEqual([{ peak: 0 }]);
  });
});
