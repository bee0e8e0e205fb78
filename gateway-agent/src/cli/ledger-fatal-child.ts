import { openLedger } from '../ledger/ledger.ts';
import { saleInput, TEST_DATA_KEY } from '../ledger/test-support.ts';
import { createLogger } from '../logger.ts';
import { exitOnLedgerFatal } from './start-command.ts';

/**
 * Child process of ledger-fatal-exit.test.ts: the ledger `sceneway start` opens, wired to the start
 * command's fatal handler, on a disk whose WAL fsync fails (EIO). The process must exit with
 * EXIT_LEDGER_FATAL by itself; it never prints an acknowledgement.
 */
const path = process.argv[2];
if (!path) throw new Error('usage: ledger-fatal-child LEDGER_PATH');
const logger = createLogger({ level: 'info', destination: process.stderr });
const ledger = openLedger({
  path,
  boxId: 'box-fatal',
  dataKey: TEST_DATA_KEY,
  walSync: {
    syncInherited() {},
    sync: () => Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })),
    close: async () => {},
  },
  onFatal: exitOnLedgerFatal(logger),
});
ledger.append(saleInput(1)).then(
  () => process.stdout.write('ACK\n'),
  () => process.stdout.write('REJECTED\n'),
);
// Keeps the event loop alive as a daemon's would: only the fatal handler may end this process.
setInterval(() => {}, 1000);
