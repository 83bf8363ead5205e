/**
 * A bounded LRU set of recently seen ids, for de-duplicating at-least-once deliveries: the gateway's
 * alert ids (deterministic, so a processor replay produces the same ids again) and EventSub message
 * ids (platforms/twitch/eventsub/eventsub.socket.ts). Map iteration order is insertion order, which
 * makes the least recently seen entry the first key.
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

  /** Forgets `id`, so its next delivery counts as new (its handling failed). */
  forget(id: string): void {
    this.items.delete(id);
  }

  get size(): number {
    return this.items.size;
  }
}
