/**
 * One competition sample (issue 22.3), pure: which categories to ask about, in which chunks, and the
 * rows a sample makes. The sampler (competition.sampler.ts) does the I/O.
 */
import type { CompetitionSample } from '../../shared/clickhouse/category-competition';

/** Helix takes at most this many game_id a call (TWITCH_MAX_IDS_PER_CALL). */
export const GAME_IDS_PER_CALL = 100;

export interface Category {
  categoryId: string;
  category: string;
}

/** What the sampler needs of the Twitch adapter (TwitchService has both; platforms/README.md). */
export interface CategoryDirectory {
  channelCategories(channelIds: readonly string[]): Promise<Map<string, Category>>;
  categoryStreams(categoryIds: readonly string[], o?: { maxCalls?: number }): Promise<{ streams: Array<{ categoryId: string; viewers: number }>; calls: number; complete: boolean; observedAt: number }>;
}

export const isCategoryDirectory = (a: object): a is CategoryDirectory & object =>
  typeof (a as Partial<CategoryDirectory>).channelCategories === 'function' && typeof (a as Partial<CategoryDirectory>).categoryStreams === 'function';

/**
 * The deployment's categories in chunks of ≤ 100, the categories with the most creators first — when
 * the page cap cuts a sample short, the categories that matter to fewer creators are the ones left out.
 */
export function categoryChunks(categoryOfChannel: ReadonlyMap<string, Category>): Category[][] {
  const count = new Map<string, { c: Category; n: number }>();
  for (const c of categoryOfChannel.values()) {
    const e = count.get(c.categoryId) ?? { c, n: 0 };
    e.n++;
    count.set(c.categoryId, e);
  }
  const ordered = [...count.values()].sort((a, b) => b.n - a.n || a.c.categoryId.localeCompare(b.c.categoryId)).map((e) => e.c);
  const out: Category[][] = [];
  for (let i = 0; i < ordered.length; i += GAME_IDS_PER_CALL) out.push(ordered.slice(i, i + GAME_IDS_PER_CALL));
  return out;
}

/**
 * The rows of one chunk's directory read: every category asked about gets a row (0 live channels is a
 * figure too), stamped with the sample's slot; `complete` is the chunk's (Helix mixes the categories of
 * one paging, so a cut-short read cannot say which of them it cut).
 */
export function sampleRows(chunk: readonly Category[], read: { streams: ReadonlyArray<{ categoryId: string; viewers: number }>; complete: boolean }, slotMs: number, platform = 'twitch'): CompetitionSample[] {
  const agg = new Map(chunk.map((c) => [c.categoryId, { live: 0, viewers: 0 }]));
  for (const s of read.streams) {
    const a = agg.get(s.categoryId);
    if (!a) continue;
    a.live++;
    a.viewers += s.viewers;
  }
  return chunk.map((c) => ({ platform, categoryId: c.categoryId, category: c.category, sampledAt: slotMs, liveChannels: agg.get(c.categoryId)!.live, viewers: agg.get(c.categoryId)!.viewers, complete: read.complete }));
}
