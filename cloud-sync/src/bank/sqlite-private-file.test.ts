import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteBankStore } from './sqlite-store.ts';

// A stock service umask: before the fix the bank's SQLite files were 0644 (issue #11 item 4).
let umaskBefore = 0;
let dir = '';
beforeEach(() => {
  umaskBefore = process.umask(0o022);
  dir = mkdtempSync(join(tmpdir(), 'sceneway-bank-private-'));
});
afterEach(() => {
  process.umask(umaskBefore);
  rmSync(dir, { recursive: true, force: true });
});

describe('the bank SQLite file is private (issue #11 item 4)', () => {
  it('is 0600 with its -wal/-shm, and zeroes deleted rows (secure_delete)', async () => {
    const path = join(dir, 'bank.db');
    const store = new SqliteBankStore(path);
    await store.init();
    await store.enrolBox({
      boxId: 'box-1',
      siteId: 'site-1',
      publicKeyHex: `04${'ab'.repeat(64)}`,
      enrolledAt: new Date(0).toISOString(),
    });
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      expect([file, statSync(file).mode & 0o777]).toEqual([file, 0o600]);
    }
    // The pragma is per connection: read it on the store's own one.
    const sqlite = (store as unknown as { sqlite: Database.Database }).sqlite;
    expect(sqlite.pragma('secure_delete', { simple: true })).toBe(1);
    await store.close();
  });
});
