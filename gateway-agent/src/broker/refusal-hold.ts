import type { Socket } from 'node:net';

/**
 * Refused sockets are held a moment before they are reset (D32). Guessing tools run a fixed number of
 * attempts at once and start the next when one is answered, so an instant refusal only makes them go
 * round faster, and every round is an accept, a socket and a close on the agent's one thread, the
 * thread that answers the tills. Held unread and paused for `holdMs` to `2·holdMs` (one timer for all
 * of them, not one per socket), a refusal keeps each of the attacker's slots busy instead.
 *
 * At most `maxHeld` are held (each is a descriptor and a socket object); past that a refusal is reset
 * at once, as before, so an attacker that does not wait for answers costs no more than without the hold.
 */
export interface RefusalHold {
  refuse(socket: Socket): void;
  held(): number;
  /** Resets every held socket now (the broker is stopping). */
  close(): void;
}

export function createRefusalHold(options: {
  maxHeld: number;
  holdMs: number;
  reset: (socket: Socket) => void;
}): RefusalHold {
  // Two generations: a tick resets the older one, so each socket is held one to two ticks.
  let older = new Set<Socket>();
  let newer = new Set<Socket>();
  let timer: NodeJS.Timeout | undefined;
  const held = () => older.size + newer.size;
  const tick = () => {
    for (const socket of older) options.reset(socket);
    older = newer;
    newer = new Set();
    if (older.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  return {
    refuse(socket) {
      if (held() >= options.maxHeld) {
        options.reset(socket);
        return;
      }
      // Nothing reads it now, but the kernel still does: a peer that resets it while it is held must
      // not surface as an unheard 'error', which would take the agent down with it.
      socket.on('error', () => {});
      socket.pause();
      newer.add(socket);
      socket.once('close', () => {
        newer.delete(socket);
        older.delete(socket);
      });
      timer ??= setInterval(tick, options.holdMs).unref();
    },
    held,
    close() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      for (const socket of [...older, ...newer]) options.reset(socket);
      older = new Set();
      newer = new Set();
    },
  };
}
