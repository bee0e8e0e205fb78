import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tempLedgerPath } from './test-support.ts';
import { createWalSync } from './wal-sync.ts';

describe('WAL sync', () => {
  it('a sync asked for while one runs waits for the next one, shared by every such caller', async () => {
    const path = tempLedgerPath();
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    const wal = createWalSync(path);
    const order: string[] = [];
    const first = wal.sync().then(() => order.push('first'));
    const second = wal.sync().then(() => order.push('second'));
    const third = wal.sync();
    // The second and third callers share one sync, which starts only after the first has ended.
    expect(wal.sync()).toBe(third);
    await Promise.all([first, second, third]);
    expect(order).toEqual(['first', 'second']);
    await expect(wal.sync()).resolves.toBeUndefined(); // a new round once all have settled
    await wal.close();
    db.close();
  });

  it('fails when there is no WAL to sync (the database is not in WAL mode)', async () => {
    await expect(createWalSync(tempLedgerPath()).sync()).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
