import { openLedger } from './ledger.ts';
import { saleInput, TEST_DATA_KEY } from './test-support.ts';

/**
 * Child process of the kill -9 test: appends under concurrent load from 32 callers and prints one
 * `ACK <seq> <hash>` line per acknowledged record, only after its append resolved (i.e. committed).
 * The parent SIGKILLs it at a random moment and checks every printed record in the reopened file.
 */
const path = process.argv[2];
if (!path) throw new Error('usage: kill9-child LEDGER_PATH');
const ledger = openLedger({ path, boxId: 'box-kill9', dataKey: TEST_DATA_KEY });
process.stdout.write(`READY ${ledger.stats().headSeq}\n`);
let next = ledger.stats().headSeq * 10;
async function caller(): Promise<never> {
  for (;;) {
    const i = next++;
    const { record } = await ledger.append(saleInput(i, { idempotencyKey: `sale:kill9:${i}` }));
    process.stdout.write(`ACK ${record.seq} ${record.hash}\n`);
  }
}
for (let c = 0; c < 32; c++) void caller();
