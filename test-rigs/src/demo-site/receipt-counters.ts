import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';

/**
 * The demo tills' receipt counters. A real till keeps its own; a simulator restarted at receipt 1 would
 * reuse numbers, and the box (rightly) answers a reused receipt with the first decision or declines it.
 */
const FILE = 'till-receipts.json';

export function loadReceiptCounters(
  dataDir: string,
  ledgerDb: Database.Database,
  tills: readonly string[],
): number[] {
  const saved = existsSync(join(dataDir, FILE))
    ? (JSON.parse(readFileSync(join(dataDir, FILE), 'utf8')) as Record<string, number>)
    : {};
  const maxInLedger = ledgerDb.prepare(
    "SELECT max(CAST(json_extract(payload, '$.receiptNo') AS INTEGER)) AS n FROM records WHERE terminal_id = ?",
  );
  return tills.map((id) => {
    const fromLedger = ((maxInLedger.get(id) as { n: number | null }).n ?? 0) + 1;
    // Declined sales are not in the ledger: leave room above the last recorded receipt.
    return Math.max(saved[id] ?? 1, fromLedger + (saved[id] === undefined && fromLedger > 1 ? 1000 : 0));
  });
}

export function saveReceiptCounters(dataDir: string, next: number[], tills: readonly string[]): void {
  const counters = Object.fromEntries(tills.map((id, i) => [id, next[i] ?? 1]));
  writeFileSync(join(dataDir, FILE), `${JSON.stringify(counters, null, 2)}\n`);
}
