/**
 * Small builders for Grafana 10+ dashboard JSON, so each dashboard definition reads as a list of
 * panels with their SQL instead of hundreds of lines of JSON. `generate-dashboards.ts` writes the
 * JSON files Grafana provisions; a test fails when they are out of date.
 */

/** The fixed uid of the provisioned ClickHouse data source (provisioning/datasources/clickhouse.yaml). */
export const DATASOURCE_UID = 'spacehub-clickhouse';
export const DATASOURCE_TYPE = 'grafana-clickhouse-datasource';
/** Grafana 10.4's dashboard schema version; 11.x migrates it forward on load. */
export const SCHEMA_VERSION = 39;

const DS = { type: DATASOURCE_TYPE, uid: DATASOURCE_UID } as const;

/** The plugin's result formats (sqlutil.FormatQueryOption). */
export const Format = { TimeSeries: 0, Table: 1 } as const;

export interface QuerySpec {
  sql: string;
  /** time series (long → wide by string columns) or a plain table */
  format?: 'timeseries' | 'table';
}

export interface PanelSpec {
  type: 'timeseries' | 'stat' | 'table' | 'barchart' | 'text';
  title: string;
  description?: string;
  /** width in grid units (24 per row) and height */
  w: number;
  h: number;
  queries?: QuerySpec[];
  /** Grafana's min interval for $__interval / $__timeInterval; our finest data is 1-minute windows. */
  interval?: string;
  /** Panel-level relative time ("28d"): the panel ignores the dashboard's range for a fixed look-back. */
  timeFrom?: string;
  unit?: string;
  decimals?: number;
  options?: Record<string, unknown>;
  fieldConfig?: Record<string, unknown>;
  overrides?: unknown[];
  /** text panels */
  content?: string;
}

export interface VariableSpec {
  name: string;
  label: string;
  sql: string;
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  time: { from: string; to: string };
  refresh: string;
  variables?: VariableSpec[];
  panels: PanelSpec[];
}

/** Collapses the indentation of a template literal so the JSON stays readable in Grafana's editor. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ''), '');
  const lines = text.replace(/^\n/, '').replace(/\s+$/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

function target(q: QuerySpec, i: number) {
  const timeseries = (q.format ?? 'table') === 'timeseries';
  return {
    refId: String.fromCharCode(65 + i),
    datasource: DS,
    editorType: 'sql',
    format: timeseries ? Format.TimeSeries : Format.Table,
    queryType: timeseries ? 'timeseries' : 'table',
    rawSql: q.sql,
  };
}

function panelOptions(p: PanelSpec): Record<string, unknown> {
  switch (p.type) {
    case 'stat':
      return { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area', textMode: 'auto', justifyMode: 'auto', orientation: 'auto', ...p.options };
    case 'timeseries':
      return { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' }, ...p.options };
    case 'table':
      return { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' }, ...p.options };
    case 'text':
      return { mode: 'markdown', content: p.content ?? '', ...p.options };
    default:
      return { ...p.options };
  }
}

export function buildDashboard(spec: DashboardSpec): Record<string, unknown> {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  const panels = spec.panels.map((p, i) => {
    if (x + p.w > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const gridPos = { x, y, w: p.w, h: p.h };
    x += p.w;
    rowHeight = Math.max(rowHeight, p.h);
    const base: Record<string, unknown> = {
      id: i + 1,
      type: p.type,
      title: p.title,
      ...(p.description ? { description: p.description } : {}),
      gridPos,
    };
    if (p.type === 'text') return { ...base, options: panelOptions(p) };
    return {
      ...base,
      datasource: DS,
      ...(p.interval ? { interval: p.interval } : {}),
      ...(p.timeFrom ? { timeFrom: p.timeFrom } : {}),
      targets: (p.queries ?? []).map(target),
      fieldConfig: {
        defaults: { ...(p.unit ? { unit: p.unit } : {}), ...(p.decimals !== undefined ? { decimals: p.decimals } : {}), ...p.fieldConfig },
        overrides: p.overrides ?? [],
      },
      options: panelOptions(p),
    };
  });
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['spacehub'],
    timezone: 'utc',
    editable: false,
    graphTooltip: 1,
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    refresh: spec.refresh,
    time: spec.time,
    fiscalYearStartMonth: 0,
    liveNow: false,
    links: [],
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    templating: {
      list: (spec.variables ?? []).map((v) => ({
        name: v.name,
        label: v.label,
        type: 'query',
        datasource: DS,
        query: v.sql,
        definition: v.sql,
        refresh: 2, // on time range change: channels appear as they are connected
        sort: 1,
        includeAll: false,
        multi: false,
        hide: 0,
        current: {},
        options: [],
        regex: '',
        skipUrlSync: false,
      })),
    },
    panels,
  };
}
