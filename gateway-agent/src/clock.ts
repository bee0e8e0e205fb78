/**
 * Time comes from an injected clock so tests can move it and the ledger can record the box clock's
 * offset from a reference (DESIGN invariant 4: times are UTC with the box clock's offset recorded).
 */
export interface Clock {
  /** Milliseconds since the epoch, box clock. */
  now(): number;
  /** Box clock minus reference clock in ms, as last measured (time sync with the bank); 0 if unknown. */
  offsetMs(): number;
}

export const systemClock: Clock = { now: () => Date.now(), offsetMs: () => 0 };

export function manualClock(
  start = Date.UTC(2026, 0, 1),
): Clock & { advance(ms: number): void; set(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    offsetMs: () => 0,
    advance(ms: number) {
      t += ms;
    },
    set(ms: number) {
      t = ms;
    },
  };
}

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
