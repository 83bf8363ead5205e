/**
 * Competition samples of a simulated history (issue 22.3): what ingest's sampler
 * (ingest/competition/) would have written into `category_competition` over [fromMs, toMs) had it run
 * every `everyMs` — for `spacehub backfill --competition` and the in-memory evaluation. Each sample of
 * a category is its directory then: the rest of the category (the world's competition) plus the
 * world's own live Twitch channels in it, as `GET /helix/streams?game_id=` lists them.
 *
 * Reads the world through a structural port (like history.ts): models/ imports nothing from platforms/.
 */
import type { ClickHouseRepository } from '../shared/clickhouse/clickhouse.repository';
import { competitionRow, writeCompetitionSamples, type CompetitionSample } from '../shared/clickhouse/category-competition';

export interface CompetitionWorld {
  readonly channels: ReadonlyArray<{ platform: string; channelId: string; categoryId: string; category: string }>;
  /** null when the world models no competition. */
  readonly competition: { marketAt(categoryId: string, tMs: number): { liveChannels: number; viewers: number } | null } | null;
  stateAt(channelId: string, tMs: number): { live: boolean; viewers: number };
}

/** The ingest sampler's interval the backfill imitates when none is configured (ingest/README.md). */
export const DEFAULT_SAMPLE_MS = 10 * 60_000;

export function simulatedCompetitionSamples(world: CompetitionWorld, o: { fromMs: number; toMs: number; everyMs?: number }): CompetitionSample[] {
  if (!world.competition) return [];
  const every = o.everyMs ?? DEFAULT_SAMPLE_MS;
  const twitch = world.channels.filter((c) => c.platform === 'twitch');
  const categories = new Map(twitch.map((c) => [c.categoryId, c.category]));
  const out: CompetitionSample[] = [];
  for (let t = Math.ceil(o.fromMs / every) * every; t < o.toMs; t += every) {
    const own = new Map<string, { live: number; viewers: number }>();
    for (const c of twitch) {
      const s = world.stateAt(c.channelId, t);
      if (!s.live) continue;
      const a = own.get(c.categoryId) ?? { live: 0, viewers: 0 };
      a.live++;
      a.viewers += s.viewers;
      own.set(c.categoryId, a);
    }
    for (const [categoryId, category] of categories) {
      const m = world.competition.marketAt(categoryId, t);
      if (!m) continue;
      const a = own.get(categoryId) ?? { live: 0, viewers: 0 };
      out.push({ platform: 'twitch', categoryId, category, sampledAt: t, liveChannels: m.liveChannels + a.live, viewers: m.viewers + a.viewers, complete: true });
    }
  }
  return out;
}

/** Writes the samples of [fromMs, toMs) into category_competition (source 'backfill'); returns how many. */
export async function backfillCompetition(repo: Pick<ClickHouseRepository, 'insert'>, world: CompetitionWorld, o: { fromMs: number; toMs: number; everyMs?: number; version?: number }): Promise<number> {
  const version = o.version ?? Date.now();
  const rows = simulatedCompetitionSamples(world, o).map((s) => competitionRow(s, 'backfill', version));
  for (let i = 0; i < rows.length; i += 20_000) await writeCompetitionSamples(repo, rows.slice(i, i + 20_000));
  return rows.length;
}
