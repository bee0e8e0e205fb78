import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred } from '../test-support/deferred.ts';
import { createWalSync } from './wal-sync.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function walDatabase(): { path: string; db: Database.Database } {
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-walsync-'));
  dirs.push(dir);
  const path = join(dir, 'ledger.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
  return { path, db };
}

describe('WAL sync', () => {
  it('a sync asked for while an fsync runs gets a new fsync that starts after its commit', async () => {
    const { path, db } = walDatabase();
    const events: string[] = [];
    const firstEntered = deferred<void>();
    const releaseFirst = deferred<void>();
    let fsyncs = 0;
    const wal = createWalSync(path, {
      fsyncWal: async (handle) => {
        const n = ++fsyncs;
        events.push(`fsync ${n} starts`);
        if (n === 1) {
          firstEntered.resolve();
          await releaseFirst.promise;
        }
        await handle.sync();
      },
    });
    const first = wal.sync();
    await firstEntered.promise;
    // Committed while fsync 1 is already running: fsync 1 may not cover it.
    db.exec('INSERT INTO t VALUES (2)');
    events.push('commit');
    const second = wal.sync();
    const third = wal.sync();
    // Every caller that arrives during fsync 1 shares the one next fsync.
    expect(third).toBe(second);
    releaseFirst.resolve();
    await Promise.all([first, second]);
    expect(events).toEqual(['fsync 1 starts', 'commit', 'fsync 2 starts']);
    await wal.close();
    db.close();
  });

  it('never fsyncs again after a failed fsync (fsyncgate): every later sync fails with it', async () => {
    const { path, db } = walDatabase();
    let fsyncs = 0;
    const wal = createWalSync(path, {
      fsyncWal: async () => {
        fsyncs++;
        throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
      },
    });
    await expect(wal.sync()).rejects.toMatchObject({ code: 'EIO' });
    await expect(wal.sync()).rejects.toMatchObject({ code: 'EIO' });
    expect(fsyncs).toBe(1);
    await wal.close();
    db.close();
  });

  it('fsyncs the database, the inherited -wal and their folder at open', () => {
    const { path, db } = walDatabase();
    // A crashed agent's files: copied while the connection is open, so the -wal is still there.
    const crashedDir = mkdtempSync(join(tmpdir(), 'sceneway-walsync-'));
    dirs.push(crashedDir);
    const crashed = join(crashedDir, 'ledger.db');
    copyFileSync(path, crashed);
    copyFileSync(`${path}-wal`, `${crashed}-wal`);
    db.close();
    expect(existsSync(`${crashed}-wal`)).toBe(true);
    const synced: string[] = [];
    createWalSync(crashed, { fsyncPathNow: (p) => synced.push(p) }).syncInherited();
    expect(synced).toEqual([crashed, `${crashed}-wal`, dirname(crashed)]);
  });

  it('fails when there is no WAL to sync (the database is not in WAL mode)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sceneway-walsync-'));
    dirs.push(dir);
    await expect(createWalSync(join(dir, 'ledger.db')).sync()).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
