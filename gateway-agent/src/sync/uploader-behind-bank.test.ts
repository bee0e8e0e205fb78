import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openLedger } from '../ledger/ledger.ts';
import { saleInput, TEST_DATA_KEY } from '../ledger/test-support.ts';
import { createSyncRig, type SyncRig, waitFor } from './test-support.ts';

let rig: SyncRig | undefined;
afterEach(async () => {
  await rig?.close();
  if (rig) rmSync(rig.dir, { recursive: true, force: true });
  rig = undefined;
});

async function appendSales(r: SyncRig, from: number, count: number) {
  for (let i = 0; i < count; i++) await r.ledger.append(saleInput(from + i));
}

async function drain(r: SyncRig) {
  const uploader = r.uploader();
  uploader.start();
  await waitFor(() => r.ledger.stats().unsyncedCount === 0, 'the outbox to drain');
  await uploader.stop();
}

describe('uploader: a ledger behind the bank (LEDGER_BEHIND_BANK)', () => {
  it('stops with LEDGER_BEHIND_BANK when a ledger restored from an older copy re-uses seqs the bank holds', async () => {
    rig = await createSyncRig();
    const bank = await rig.startBank();
    await appendSales(rig, 0, 50);
    await drain(rig); // batch 1: seqs 1-50 acknowledged
    const backup = join(rig.dir, 'backup.db');
    rig.ledger.db.exec(`VACUUM INTO '${backup}'`); // the older copy: synced through 50
    await appendSales(rig, 50, 50);
    await drain(rig); // batch 2: seqs 51-100 acknowledged
    expect(await bank.store.getBox(rig.boxId)).toMatchObject({ headSeq: 100 });

    // The box dies; its ledger is restored from the older copy and trades on from seq 51 again.
    await rig.ledger.close();
    rig.ledger = openLedger({ path: backup, boxId: rig.boxId, dataKey: TEST_DATA_KEY });
    await appendSales(rig, 1000, 10);
    expect(rig.ledger.stats()).toMatchObject({ headSeq: 60, lastSyncedSeq: 50 });

    const alerts: Array<{ code: string; message: string }> = [];
    const uploader = rig.uploader({ alerts: { raise: (a) => alerts.push(a), clear: () => {} } });
    uploader.start();
    await waitFor(() => uploader.status().state === 'stopped', 'the uploader to stop');
    await uploader.stop();
    expect(uploader.status().lastError?.code).toBe('LEDGER_BEHIND_BANK');
    expect(alerts.map((a) => a.code)).toEqual(['LEDGER_BEHIND_BANK']);
    expect(alerts[0]?.message).toMatch(/holds records up to seq 100 .* only up to seq 50 \(its head is 60\)/);
    // Nothing renumbered, nothing deleted, nothing the bank took for the restored box's records.
    expect(rig.ledger.stats()).toMatchObject({ headSeq: 60, unsyncedCount: 10, lastSyncedSeq: 50 });
    expect(await bank.store.recordCount(rig.boxId)).toBe(100);
    expect(await bank.store.getBox(rig.boxId)).toMatchObject({ headSeq: 100 });
  });
});
