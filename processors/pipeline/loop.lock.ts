/**
 * The loop's one lock: everything that touches shard state, outputs or commits runs through `run`, one
 * after the other, so they never interleave. While a task waits or runs, `heartbeat` keeps the group
 * session alive (a write retrying through an outage may hold the lock for minutes).
 */
export class LoopLock {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly everyMs: number) {}

  run<T>(fn: () => Promise<T>, heartbeat?: () => Promise<void>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    if (!heartbeat) return run;
    const t = setInterval(() => void heartbeat().catch(() => undefined), this.everyMs);
    return run.finally(() => clearInterval(t));
  }
}
