/**
 * Time comes from an injected clock so tests can move it and the ledger can record the box clock's
 * offset from a reference (DESIGN invariant 4: times are UTC with the box clock's offset recorded).
 * It lives in @sceneway/core so drivers, the sync layer and the agent share one shape.
 */
export interface Clock {
  /** Milliseconds since the epoch, box clock. */
  now(): number;
  /** Box clock minus reference clock in ms, as last measured (time sync with the bank); 0 if unknown. */
  offsetMs(): number;
}

export const systemClock: Clock = { now: () => Date.now(), offsetMs: () => 0 };

/** A clock that moves only when told to: tests advance it instead of sleeping. */
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
