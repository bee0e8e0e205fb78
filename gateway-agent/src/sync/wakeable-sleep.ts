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
