import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.ts';

describe('RateLimiter', () => {
  it('refuses past the burst and refills at the rate', () => {
    let t = 0;
    const limiter = new RateLimiter({ ratePerSec: 2, burst: 3, now: () => t });
    expect([1, 2, 3].map(() => limiter.take('a'))).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(1);
    t += 500;
    expect(limiter.take('a')).toBe(0);
  });

  it('holds at most maxKeys buckets however many keys rotate through it', () => {
    const limiter = new RateLimiter({ ratePerSec: 1, burst: 1, maxKeys: 100, now: () => 0 });
    for (let i = 0; i < 5000; i++) limiter.take(`box-${i}`);
    expect(limiter.size).toBe(100);
  });

  it('evicts the least recently used bucket, so a busy key keeps its count', () => {
    const limiter = new RateLimiter({ ratePerSec: 1, burst: 1, maxKeys: 2, now: () => 0 });
    expect(limiter.take('busy')).toBe(0);
    for (let i = 0; i < 10; i++) {
      expect(limiter.take('busy')).toBe(1); // still empty: never evicted
      limiter.take(`rotating-${i}`);
    }
  });
});
