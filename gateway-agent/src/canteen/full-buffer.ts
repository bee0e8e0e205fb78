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

export function createFullBufferGuard(opts: {
  stats: () => LedgerStats;
  maxUnsyncedRecords: number;
  minFreeDiskMb: number;
  freeDiskMb: () => number;
  alerts?: CanteenAlerts;
  logger: Logger;
}): FullBufferGuard {
  let backlogFull = false;
  let diskLow = false;
  const backlogMargin = Math.max(1, Math.floor(opts.maxUnsyncedRecords / 100));
  const diskMargin = Math.max(1, Math.floor(opts.minFreeDiskMb / 100));

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
      const wasBacklogFull = backlogFull;
      backlogFull = backlogFull
        ? unsynced > opts.maxUnsyncedRecords - backlogMargin
        : unsynced >= opts.maxUnsyncedRecords;
      const free = readFreeMb();
      const wasDiskLow = diskLow;
      if (free !== null)
        diskLow = diskLow ? free < opts.minFreeDiskMb + diskMargin : free < opts.minFreeDiskMb;

      const backlogWhy = `${unsynced} records wait for the bank (ceiling ${opts.maxUnsyncedRecords})`;
      const diskWhy = `${free ?? '?'} MiB free disk (floor ${opts.minFreeDiskMb} MiB)`;
      if (backlogFull && !wasBacklogFull) {
        opts.alerts?.raise(
          BACKLOG_ALERT,
          `Offline limit reached: ${backlogWhy}; new canteen sales are declined, no record is dropped`,
          'restore the bank link (sceneway status shows the oldest unsynced record); sales resume by themselves as the backlog drains',
        );
      } else if (!backlogFull && wasBacklogFull) {
        opts.alerts?.clear(BACKLOG_ALERT);
        opts.logger.info({ unsynced }, 'canteen: backlog below the ceiling again, sales resume');
      }
      if (diskLow && !wasDiskLow) {
        opts.alerts?.raise(
          DISK_ALERT,
          `Offline limit reached: ${diskWhy}; new canteen sales are declined, no record is dropped`,
          'free disk space on the box (logs, old files); sales resume by themselves',
        );
      } else if (!diskLow && wasDiskLow) {
        opts.alerts?.clear(DISK_ALERT);
        opts.logger.info({ freeMb: free }, 'canteen: disk space above the floor again, sales resume');
      }
      if (backlogFull && diskLow) return `${backlogWhy}; ${diskWhy}`;
      if (backlogFull) return backlogWhy;
      if (diskLow) return diskWhy;
      return null;
    },
  };
}
