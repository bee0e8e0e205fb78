import type { Socket } from 'node:net';

/**
 * Connection caps, overall and per source address, applied the moment a socket is accepted and before
 * a byte of it is read (DESIGN invariant 8: refuse by rate per source before parsing anything). One
 * address may hold `perAddress` sockets; the broker at most `total`. A refused socket is destroyed at
 * once: MQTT has no answer before CONNECT.
 */
export interface ConnectionGate {
  /** Admits and tracks the socket, or refuses it (the caller destroys it) and says why. */
  admit(socket: Socket): 'ok' | 'total' | 'per_address' | 'stranger_rate';
  open(): number;
}

export interface ConnectionLimits {
  total: number;
  perAddress: number;
  /**
   * New sockets a second from addresses that never logged in (burst twice that): a storm from rotating
   * addresses, which no per-address rule sees, is dropped at accept, before aedes builds a client for
   * it. Addresses with a terminal that logged in before are not charged.
   */
  strangersPerSecond: number;
  isKnownAddress: (address: string) => boolean;
  now: () => number;
}

export function createConnectionGate(limits: ConnectionLimits): ConnectionGate {
  const byAddress = new Map<string, number>();
  let open = 0;
  const burst = 2 * limits.strangersPerSecond;
  let tokens = burst;
  let at = limits.now();
  const strangerMayConnect = () => {
    const now = limits.now();
    tokens = Math.min(burst, tokens + ((now - at) / 1000) * limits.strangersPerSecond);
    at = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
  return {
    admit(socket) {
      const address = socket.remoteAddress ?? 'unknown';
      const mine = byAddress.get(address) ?? 0;
      if (open >= limits.total) return 'total';
      if (mine >= limits.perAddress) return 'per_address';
      if (!limits.isKnownAddress(address) && !strangerMayConnect()) return 'stranger_rate';
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
