/**
 * Token buckets (004 §5.4 b: flow control). `rate` tokens per second refill up to `burst`.
 * Kept in memory per replica: with N replicas a key gets at most N× the rate, which still bounds
 * a runaway peer; exact global limits would cost a database round trip on every request.
 *
 * The bank keeps two: one per source address, charged before anything else is looked at, and one per
 * box, charged only once the request signature verified (DESIGN invariant 8: a stranger naming a box
 * never spends that box's quota). The number of buckets is bounded (`maxKeys`, least recently used
 * evicted first), so rotating source addresses or box ids cannot grow memory without bound. An
 * evicted bucket comes back full: an attacker who churns keys to reset its own bucket gains at most
 * what a fresh key would have given it anyway.
 */
export interface RateLimitOptions {
  ratePerSec: number;
  burst: number;
  /** Most buckets held at once (default 10,000). */
  maxKeys?: number;
  now?: () => number;
}

export class RateLimiter {
  /** Insertion order is recency order: every take() moves its key to the end. */
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(private readonly opts: RateLimitOptions) {
    this.now = opts.now ?? Date.now;
    this.maxKeys = opts.maxKeys ?? 10_000;
  }

  /** Takes one token; returns 0 when allowed, else the seconds until a token is available. */
  take(key: string): number {
    const now = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.opts.burst, at: now };
    b.tokens = Math.min(this.opts.burst, b.tokens + ((now - b.at) / 1000) * this.opts.ratePerSec);
    b.at = now;
    this.buckets.delete(key);
    this.buckets.set(key, b);
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.opts.ratePerSec));
  }

  /** Buckets held now (a test holds it to maxKeys). */
  get size(): number {
    return this.buckets.size;
  }
}
