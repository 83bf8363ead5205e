/**
 * A bounded LRU set of recently seen alert ids. Alert ids are deterministic, so a processor replay
 * after a crash or rebalance produces the same ids again; each gateway drops the repeats it still
 * remembers. Map iteration order is insertion order, which makes the oldest entry the first key.
 */
export class LruSet {
  private readonly items = new Map<string, true>();

  constructor(private readonly capacity: number) {
    if (capacity < 1) throw new RangeError('LruSet capacity must be at least 1');
  }

  /** Records the id; true when it was already present (a duplicate). */
  seen(id: string): boolean {
    if (this.items.has(id)) {
      this.items.delete(id);
      this.items.set(id, true);
      return true;
    }
    this.items.set(id, true);
    if (this.items.size > this.capacity) this.items.delete(this.items.keys().next().value as string);
    return false;
  }

  get size(): number {
    return this.items.size;
  }
}
