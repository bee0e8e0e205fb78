import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fullJitterDelay, sleep } from './backoff.ts';

describe('full-jitter backoff', () => {
  const policy = { initialDelayMs: 100, maxDelayMs: 10_000 };

  it('stays within [0, min(cap, initial × 2^(n-1))]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (n, r) => {
          const d = fullJitterDelay(policy, n, () => r);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(Math.min(10_000, 100 * 2 ** (n - 1)));
          expect(Number.isInteger(d)).toBe(true);
        },
      ),
    );
  });

  it('grows exponentially up to the cap', () => {
    const top = (n: number) => fullJitterDelay(policy, n, () => 0.999999);
    expect([1, 2, 3, 4].map(top)).toEqual([100, 200, 400, 800]);
    expect(top(20)).toBe(10_000);
    expect(fullJitterDelay(policy, 5, () => 0)).toBe(0);
  });

  it('sleep resolves false at once when aborted', async () => {
    const c = new AbortController();
    const pending = sleep(60_000, c.signal);
    c.abort();
    expect(await pending).toBe(false);
    expect(await sleep(1, new AbortController().signal)).toBe(true);
  });
});
