import { closeSync, existsSync, fsyncSync, openSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * "Durable before ack" without blocking the event loop (DESIGN invariant 1, the "equivalent proven
 * setting"; docs/decisions.md D15, D17). The ledger runs WAL with synchronous=NORMAL: a commit writes
 * its frames to the -wal file and returns without an fsync. This then fsyncs the -wal file on libuv's
 * thread pool, and the group's appends resolve only after that fsync has completed, so every
 * acknowledged commit is on disk exactly as with synchronous=FULL (which would fsync inside the
 * commit, on the agent's one thread, while every terminal waits). SQLite itself still syncs the WAL
 * before a checkpoint, the database after it, and the WAL header when it restarts the log.
 *
 * A sync asked for while one is running waits for the next one, which starts after it: the running
 * fsync may have begun before the caller's commit was written.
 *
 * A failed fsync is final (docs/decisions.md D17, PostgreSQL's "fsyncgate"): on Linux the kernel may
 * mark the unwritten pages clean after reporting EIO once, so a second fsync can succeed over lost
 * data. After one failure every later sync rejects with that failure and no fsync is tried again.
 */
export interface WalSync {
  /**
   * Blocking, once at open before any decision is read: fsyncs the database file, the -wal file a
   * crashed predecessor left behind (its commits may still be only in the page cache) and their folder.
   */
  syncInherited(): void;
  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void>;
  /** Closes the descriptor (after the ledger's last sync). */
  close(): Promise<void>;
}

/** Test seams for the two kinds of fsync this module makes; production uses the real calls. */
export interface FsyncSeams {
  /** fsync of the open -wal handle, off the event loop. */
  fsyncWal?: (wal: FileHandle) => Promise<void>;
  /** Blocking fsync of a file or folder by path (syncInherited). */
  fsyncPathNow?: (path: string) => void;
}

export function createWalSync(databasePath: string, seams: FsyncSeams = {}): WalSync {
  const fsyncWal = seams.fsyncWal ?? ((wal: FileHandle) => wal.sync());
  const fsyncPathNow = seams.fsyncPathNow ?? fsyncPathSync;
  let running: Promise<void> | null = null;
  let next: Promise<void> | null = null;
  let failure: { error: unknown } | null = null;
  // Opened at the first sync (SQLite creates the -wal file with the first write) and kept: SQLite
  // removes the -wal file only when the last connection closes, and the ledger holds one until it
  // closes, so the descriptor stays the file's. One thread-pool hop per sync: the pool is shared with
  // every serial port's reads, and open + fsync + close each time doubled the append latency (measured).
  let wal: FileHandle | null = null;

  const fsyncOnce = async (): Promise<void> => {
    if (failure) throw failure.error;
    try {
      if (!wal) {
        wal = await open(`${databasePath}-wal`, 'r');
        // Once: the directory entry of the -wal file SQLite created must survive a power loss too.
        await syncDirectory(dirname(databasePath));
      }
      await fsyncWal(wal);
    } catch (error) {
      failure = { error };
      throw error;
    }
  };

  const sync = (): Promise<void> => {
    if (failure) return Promise.reject(failure.error);
    if (!running) {
      running = fsyncOnce().finally(() => {
        running = null;
      });
      return running;
    }
    const after = () => {
      next = null;
      return sync();
    };
    next ??= running.then(after, after);
    return next;
  };

  return {
    syncInherited() {
      fsyncPathNow(databasePath);
      const inheritedWal = `${databasePath}-wal`;
      if (existsSync(inheritedWal)) fsyncPathNow(inheritedWal);
      fsyncPathNow(dirname(databasePath));
    },
    sync,
    async close() {
      const handle = wal;
      wal = null;
      await handle?.close();
    },
  };
}

function fsyncPathSync(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } catch (err) {
    // Some filesystems refuse fsync on a directory (EINVAL); their entries are durable another way.
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
  } finally {
    closeSync(fd);
  }
}

async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
  } finally {
    await dir.close();
  }
}
