import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { type OpenLedgerOptions, openLedger, type SqliteLedger } from './ledger.ts';
import { createOutbox } from './outbox.ts';
import { TEST_DATA_KEY } from './test-support.ts';

/**
 * TESTS ONLY (imports vitest; test-support.ts stays importable by child processes and benches).
 * Tests run on the production ledger (no test-only second implementation, docs/decisions.md D18):
 * each test gets its own file in os.tmpdir(), and the ledgers opened on it are closed and the folder
 * removed when the test ends, pass or fail.
 */
const ledgersByPath = new Map<string, SqliteLedger[]>();

/** A fresh ledger path for the running test; cleaned up when it finishes. */
export function tempLedgerFile(prefix = 'ledger-'): string {
  const dir = mkdtempSync(join(tmpdir(), `sceneway-${prefix}`));
  const path = join(dir, 'ledger.db');
  ledgersByPath.set(path, []);
  onTestFinished(async () => {
    for (const ledger of ledgersByPath.get(path) ?? []) await ledger.close();
    ledgersByPath.delete(path);
    rmSync(dir, { recursive: true, force: true });
  });
  return path;
}

/** Opens the production ledger (box `box-test`) on `path`, by default a fresh temp file. */
export function openTempLedger(options: Partial<OpenLedgerOptions> & { path?: string } = {}): SqliteLedger {
  const path = options.path ?? tempLedgerFile();
  const ledger = openLedger({ boxId: 'box-test', dataKey: TEST_DATA_KEY, ...options, path });
  const opened = ledgersByPath.get(path);
  if (opened) opened.push(ledger);
  else onTestFinished(() => ledger.close());
  return ledger;
}

/**
 * Plays the bank acknowledging every unsynced record up to `throughSeq`, through the production
 * outbox: a stored batch, then its verified ack (the uploader's path without the network).
 */
export function acknowledgeThrough(ledger: SqliteLedger, throughSeq: number): void {
  const outbox = createOutbox(ledger);
  const cursor = outbox.cursor();
  const records = outbox
    .readUnsynced(cursor.afterSeq, Math.max(0, throughSeq - cursor.afterSeq))
    .map((u) => u.record);
  const first = records[0];
  const last = records.at(-1);
  if (!first || !last || last.seq !== throughSeq)
    throw new Error(`records ${cursor.afterSeq + 1}..${throughSeq} are not all unsynced`);
  const batch = {
    batchSeq: cursor.nextBatchSeq,
    firstSeq: first.seq,
    lastSeq: last.seq,
    recordCount: records.length,
    prevChainHead: cursor.chainHead,
    chainHead: last.hash,
    digest: '0'.repeat(64),
    body: Buffer.from('{}'),
    createdAt: new Date(0).toISOString(),
  };
  outbox.savePendingBatch(batch);
  outbox.markBatchAcknowledged(batch, '{}');
}
