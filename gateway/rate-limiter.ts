/**
 * Per-connection message rate limit: a token bucket (burst = rate, refill = rate per second). Messages
 * beyond it are refused; a second bucket of the same size measures how far over the limit the client
 * goes, so a client slightly over the rate only sees errors while a flood (sustained ≥ 2× the rate)
 * is told it is a flood and gets disconnected.
 */
export type RateVerdict = 'ok' | 'limited' | 'flood';

export class MessageRateLimiter {
  private tokens: number;
  private tolerance: number;
  private last: number;
  /** True while refusing: one error per episode, so errors do not amplify a flood. */
  private limitedEpisode = false;

  constructor(private readonly perSecond: number, private readonly now: () => number = Date.now) {
    this.tokens = perSecond;
    this.tolerance = perSecond;
    this.last = now();
  }

  take(): RateVerdict {
    const t = this.now();
    const refill = ((t - this.last) / 1000) * this.perSecond;
    this.last = t;
    this.tokens = Math.min(this.perSecond, this.tokens + refill);
    this.tolerance = Math.min(this.perSecond, this.tolerance + refill);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.limitedEpisode = false;
      return 'ok';
    }
    this.tolerance -= 1;
    if (this.tolerance < 0) return 'flood';
    return 'limited';
  }

  /** Whether this refusal starts a new episode (the caller sends one error per episode). */
  firstOfEpisode(): boolean {
    if (this.limitedEpisode) return false;
    this.limitedEpisode = true;
    return true;
  }
}
