import type { Principal } from '../../shared/auth/api-tokens';

/** The ids a token hash last authenticated as (what the request guard addresses the rate-limit counter with). */
export type KnownIds = Pick<Principal, 'tokenId' | 'userId'>;

/**
 * The request guard's memory of token ids per token hash, bounded and least-recently-used: a hit moves
 * the hash to the young end (a Map keeps insertion order, so delete + set is the whole LRU, O(1)), and
 * a full memory forgets the hash used longest ago. Insertion order alone would forget the busiest
 * token first once 10,000 others had been seen after it, and make its every request pay the extra
 * round trip until it was learnt again.
 */
export class KnownTokens {
  private readonly ids = new Map<string, KnownIds>();

  constructor(private readonly max = 10_000) {}

  get(hash: string): KnownIds | undefined {
    return this.ids.get(hash);
  }

  /** Called after every authenticated request: the hash becomes the most recently used. */
  remember(hash: string, p: KnownIds): void {
    this.ids.delete(hash);
    if (this.ids.size >= this.max) this.ids.delete(this.ids.keys().next().value!);
    this.ids.set(hash, { tokenId: p.tokenId, userId: p.userId });
  }

  forget(hash: string): void {
    this.ids.delete(hash);
  }

  get size(): number {
    return this.ids.size;
  }
}
