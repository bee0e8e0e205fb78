import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSm2KeyPair } from '@sceneway/cloud-sync';
import { type BankServer, startBankServer } from '@sceneway/cloud-sync/bank';
import { newTestBox, type TestBox } from '@sceneway/cloud-sync/testing';

/** The real reference bank on an ephemeral port with a temp-dir SQLite store and one enrolled box. */
export interface BankHarness {
  bank: BankServer;
  box: TestBox;
  signer: { boxId: string; privateKeyHex: string };
  close(): Promise<void>;
}

export async function startBankHarness(boxId = 'box-fp'): Promise<BankHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-fault-proxy-'));
  const bank = await startBankServer({
    dbPath: join(dir, 'bank.db'),
    bankPrivateKeyHex: generateSm2KeyPair().privateKeyHex,
    logLevel: 'silent',
    // Retries under faults come fast; the rate limiter is not what these tests are about.
    ratePerSec: 10_000,
    burst: 10_000,
  });
  const box = newTestBox(boxId);
  await bank.store.enrolBox({
    boxId,
    siteId: `site-${boxId}`,
    publicKeyHex: box.keys.publicKeyHex,
    enrolledAt: new Date().toISOString(),
  });
  return {
    bank,
    box,
    signer: { boxId, privateKeyHex: box.keys.privateKeyHex },
    async close() {
      await bank.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function isJson(bytes: Buffer): boolean {
  try {
    JSON.parse(bytes.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}
