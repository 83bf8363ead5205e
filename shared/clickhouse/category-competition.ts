/**
 * category_competition (migration 0160, issue 22.3): one row per (platform, category, sample time) —
 * the category's live channels and their viewers. Written by ingest's sampler and by the backfill, read
 * by the models; this is the table's one definition (as tables.ts is for the processors' tables).
 */
import type { ClickHouseRepository } from './clickhouse.repository';
import { SYNCHRONOUS_INSERT } from './clickhouse.repository';
import { chDateTime, parseChDateTime } from './tables';

export const CATEGORY_COMPETITION_TABLE = 'category_competition';

/** A row as written. `sampled_at`: DateTime text (tables.ts chDateTime) of the sample's slot. */
export interface CategoryCompetitionRow {
  platform: string;
  category_id: string;
  category: string;
  sampled_at: string;
  live_channels: number;
  viewers: number;
  /** 1 = every page of the directory was read; 0 = the page cap stopped it (live_channels a lower bound). */
  complete: number;
  source: 'helix' | 'backfill';
  version: number;
}

/** A sample as the models read it. */
export interface CompetitionSample {
  platform: string;
  categoryId: string;
  category: string;
  sampledAt: number;
  liveChannels: number;
  viewers: number;
  complete: boolean;
}

export function competitionRow(s: CompetitionSample, source: CategoryCompetitionRow['source'], version: number): CategoryCompetitionRow {
  return { platform: s.platform, category_id: s.categoryId, category: s.category, sampled_at: chDateTime(s.sampledAt), live_channels: s.liveChannels, viewers: s.viewers, complete: s.complete ? 1 : 0, source, version };
}

export async function writeCompetitionSamples(repo: Pick<ClickHouseRepository, 'insert'>, rows: CategoryCompetitionRow[]): Promise<void> {
  // Few, large inserts (a sample, a backfill's chunk): written as their own part at once.
  await repo.insert('category_competition.insert', CATEGORY_COMPETITION_TABLE, rows, SYNCHRONOUS_INSERT);
}

/** The latest version of every sample of the given categories in [fromMs, toMs), oldest first. */
export async function readCompetitionSamples(repo: Pick<ClickHouseRepository, 'query'>, o: { platform: string; categoryIds?: string[]; fromMs: number; toMs: number }): Promise<CompetitionSample[]> {
  const rows = await repo.query<{ category_id: string; category: string; sampled_at: string; live_channels: number; viewers: number; complete: number }>(
    'category_competition.read',
    `SELECT category_id, argMax(category, version) AS category, sampled_at,
            argMax(live_channels, version) AS live_channels, argMax(viewers, version) AS viewers, argMax(complete, version) AS complete
       FROM category_competition
      WHERE platform = {platform:String} AND sampled_at >= {from:DateTime('UTC')} AND sampled_at < {to:DateTime('UTC')}
        AND (length({ids:Array(String)}) = 0 OR has({ids:Array(String)}, category_id))
      GROUP BY category_id, sampled_at
      ORDER BY sampled_at, category_id`,
    { platform: o.platform, from: chDateTime(o.fromMs), to: chDateTime(o.toMs), ids: o.categoryIds ?? [] },
  );
  return rows.map((r) => ({ platform: o.platform, categoryId: r.category_id, category: r.category, sampledAt: parseChDateTime(r.sampled_at), liveChannels: Number(r.live_channels), viewers: Number(r.viewers), complete: Number(r.complete) === 1 }));
}
