import type { Socket } from 'node:net';

/**
 * Connection caps, overall and per source address, applied the moment a socket is accepted and before
 * a byte of it is read (DESIGN invariant 8: refuse by rate per source before parsing anything). One
 * address may hold `perAddress` sockets; the broker at most `total`. A refused socket is destroyed at
 * once: MQTT has no answer before CONNECT.
 */
export interface ConnectionGate {
  /** Admits and tracks the socket, or refuses it (the caller destroys it) and says why. */
  admit(socket: Socket): 'ok' | 'total' | 'per_address';
  open(): number;
}

export function createConnectionGate(limits: { total: number; perAddress: number }): ConnectionGate {
  const byAddress = new Map<string, number>();
  let open = 0;
  return {
    admit(socket) {
      const address = socket.remoteAddress ?? 'unknown';
      const mine = byAddress.get(address) ?? 0;
      if (open >= limits.total) return 'total';
      if (mine >= limits.perAddress) return 'per_address';
      open++;
      byAddress.set(address, mine + 1);
      socket.once('close', () => {
        open--;
        const left = (byAddress.get(address) ?? 1) - 1;
        if (left <= 0) byAddress.delete(address);
        else byAddress.set(address, left);
      });
      return 'ok';
    },
    open: () => open,
  };
}
