import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSm2KeyPair } from '@sceneway/cloud-sync';
import { reconcileDirectory, startBankServer } from '@sceneway/cloud-sync/bank';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../clock.ts';
import { saleInput } from '../ledger/test-support.ts';
import { silentLogger } from '../logger.ts';
import { createBankClient } from './bank-client.ts';
import { writeBoxDailyReport } from './recon-file.ts';
import { createReconUploader } from './recon-upload.ts';
import { createSyncRig, type SyncRig, waitFor } from './test-support.ts';

let rig: SyncRig | undefined;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await rig?.close();
  rig = undefined;
});

async function bankWith(reconDir: string | undefined, enrolPublicKeyHex: string) {
  const bank = await startBankServer({
    bankPrivateKeyHex: rig!.bankKeys.privateKeyHex,
    dbPath: join(rig!.dir, `bank-${closers.length}.db`),
    logLevel: 'silent',
    ...(reconDir ? { reconDir } : {}),
  });
  await bank.store.enrolBox({
    boxId: rig!.boxId,
    siteId: 'site-1',
    publicKeyHex: enrolPublicKeyHex,
    enrolledAt: new Date().toISOString(),
  });
  closers.push(() => bank.close());
  return bank;
}

function reconUploader(url: string, privateKeyHex: string, alerts: string[]) {
  const client = createBankClient({ baseUrl: url });
  const uploader = createReconUploader({
    client,
    boxId: rig!.boxId,
    boxPrivateKeyHex: privateKeyHex,
    clock: systemClock,
    logger: silentLogger,
    alerts: {
      raise: (a) => alerts.push(`${a.code}: ${a.message}`),
      clear: (code) => alerts.push(`clear ${code}`),
    },
    attempts: 2,
    backoff: { initialDelayMs: 5, maxDelayMs: 10 },
  });
  closers.push(async () => {
    uploader.stop();
    client.close();
  });
  return uploader;
}

describe('daily reconciliation report upload', () => {
  it('reaches the bank signed by the box, and the nightly job finds the box and bank agree', async () => {
    rig = await createSyncRig({ enrol: false });
    const bankReconDir = join(rig.dir, 'bank-recon');
    const bank = await bankWith(bankReconDir, rig.boxKeys.publicKeyHex);
    await Promise.all(Array.from({ length: 25 }, (_, i) => rig!.ledger.append(saleInput(i))));
    const sync = rig.uploader({ bankUrl: bank.url });
    sync.start();
    await waitFor(() => rig!.ledger.stats().unsyncedCount === 0, 'sync');
    await sync.stop();

    const date = new Date().toISOString().slice(0, 10);
    const path = writeBoxDailyReport(rig.ledger, date, join(rig.dir, 'recon'));
    const alerts: string[] = [];
    expect(
      await reconUploader(bank.url, rig.boxKeys.privateKeyHex, alerts).send(readFileSync(path), path),
    ).toBe(true);
    expect(alerts).toEqual(['clear RECON_UPLOAD_FAILED']);
    const received = join(bankReconDir, `${rig.boxId}-${date}.json`);
    expect(readFileSync(received)).toEqual(readFileSync(path));
    const runs = await reconcileDirectory(bank.store, bankReconDir, date, new Date());
    expect(runs).toEqual([{ file: `${rig.boxId}-${date}.json`, boxId: rig.boxId, differences: [] }]);
  });

  it('is refused when signed by a key the bank did not enrol, and says so in an alert', async () => {
    rig = await createSyncRig({ enrol: false });
    const bank = await bankWith(join(rig.dir, 'bank-recon'), rig.boxKeys.publicKeyHex);
    const path = writeBoxDailyReport(rig.ledger, '2026-11-28', join(rig.dir, 'recon'));
    const alerts: string[] = [];
    const stranger = generateSm2KeyPair();
    const sent = await reconUploader(bank.url, stranger.privateKeyHex, alerts).send(readFileSync(path), path);
    expect(sent).toBe(false);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatch(/^RECON_UPLOAD_FAILED: .*BANK_SIGNATURE_INVALID/);
  });

  it('is refused by a bank that takes no uploads, and for another box than the request names', async () => {
    rig = await createSyncRig({ enrol: false });
    const off = await bankWith(undefined, rig.boxKeys.publicKeyHex);
    const path = writeBoxDailyReport(rig.ledger, '2026-11-28', join(rig.dir, 'recon'));
    const alerts: string[] = [];
    expect(
      await reconUploader(off.url, rig.boxKeys.privateKeyHex, alerts).send(readFileSync(path), path),
    ).toBe(false);
    expect(alerts[0]).toMatch(/BANK_RECON_OFF/);

    const on = await bankWith(join(rig.dir, 'bank-recon'), rig.boxKeys.publicKeyHex);
    const foreign = Buffer.from(readFileSync(path, 'utf8').replace(`"${rig.boxId}"`, '"../other-box"'));
    const mismatch: string[] = [];
    expect(await reconUploader(on.url, rig.boxKeys.privateKeyHex, mismatch).send(foreign, path)).toBe(false);
    expect(mismatch[0]).toMatch(/BANK_BOX_MISMATCH/);
  });
});
