/**
 * Exponential backoff with full jitter and a cap (STYLE.md: never a fixed interval): the wait before
 * retry n is uniform in [0, min(cap, base·2^n)], so a fleet of boxes that lost the bank together does
 * not come back in lockstep.
 */
export function fullJitterDelay(
  attempt: number,
  baseMs: number,
  capMs: number,
  random = Math.random,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** A sleep that `wake()` or an abort ends early; resolves true when woken/aborted, false on timeout. */
export function wakeableSleep(): { sleep(ms: number, signal?: AbortSignal): Promise<boolean>; wake(): void } {
  let wakeCurrent: (() => void) | null = null;
  return {
    sleep(ms, signal) {
      return new Promise<boolean>((resolve) => {
        if (signal?.aborted) return resolve(true);
        const done = (woken: boolean) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          wakeCurrent = null;
          resolve(woken);
        };
        const onAbort = () => done(true);
        const timer = setTimeout(() => done(false), ms);
        signal?.addEventListener('abort', onAbort, { once: true });
        wakeCurrent = () => done(true);
      });
    },
    wake() {
      wakeCurrent?.();
    },
  };
}

/** Waits `ms`, or less if `signal` aborts; never leaves a listener behind on the signal. */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
