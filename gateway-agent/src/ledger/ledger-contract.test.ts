import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { type OpenLedgerOptions, openLedger, type SqliteLedger } from './ledger.ts';
import { runLedgerContract } from './ledger-contract.ts';
import { acknowledgeThrough } from './temp-ledger.ts';
import { TEST_DATA_KEY, tempLedgerPath } from './test-support.ts';

// The production ledger is the only implementation of the Ledger interface (TestLedger was removed;
// docs/decisions.md D18). A new implementation joins here with one more call.
const sqliteLedger = (extra: Partial<OpenLedgerOptions> = {}) => {
  const path = tempLedgerPath('contract-');
  const open = () => openLedger({ path, boxId: 'box-contract', dataKey: TEST_DATA_KEY, ...extra });
  let current: SqliteLedger = open();
  return {
    ledger: current,
    async reopen() {
      await current.close();
      current = open();
      return current;
    },
    acknowledge(throughSeq: number) {
      acknowledgeThrough(current, throughSeq);
    },
    async cleanup() {
      await current.close();
      rmSync(dirname(path), { recursive: true, force: true });
    },
  };
};

runLedgerContract('SqliteLedger, WAL fsync on the temp disk', () => sqliteLedger());

// The same contract when the sync settles at once: timing that a real disk hides (close racing a
// queued group, a group committing while the previous one syncs) must not change what callers see.
runLedgerContract('SqliteLedger, a sync that settles at once', () =>
  sqliteLedger({ walSync: { sync: async () => {}, syncInherited: () => {}, close: async () => {} } }),
);
