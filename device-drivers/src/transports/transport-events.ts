import type { Transport } from '../transport.ts';

/**
 * The event half of a Transport, shared by every binding: bytes that arrive before the driver's
 * framer registers are kept and handed over in order; the close fires exactly once, and a listener
 * added after it still hears it (on a microtask). `onClosing` runs first, before any listener, for the
 * binding's own clean-up (failing pending writes, releasing a device).
 */
export function createTransportEvents(options: { onClosing?(error: Error | null): void } = {}) {
  let sink: ((bytes: Buffer) => void) | null = null;
  const early: Buffer[] = [];
  const closeListeners: Array<(error: Error | null) => void> = [];
  let closedWith: { error: Error | null } | null = null;

  return {
    get closed(): boolean {
      return closedWith !== null;
    },
    /** Bytes from the binding; dropped once closed (a dead device must not feed the framer). */
    pushData(bytes: Buffer): void {
      if (closedWith) return;
      if (sink) sink(bytes);
      else early.push(bytes);
    },
    /** Closes once; later calls do nothing. */
    close(error: Error | null): void {
      if (closedWith) return;
      closedWith = { error };
      options.onClosing?.(error);
      for (const listener of closeListeners.splice(0)) listener(error);
    },
    onData: ((listener) => {
      sink = listener;
      for (const bytes of early.splice(0)) listener(bytes);
    }) satisfies Transport['onData'],
    onClose: ((listener) => {
      if (closedWith) {
        const { error } = closedWith;
        queueMicrotask(() => listener(error));
      } else {
        closeListeners.push(listener);
      }
    }) satisfies Transport['onClose'],
  };
}
