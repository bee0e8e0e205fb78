import type { Clock } from '@sceneway/core';

// Clock, systemClock and manualClock live in @sceneway/core (shared with drivers and the sync layer);
// re-exported here so the agent's own modules keep importing './clock.ts'.
export { type Clock, manualClock, systemClock } from '@sceneway/core';

/**
 * The box clock plus its last measured offset from the bank (DESIGN invariant 4): every verified ack
 * carries the bank's time, so the uploader feeds a sample per batch, the ledger records the offset on
 * each record, and a drift beyond `maxDriftMs` raises an alert instead of silently skewing records.
 */
export function measuredClock(
  base: Clock,
  options: { maxDriftMs: number; onDrift(offsetMs: number): void; onDriftCleared(): void },
): Clock & { sample(offsetMs: number): void } {
  let offset = 0;
  let drifting = false;
  return {
    now: () => base.now(),
    offsetMs: () => offset,
    sample(offsetMs) {
      offset = Math.round(offsetMs);
      const isDrifting = Math.abs(offset) > options.maxDriftMs;
      if (isDrifting && !drifting) options.onDrift(offset);
      if (!isDrifting && drifting) options.onDriftCleared();
      drifting = isDrifting;
    },
  };
}
