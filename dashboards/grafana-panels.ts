/**
 * Reading provisioned dashboards the way Grafana does, for the tests: panel time ranges (dashboard
 * range or a panel's relative `timeFrom`), the panel interval, and each target's final SQL (Grafana's
 * variable interpolation, then the ClickHouse plugin's macros).
 */
import fs from 'node:fs';
import path from 'node:path';
import { expandMacros, MacroContext } from './macros';
import { interpolateVariables, VariableValue } from './template-variables';

export interface GrafanaTarget {
  refId: string;
  datasource?: { type?: string; uid?: string };
  rawSql: string;
  format: number;
  editorType?: string;
}

export interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  interval?: string;
  timeFrom?: string;
  targets?: GrafanaTarget[];
}

export interface GrafanaVariable {
  name: string;
  type: string;
  query: string;
  datasource?: { type?: string; uid?: string };
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  time: { from: string; to: string };
  templating: { list: GrafanaVariable[] };
  panels: GrafanaPanel[];
}

export function loadDashboards(dir: string): Array<{ file: string; dashboard: GrafanaDashboard }> {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, dashboard: JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as GrafanaDashboard }));
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "1m", "28d" → milliseconds. */
export function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!m) throw new Error(`not a Grafana duration: ${text}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** "now" or "now-24h" (what our dashboards use) → a date relative to `now`. */
export function relativeTime(text: string, now: Date): Date {
  if (text === 'now') return now;
  const m = /^now-(\d+(?:ms|s|m|h|d|w))$/.exec(text);
  if (!m) throw new Error(`unsupported relative time: ${text}`);
  return new Date(now.getTime() - durationMs(m[1]!));
}

/** Grafana's "nice" intervals (rangeutil.roundInterval, abridged). */
const NICE = ['1s', '5s', '10s', '15s', '20s', '30s', '1m', '2m', '5m', '10m', '15m', '20m', '30m', '1h', '2h', '3h', '6h', '12h', '1d'].map(durationMs);

/** The panel's $__interval: range / max data points rounded to a nice step, never below the panel's min interval. */
export function panelInterval(panel: GrafanaPanel, from: Date, to: Date, maxDataPoints = 1000): number {
  const raw = (to.getTime() - from.getTime()) / maxDataPoints;
  const nice = NICE.find((n) => n >= raw) ?? NICE[NICE.length - 1]!;
  return Math.max(nice, panel.interval ? durationMs(panel.interval) : 0);
}

export function panelContext(d: GrafanaDashboard, panel: GrafanaPanel, now: Date): MacroContext {
  const to = relativeTime(d.time.to, now);
  const from = panel.timeFrom ? new Date(to.getTime() - durationMs(panel.timeFrom)) : relativeTime(d.time.from, now);
  return { from, to, intervalMs: panelInterval(panel, from, to) };
}

/** The SQL the plugin sends ClickHouse for one target. */
export function finalSql(rawSql: string, ctx: MacroContext, vars: Record<string, VariableValue>): string {
  return expandMacros(interpolateVariables(rawSql, vars, ctx), ctx);
}
