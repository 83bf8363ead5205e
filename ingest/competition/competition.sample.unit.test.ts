import { categoryChunks, sampleRows } from './competition.sample';

describe('competition sample (pure)', () => {
  it('chunks the categories 100 at a time, those with the most creators first', () => {
    const m = new Map<string, { categoryId: string; category: string }>();
    // 150 categories: category i has (i % 3) + 1 creators.
    for (let i = 0; i < 150; i++) for (let k = 0; k <= i % 3; k++) m.set(`ch${i}-${k}`, { categoryId: `g${i}`, category: `G${i}` });
    const chunks = categoryChunks(m);
    expect(chunks.map((c) => c.length)).toEqual([100, 50]);
    // The 50 with 3 creators lead, then those with 2; the last chunk holds only 1-creator categories.
    expect(chunks[0]!.slice(0, 50).every((c) => Number(c.categoryId.slice(1)) % 3 === 2)).toBe(true);
    expect(chunks[1]!.every((c) => Number(c.categoryId.slice(1)) % 3 === 0)).toBe(true);
    expect(new Set(chunks.flat().map((c) => c.categoryId)).size).toBe(150);
  });

  it('counts live channels and sums viewers per category; a category without streams gets a row of zeros', () => {
    const chunk = [{ categoryId: 'a', category: 'A' }, { categoryId: 'b', category: 'B' }, { categoryId: 'c', category: 'C' }];
    const rows = sampleRows(chunk, { streams: [{ categoryId: 'a', viewers: 10 }, { categoryId: 'b', viewers: 7 }, { categoryId: 'a', viewers: 5 }, { categoryId: 'x', viewers: 99 }], complete: false }, 1_000);
    expect(rows).toEqual([
      { platform: 'twitch', categoryId: 'a', category: 'A', sampledAt: 1_000, liveChannels: 2, viewers: 15, complete: false },
      { platform: 'twitch', categoryId: 'b', category: 'B', sampledAt: 1_000, liveChannels: 1, viewers: 7, complete: false },
      { platform: 'twitch', categoryId: 'c', category: 'C', sampledAt: 1_000, liveChannels: 0, viewers: 0, complete: false },
    ]);
  });
});
