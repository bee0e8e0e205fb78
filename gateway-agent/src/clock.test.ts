import { describe, expect, it } from 'vitest';
import { manualClock, measuredClock } from './clock.ts';

describe('measuredClock', () => {
  it('records the offset measured from acks and reports drift once, and its recovery', () => {
    const events: string[] = [];
    const clock = measuredClock(manualClock(), {
      maxDriftMs: 60_000,
      onDrift: (ms) => events.push(`drift ${ms}`),
      onDriftCleared: () => events.push('cleared'),
    });
    expect(clock.offsetMs()).toBe(0);
    clock.sample(1_200.4);
    expect(clock.offsetMs()).toBe(1_200);
    clock.sample(-90_000);
    clock.sample(-95_000);
    clock.sample(500);
    expect(events).toEqual(['drift -90000', 'cleared']);
    expect(clock.offsetMs()).toBe(500);
  });
});
