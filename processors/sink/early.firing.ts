import type { Shard } from '../pipeline/shard';
import type { ClosedWindow } from '../state/window.accumulator';

/**
 * Early firing (processors/README.md): the provisional figures of each changed channel's open windows,
 * at most every `everyMs` of wall time per channel.
 */
export class EarlyFiring {
  /** Wall-clock time of each channel's last early firing. */
  private readonly last = new Map<string, number>();

  constructor(private readonly everyMs: number) {}

  take(shards: Iterable<Shard>, now = Date.now()): ClosedWindow[] {
    const due = (key: string) => now - (this.last.get(key) ?? 0) >= this.everyMs;
    const fired = [...shards].flatMap((shard) => shard.state.takeEarlyFirings(due));
    if (this.last.size > 100_000) this.last.clear();
    for (const w of fired) this.last.set(`${w.platform}:${w.channelId}`, now);
    return fired;
  }
}
