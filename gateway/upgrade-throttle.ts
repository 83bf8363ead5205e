/**
 * Per-IP throttle on connection attempts (plain upgrades and Socket.IO handshakes), checked before the
 * token is looked up, so a client hammering the gateway with bad or no tokens costs one map lookup per
 * attempt, not a Redis round trip and a log line. A token bucket per address: `perMinute` attempts of
 * burst, refilled at `perMinute` per minute. In memory, per instance (it shields this process); the map
 * is bounded — beyond `maxAddresses` the least recently seen addresses are forgotten (a forgotten
 * address starts with a full bucket, which only ever errs toward letting a client in).
 */
export class UpgradeThrottle {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly maxAddresses = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when this address may attempt a connection now (and counts the attempt). */
  allow(address: string): boolean {
    const t = this.now();
    const b = this.buckets.get(address);
    let tokens = this.perMinute;
    if (b) {
      tokens = Math.min(this.perMinute, b.tokens + ((t - b.at) / 60_000) * this.perMinute);
      this.buckets.delete(address); // re-inserted below: Map order = least recently seen first
    }
    const allowed = tokens >= 1;
    this.buckets.set(address, { tokens: allowed ? tokens - 1 : tokens, at: t });
    if (this.buckets.size > this.maxAddresses) this.buckets.delete(this.buckets.keys().next().value!);
    return allowed;
  }

  /** Seconds until the address has one attempt again (for Retry-After). */
  retryAfterSeconds(address: string): number {
    const b = this.buckets.get(address);
    if (!b || b.tokens >= 1) return 0;
    return Math.max(1, Math.ceil(((1 - b.tokens) * 60) / this.perMinute));
  }
}
