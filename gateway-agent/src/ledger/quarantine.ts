import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Moves a damaged ledger file (and its -wal/-shm companions, which belong to it) aside into the
 * quarantine folder. Never deletes: the file still holds acknowledged money records that a support
 * engineer may recover, and it is evidence if the damage was tampering.
 */
export function quarantineLedgerFile(path: string, quarantineDir: string | undefined, now: Date): string {
  const dir = quarantineDir ?? join(dirname(path), 'quarantine');
  mkdirSync(dir, { recursive: true });
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const target = join(dir, `${basename(path)}.${stamp}.damaged`);
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, target + suffix);
  }
  return target;
}
