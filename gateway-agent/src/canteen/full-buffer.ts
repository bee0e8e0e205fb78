import type { LedgerStats } from '../ledger/ledger-api.ts';
import type { Logger } from '../logger.ts';

/** The alert sink the rules raise into; gateway-agent's AlertBoard fits through a one-line adapter. */
export interface CanteenAlerts {
  raise(code: string, message: string, hint?: string): void;
  clear(code: string): void;
}

export const BACKLOG_ALERT = 'CANTEEN_BACKLOG_FULL';
export const DISK_ALERT = 'CANTEEN_DISK_LOW';

/**
 * The full-buffer policy (issue 5 §5; DESIGN invariant 6). When the unsynced backlog reaches its
 * ceiling or free disk falls below its floor, new sales are declined with OFFLINE_LIMIT_REACHED
 * instead of being accepted into a box that may not keep them; nothing already accepted is touched.
 * Each condition raises its own alert saying why, and clears it when the condition passes. A 1 %
 * hysteresis (at least one record / one MiB) keeps a backlog hovering at the ceiling from flapping
 * the alert with every acknowledged batch.
 *
 * The disk floor here sits above the ledger's own (ledger.freeSpaceFloorMb, LEDGER_DISK_FULL), so
 * the canteen stops taking sales while the ledger can still write the ones in flight.
 */
export interface FullBufferGuard {
  /** Null when sales may proceed; otherwise why not (for the log). */
  check(): string | null;
}

/**
 * One limit of the policy: whether it is reached, and its alert raised when it becomes reached and
 * cleared (with a log line) when it passes. The caller applies the hysteresis, which differs in
 * direction between a ceiling and a floor.
 */
function alertingLimit(o: {
  code: string;
  hint: string;
  resumed: string;
  alerts: CanteenAlerts | undefined;
  logger: Logger;
}) {
  let reached = false;
  return {
    get reached() {
      return reached;
    },
    update(now: boolean, why: string, logFields: Record<string, unknown>): void {
      if (now && !reached) {
        o.alerts?.raise(
          o.code,
          `Offline limit reached: ${why}; new canteen sales are declined, no record is dropped`,
          o.hint,
        );
      } else if (!now && reached) {
        o.alerts?.clear(o.code);
        o.logger.info(logFields, o.resumed);
      }
      reached = now;
    },
  };
}

export function createFullBufferGuard(opts: {
  stats: () => LedgerStats;
  maxUnsyncedRecords: number;
  minFreeDiskMb: number;
  freeDiskMb: () => number;
  alerts?: CanteenAlerts;
  logger: Logger;
}): FullBufferGuard {
  const backlogMargin = Math.max(1, Math.floor(opts.maxUnsyncedRecords / 100));
  const diskMargin = Math.max(1, Math.floor(opts.minFreeDiskMb / 100));
  const backlog = alertingLimit({
    code: BACKLOG_ALERT,
    hint: 'restore the bank link (sceneway status shows the oldest unsynced record); sales resume by themselves as the backlog drains',
    resumed: 'canteen: backlog below the ceiling again, sales resume',
    alerts: opts.alerts,
    logger: opts.logger,
  });
  const disk = alertingLimit({
    code: DISK_ALERT,
    hint: 'free disk space on the box (logs, old files); sales resume by themselves',
    resumed: 'canteen: disk space above the floor again, sales resume',
    alerts: opts.alerts,
    logger: opts.logger,
  });

  function readFreeMb(): number | null {
    try {
      return opts.freeDiskMb();
    } catch (error) {
      // Unknown is not "full": the ledger's own disk floor still refuses writes it cannot make.
      opts.logger.warn({ err: error }, 'canteen: free disk space unknown');
      return null;
    }
  }

  return {
    check() {
      const unsynced = opts.stats().unsyncedCount;
      const backlogWhy = `${unsynced} records wait for the bank (ceiling ${opts.maxUnsyncedRecords})`;
      backlog.update(
        backlog.reached
          ? unsynced > opts.maxUnsyncedRecords - backlogMargin
          : unsynced >= opts.maxUnsyncedRecords,
        backlogWhy,
        { unsynced },
      );
      const free = readFreeMb();
      const diskWhy = `${free ?? '?'} MiB free disk (floor ${opts.minFreeDiskMb} MiB)`;
      if (free !== null) {
        disk.update(
          disk.reached ? free < opts.minFreeDiskMb + diskMargin : free < opts.minFreeDiskMb,
          diskWhy,
          { freeMb: free },
        );
      }
      if (backlog.reached && disk.reached) return `${backlogWhy}; ${diskWhy}`;
      if (backlog.reached) return backlogWhy;
      if (disk.reached) return diskWhy;
      return null;
    },
  };
}
