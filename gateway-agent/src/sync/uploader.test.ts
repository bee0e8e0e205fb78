import { afterEach, describe, expect, it } from 'vitest';
import { saleInput } from '../ledger/test-support.ts';
import { createSyncRig, freePort, type SyncRig, waitFor } from './test-support.ts';

let rig: SyncRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function appendSales(r: SyncRig, from: number, count: number) {
  await Promise.all(Array.from({ length: count }, (_, i) => r.ledger.append(saleInput(from + i))));
}

describe('uploader', () => {
  it('drains the outbox into the bank in signed batches and marks records synced only after the ack', async () => {
    rig = await createSyncRig();
    const bank = await rig.startBank();
    await appendSales(rig, 0, 750);
    const acks: number[] = [];
    const uploader = rig.uploader({ onAck: (a) => acks.push(a.lastSeq) });
    uploader.start();
    await waitFor(() => rig!.ledger.stats().unsyncedCount === 0, 'the outbox to drain');
    await uploader.stop();
    expect(acks).toEqual([100, 200, 300, 400, 500, 600, 700, 750]);
    expect(await bank.store.recordCount(rig.boxId)).toBe(750);
    expect(await bank.store.getBox(rig.boxId)).toMatchObject({
      headSeq: 750,
      headHash: rig.ledger.stats().headHash,
    });
    expect(rig.ledger.stats().lastSyncedSeq).toBe(750);
  });

  it('keeps records durably while the bank is unreachable and drains when it returns', async () => {
    const port = await freePort();
    rig = await createSyncRig();
    await appendSales(rig, 0, 120);
    const uploader = rig.uploader({ bankUrl: `http://127.0.0.1:${port}` });
    uploader.start();
    await waitFor(() => uploader.status().consecutiveFailures >= 3, 'failed attempts');
    expect(uploader.status().lastError?.code).toBe('SYNC_BANK_UNREACHABLE');
    expect(rig.ledger.stats()).toMatchObject({ unsyncedCount: 120 });
    expect(rig.ledger.stats().oldestUnsyncedAt).not.toBeNull();
    await appendSales(rig, 1000, 30); // sales go on while offline
    const bank = await rig.startBank(port);
    await waitFor(() => rig!.ledger.stats().unsyncedCount === 0, 'the backlog to drain');
    await uploader.stop();
    expect(await bank.store.recordCount(rig.boxId)).toBe(150);
    expect(uploader.status().consecutiveFailures).toBe(0);
  });

  it('resends the stored bytes of a batch after a restart, and the bank stores it once', async () => {
    const port = await freePort();
    rig = await createSyncRig();
    await appendSales(rig, 0, 100);
    const offline = rig.uploader({ bankUrl: `http://127.0.0.1:${port}` });
    offline.start();
    await waitFor(() => offline.status().consecutiveFailures >= 1, 'a failed send');
    await offline.stop();
    const stored = rig.ledger.db.prepare('SELECT digest FROM pending_batches').pluck().all();
    expect(stored).toHaveLength(1);
    await rig.startBank(port);
    const acks: string[] = [];
    const online = rig.uploader({ onAck: (a) => acks.push(`${a.batchSeq}:${a.status}`) });
    online.start();
    await waitFor(() => rig!.ledger.stats().unsyncedCount === 0, 'the batch to be acked');
    await online.stop();
    expect(acks).toEqual(['1:stored']);
    expect(await rig.bank!.store.recordCount(rig.boxId)).toBe(100);
  });

  it('stops with an alert on a permanent refusal and deletes nothing', async () => {
    rig = await createSyncRig({ enrol: false });
    await rig.startBank();
    await appendSales(rig, 0, 10);
    const alerts: Array<{ code: string; message: string }> = [];
    const uploader = rig.uploader({ alerts: { raise: (a) => alerts.push(a), clear: () => {} } });
    uploader.start();
    await waitFor(() => uploader.status().state === 'stopped', 'the uploader to stop');
    expect(uploader.status().lastError?.code).toBe('BANK_BOX_NOT_ENROLLED');
    expect(alerts[0]?.code).toBe('SYNC_BATCH_REFUSED');
    expect(alerts[0]?.message).toMatch(/BANK_BOX_NOT_ENROLLED/);
    expect(rig.ledger.stats().unsyncedCount).toBe(10);
    await uploader.stop();
  });
});
