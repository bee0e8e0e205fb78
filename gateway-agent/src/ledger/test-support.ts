import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppendInput } from './ledger-api.ts';

/** Test helpers shared by the ledger tests (not used by production code). */
export const TEST_DATA_KEY = Buffer.alloc(16, 7);

export function tempLedgerPath(prefix = 'ledger-'): string {
  return join(mkdtempSync(join(tmpdir(), `sceneway-${prefix}`)), 'ledger.db');
}

export function saleInput(i: number, extra: Partial<AppendInput> = {}): AppendInput {
  return {
    kind: 'sale',
    terminalId: `pos-${i % 4}`,
    amountFen: 100 + (i % 900),
    payload: { receiptNo: i },
    pii: { cardNumber: `62220000${String(i).padStart(8, '0')}` },
    ...extra,
  };
}
