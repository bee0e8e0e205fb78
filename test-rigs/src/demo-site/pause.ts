/**
 * Waits `ms` of demo time; resolves false at once when `signal` aborts (the demo is stopping). The abort
 * listener goes when the wait ends: a scripted loop pauses hundreds of times on the one signal.
 */
export function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    if (signal.aborted) return resolve(false);
    const stop = () => {
      clearTimeout(t);
      resolve(false);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', stop, { once: true });
  });
}
