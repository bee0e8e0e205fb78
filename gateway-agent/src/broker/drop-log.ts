import type { BrokerLogger } from './terminal-auth.ts';

/**
 * The log side of dropped sockets. A storm drops thousands of sockets a second, and one warn line each
 * would hand the attacker the box's disk and the log pipeline's CPU (invariant 8: a refusal costs the
 * refuser less than the asker). So per reason, at most one line per `windowMs`, naming the first
 * address of the window and how many drops the previous lines left out. The metric counts every one.
 */
export interface DropLog {
  dropped(reason: string, remoteAddress: string | undefined, declaredBytes: number | null): void;
}

export function createDropLog(logger: BrokerLogger, now: () => number, windowMs = 10_000): DropLog {
  const byReason = new Map<string, { loggedAt: number; unlogged: number }>();
  return {
    dropped(reason, remoteAddress, declaredBytes) {
      const at = now();
      const seen = byReason.get(reason);
      if (seen !== undefined && at - seen.loggedAt < windowMs) {
        seen.unlogged++;
        return;
      }
      const unlogged = seen?.unlogged ?? 0;
      byReason.set(reason, { loggedAt: at, unlogged: 0 });
      logger.warn(
        { remoteAddress, reason, declaredBytes, droppedUnlogged: unlogged },
        'terminal connection dropped',
      );
    },
  };
}
