import { createUploader, openLedger, silentLogger, systemClock } from '@sceneway/gateway-agent';
import { saleInput, TEST_DATA_KEY } from '@sceneway/gateway-agent/testing';

/**
 * A box process for the SIGKILL test: opens the ledger, appends `count` sales (more while it runs),
 * and uploads through the fault proxy until it is killed. Prints `ACKED <lastSeq>` per verified ack.
 */
const [path, bankUrl, keysJson, countText] = process.argv.slice(2);
if (!path || !bankUrl || !keysJson || !countText)
  throw new Error('usage: upload-child LEDGER URL KEYS_JSON COUNT');
const keys = JSON.parse(keysJson) as { boxId: string; boxPrivateKeyHex: string; bankPublicKeyHex: string };
const ledger = openLedger({ path, boxId: keys.boxId, dataKey: TEST_DATA_KEY });
const uploader = createUploader({
  ledger,
  boxId: keys.boxId,
  boxPrivateKeyHex: keys.boxPrivateKeyHex,
  bankPublicKeyHex: keys.bankPublicKeyHex,
  bankUrl,
  limits: { maxRecords: 50, maxBytes: 1 << 20, maxAgeMs: 0, backoffBaseMs: 5, backoffCapMs: 50 },
  clock: systemClock,
  logger: silentLogger,
  onAck: (a) => process.stdout.write(`ACKED ${a.lastSeq}\n`),
});
const base = ledger.stats().headSeq;
await Promise.all(Array.from({ length: Number(countText) }, (_, i) => ledger.append(saleInput(base + i))));
process.stdout.write(`APPENDED ${ledger.stats().headSeq}\n`);
uploader.start();
