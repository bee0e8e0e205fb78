import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../clock.ts';
import { openLedger } from './ledger.ts';
import { createOutbox } from './outbox.ts';
import { quarantineLedgerFile } from './quarantine.ts';
import { pruneAcknowledged } from './retention.ts';
import { saleInput, TEST_DATA_KEY, tempLedgerPath } from './test-support.ts';

const modeOf = (path: string) => statSync(path).mode & 0o777;

// The umask a stock Linux service gets: before the fix it made 0644 ledgers (issue #11 item 4).
let umaskBefore = 0;
beforeEach(() => {
  umaskBefore = process.umask(0o022);
});
afterEach(() => {
  process.umask(umaskBefore);
});

describe('the ledger file is private (issue #11 item 4)', () => {
  it('creates the ledger and its -wal/-shm at 0600 under a 022 umask, and tightens an old 0644 one', async () => {
    const path = tempLedgerPath('private-');
    const ledger = openLedger({ path, boxId: 'box-1', dataKey: TEST_DATA_KEY });
    await ledger.append(saleInput(1));
    for (const file of [path, `${path}-wal`, `${path}-shm`])
      expect([file, modeOf(file)]).toEqual([file, 0o600]);
    await ledger.close();
    const moved = quarantineLedgerFile(path, join(dirname(path), 'q'), new Date(0));
    expect(modeOf(moved)).toBe(0o600);
  });

  it('zeroes pruned rows (secure_delete): nothing of a pruned record stays in the file', async () => {
    const path = tempLedgerPath('secure-delete-');
    const clock = manualClock(Date.UTC(2026, 0, 1));
    const ledger = openLedger({ path, boxId: 'box-1', dataKey: TEST_DATA_KEY, clock });
    const marker = 'PRUNED-TILL-MARKER';
    for (let i = 1; i <= 40; i++) await ledger.append(saleInput(i, { terminalId: `${marker}-${i}` }));
    const outbox = createOutbox(ledger);
    const unsynced = outbox.readUnsynced(0, 100).map((u) => u.record);
    const last = unsynced.at(-1);
    if (!last) throw new Error('no records');
    const batch = {
      batchSeq: 1,
      firstSeq: 1,
      lastSeq: last.seq,
      recordCount: unsynced.length,
      prevChainHead: '0'.repeat(64),
      chainHead: last.hash,
      digest: 'd'.repeat(64),
      body: Buffer.from('{}'),
      createdAt: new Date(clock.now()).toISOString(),
    };
    outbox.savePendingBatch(batch);
    outbox.markBatchAcknowledged(batch, '{}');
    // The marker is in the file (through the WAL) before the prune...
    ledger.db.pragma('wal_checkpoint(TRUNCATE)');
    expect(readFileSync(path).includes(marker)).toBe(true);
    expect(pruneAcknowledged(ledger, new Date(Date.UTC(2027, 0, 1))).pruned).toBe(40);
    await ledger.close();
    // ...and gone from every byte of it after (the WAL is checkpointed into the file at close).
    for (const file of [path, `${path}-wal`]) {
      if (existsSync(file)) expect([file, readFileSync(file).includes(marker)]).toEqual([file, false]);
    }
  });
});
