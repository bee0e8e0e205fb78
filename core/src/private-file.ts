import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/** Owner read/write only: the ledger and the bank hold money records and personal data (004 §5.1.4 a). */
export const PRIVATE_FILE_MODE = 0o600;
const PRIVATE_DIR_MODE = 0o700;
const SQLITE_COMPANIONS = ['-wal', '-shm', '-journal'] as const;

/**
 * Makes a SQLite database file owner-only before SQLite opens it, whatever the process umask
 * (a default umask of 022 gave 0644 ledgers and bank files that any account on the host could copy).
 * The file is created empty at 0600 if absent (SQLite treats an empty file as a new database), and
 * SQLite's unix VFS then gives the -wal and -shm files it creates the main file's permission bits.
 * Companions left by an older version at 0644 are tightened too. The directory is created 0700 (an
 * existing directory is left as the installer made it).
 */
export function preparePrivateDatabaseFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
  if (!existsSync(path)) closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  restrictToOwner(path);
}

/** chmod 0600 the database file and whichever of its -wal/-shm/-journal companions exist. */
export function restrictToOwner(path: string): void {
  for (const file of [path, ...SQLITE_COMPANIONS.map((suffix) => path + suffix)]) {
    if (existsSync(file)) chmodSync(file, PRIVATE_FILE_MODE);
  }
}
