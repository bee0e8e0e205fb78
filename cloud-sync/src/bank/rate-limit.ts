/**
 * Per-box token bucket (004 §5.4 b: flow control). `rate` tokens per second refill up to `burst`.
 * Kept in memory per replica: with N replicas a box gets at most N× the rate, which still bounds
 * a runaway box; exact global limits would cost a database round trip on every request.
 */
export interface RateLimitOptions {
  ratePerSec: number;
  burst: number;
  now?: () => number;
}

export class BoxRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly now: () => number;

  constructor(private readonly opts: RateLimitOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Takes one token; returns 0 when allowed, else the seconds until a token is available. */
  take(key: string): number {
    const now = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.opts.burst, at: now };
    b.tokens = Math.min(this.opts.burst, b.tokens + ((now - b.at) / 1000) * this.opts.ratePerSec);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.opts.ratePerSec));
  }
}
