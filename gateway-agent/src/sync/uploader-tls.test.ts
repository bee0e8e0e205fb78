import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBankServer } from '@sceneway/cloud-sync/bank';
import { makeTestPki } from '@sceneway/cloud-sync/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { saleInput } from '../ledger/test-support.ts';
import { createSyncRig, type SyncRig, waitFor } from './test-support.ts';

let rig: SyncRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe('uploader over mutual TLS (004 §5.3.1 f)', () => {
  it('delivers with the box client certificate and is refused with a foreign one', async () => {
    const pki = mkdtempSync(join(tmpdir(), 'sceneway-uploader-tls-'));
    makeTestPki(pki);
    rig = await createSyncRig();
    const bank = await startBankServer({
      bankPrivateKeyHex: rig.bankKeys.privateKeyHex,
      dbPath: join(rig.dir, 'bank-tls.db'),
      tls: {
        certPath: join(pki, 'server.pem'),
        keyPath: join(pki, 'server.key'),
        caPath: join(pki, 'ca.pem'),
      },
      logLevel: 'silent',
    });
    rig.bank = bank;
    await bank.store.enrolBox({
      boxId: rig.boxId,
      siteId: 's',
      publicKeyHex: rig.boxKeys.publicKeyHex,
      enrolledAt: new Date().toISOString(),
    });
    expect(bank.url).toMatch(/^https:/);
    await Promise.all(Array.from({ length: 30 }, (_, i) => rig!.ledger.append(saleInput(i))));

    // A client certificate from another CA: the bank must refuse the handshake.
    const stranger = mkdtempSync(join(tmpdir(), 'sceneway-uploader-tls-other-'));
    makeTestPki(stranger);
    const noCert = rig.uploader({
      bankUrl: bank.url,
      tls: {
        certPath: join(stranger, 'client.pem'),
        keyPath: join(stranger, 'client.key'),
        caPath: join(pki, 'ca.pem'),
      },
    });
    noCert.start();
    await waitFor(() => noCert.status().consecutiveFailures >= 2, 'refused handshakes');
    await noCert.stop();
    expect(noCert.status().lastError?.code).toBe('SYNC_BANK_UNREACHABLE');
    expect(rig.ledger.stats().unsyncedCount).toBe(30);

    const uploader = rig.uploader({
      bankUrl: bank.url,
      tls: {
        certPath: join(pki, 'client.pem'),
        keyPath: join(pki, 'client.key'),
        caPath: join(pki, 'ca.pem'),
      },
    });
    uploader.start();
    await waitFor(() => rig!.ledger.stats().unsyncedCount === 0, 'delivery over mTLS');
    await uploader.stop();
    expect(await bank.store.recordCount(rig.boxId)).toBe(30);
  });
});
