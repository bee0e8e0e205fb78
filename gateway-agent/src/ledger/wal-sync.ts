import { closeSync, fsync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * "Durable before ack" without blocking the event loop (DESIGN invariant 1, the "equivalent proven
 * setting"; docs/decisions.md D15). The ledger runs WAL with synchronous=NORMAL: a commit writes its
 * frames to the -wal file and returns without an fsync. This then fsyncs the -wal file on libuv's
 * thread pool, and the group's appends resolve only after that fsync has completed, so every
 * acknowledged commit is on disk exactly as with synchronous=FULL (which would fsync inside the
 * commit, on the agent's one thread, while every terminal waits). SQLite itself still syncs the WAL
 * before a checkpoint, the database after it, and the WAL header when it restarts the log.
 *
 * A sync asked for while one is running waits for the next one, which starts after it: the running
 * fsync may have begun before the caller's commit was written.
 */
export interface WalSync {
  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void>;
  close(): void;
}

export function createWalSync(databasePath: string): WalSync {
  let fd: number | null = null;
  let running: Promise<void> | null = null;
  let next: Promise<void> | null = null;

  const fsyncOnce = (): Promise<void> => {
    // Opened at the first sync: SQLite creates the -wal file with the first write. The directory is
    // synced once too, so the file's own entry survives a power loss.
    if (fd === null) {
      fd = openSync(`${databasePath}-wal`, 'r');
      const dir = openSync(dirname(databasePath), 'r');
      try {
        fsyncDir(dir);
      } finally {
        closeSync(dir);
      }
    }
    const handle = fd;
    return new Promise((resolve, reject) => fsync(handle, (err) => (err ? reject(err) : resolve())));
  };

  const sync = (): Promise<void> => {
    if (!running) {
      running = fsyncOnce().finally(() => {
        running = null;
      });
      return running;
    }
    next ??= running.then(
      () => {
        next = null;
        return sync();
      },
      () => {
        next = null;
        return sync();
      },
    );
    return next;
  };

  return {
    sync,
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}

function fsyncDir(fd: number): void {
  // fsync on a directory fd is how POSIX makes a new entry durable; some filesystems refuse it (EINVAL).
  try {
    fsyncSync(fd);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
  }
}
