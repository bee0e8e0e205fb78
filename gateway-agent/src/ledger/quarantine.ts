import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { restrictToOwner } from '@sceneway/core';

/**
 * Moves a damaged ledger file (and its -wal/-shm companions, which belong to it) aside into the
 * quarantine folder. Never deletes: the file still holds acknowledged money records that a support
 * engineer may recover, and it is evidence if the damage was tampering.
 */
export function quarantineLedgerFile(path: string, quarantineDir: string | undefined, now: Date): string {
  const dir = quarantineDir ?? join(dirname(path), 'quarantine');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const target = join(dir, `${basename(path)}.${stamp}.damaged`);
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, target + suffix);
  }
  // A ledger from an older version may still be 0644; its quarantined copy is kept for months.
  restrictToOwner(target);
  return target;
}
