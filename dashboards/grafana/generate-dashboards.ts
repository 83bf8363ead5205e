/**
 * Writes the provisioned dashboard JSON files from their definitions:
 *   npx tsx dashboards/grafana/generate-dashboards.ts
 * dashboards/dashboards.test.ts fails when a JSON file differs from what this would write.
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildDashboard, DashboardSpec } from './dashboard-builder';
import { creatorOverview } from './definitions/creator-overview';
import { channelDetail } from './definitions/channel-detail';
import { pipelineHealth } from './definitions/pipeline-health';

export const DASHBOARDS_DIR = path.join(__dirname, 'dashboards');

export const DASHBOARD_SPECS: Record<string, DashboardSpec> = {
  'creator-overview.json': creatorOverview,
  'channel-detail.json': channelDetail,
  'pipeline-health.json': pipelineHealth,
};

export function renderDashboards(): Record<string, string> {
  return Object.fromEntries(Object.entries(DASHBOARD_SPECS).map(([file, spec]) => [file, `${JSON.stringify(buildDashboard(spec), null, 2)}\n`]));
}

if (require.main === module) {
  for (const [file, text] of Object.entries(renderDashboards())) {
    fs.writeFileSync(path.join(DASHBOARDS_DIR, file), text);
    process.stdout.write(`wrote ${path.relative(process.cwd(), path.join(DASHBOARDS_DIR, file))}\n`);
  }
}
