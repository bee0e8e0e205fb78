import { readdirSync, readFileSync } from 'node:fs';
import { parseBatchEnvelope, verifyBatchSignature } from '@sceneway/cloud-sync';
import { afterEach, describe, expect, it } from 'vitest';
import { createOutbox } from '../ledger/outbox.ts';
import { saleInput, TEST_DATA_KEY } from '../ledger/test-support.ts';
import type { BatchBuildRequest } from './batch-build.ts';
import {
  type BatchBuilder,
  batchWorkerBundle,
  inlineBatchBuilder,
  workerBatchBuilder,
} from './batch-builder.ts';
import { createSyncRig, type SyncRig, waitFor } from './test-support.ts';

let rig: SyncRig | undefined;
let builder: BatchBuilder | undefined;
afterEach(async () => {
  await builder?.close();
  await rig?.close();
  rig = undefined;
  builder = undefined;
});

const workerPath = () => {
  const path = batchWorkerBundle();
  // vitest's global setup builds the bundle: its absence is a broken build, not a reason to skip.
  if (!path) throw new Error('gateway-agent/dist/batch-worker.mjs was not built');
  return path;
};

describe('batch builders', () => {
  it('the worker thread builds what the inline builder builds, through its own connection', async () => {
    rig = await createSyncRig();
    await Promise.all(Array.from({ length: 30 }, (_, i) => rig!.ledger.append(saleInput(i))));
    const keys = { boxPrivateKeyHex: rig.boxKeys.privateKeyHex, bankPublicKeyHex: rig.bankKeys.publicKeyHex };
    const request: BatchBuildRequest = {
      boxId: rig.boxId,
      batchSeq: 1,
      afterSeq: 0,
      prevChainHead: '0'.repeat(64),
      maxRecords: 20,
      maxBytes: 1024 * 1024,
      createdAt: new Date().toISOString(),
    };
    builder = workerBatchBuilder(workerPath(), { ledgerPath: rig.ledger.path, dataKey: TEST_DATA_KEY, keys });
    const fromWorker = await builder.build(request);
    const inline = await inlineBatchBuilder(createOutbox(rig.ledger).readUnsynced, keys).build(request);
    expect(fromWorker && Buffer.isBuffer(fromWorker.body)).toBe(true);
    const parsed = parseBatchEnvelope(fromWorker!.body);
    expect(verifyBatchSignature(parsed, rig.boxKeys.publicKeyHex)).toBe(true);
    // SM2 and the batch key are randomised: compare what is not.
    const { body: _w, digest: _wd, ...workerMeta } = fromWorker!;
    const { body: _i, digest: _id, ...inlineMeta } = inline!;
    expect(workerMeta).toEqual(inlineMeta);
    expect(parsed.body.records.map((r) => r.hash)).toEqual(
      parseBatchEnvelope(inline!.body).body.records.map((r) => r.hash),
    );
    expect(workerMeta).toMatchObject({ firstSeq: 1, lastSeq: 20, recordCount: 20 });
    expect(await builder.build({ ...request, afterSeq: 30 })).toBeNull();
    // The worker thread runs niced (Linux): one thread of this process now has nice 10.
    const nices = readdirSync('/proc/self/task').map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]); // field 19: nice
    });
    expect(nices).toContain(10);
  });

  it('reports a failed build with its code, and a worker that cannot start as SYNC_BUILD', async () => {
    rig = await createSyncRig();
    // Several records: a wrong key leaves valid-looking padding with probability ~1/256 per record.
    await Promise.all(Array.from({ length: 8 }, (_, i) => rig!.ledger.append(saleInput(i))));
    builder = workerBatchBuilder(workerPath(), {
      ledgerPath: rig.ledger.path,
      dataKey: Buffer.alloc(16, 9), // not this ledger's data key: the personal data cannot be opened
      keys: { boxPrivateKeyHex: rig.boxKeys.privateKeyHex, bankPublicKeyHex: rig.bankKeys.publicKeyHex },
    });
    const request: BatchBuildRequest = {
      boxId: rig.boxId,
      batchSeq: 1,
      afterSeq: 0,
      prevChainHead: '0'.repeat(64),
      maxRecords: 10,
      maxBytes: 1024 * 1024,
      createdAt: new Date().toISOString(),
    };
    await expect(builder.build(request)).rejects.toMatchObject({ code: 'LEDGER_PII_UNREADABLE' });
    const missing = workerBatchBuilder(workerPath(), {
      ledgerPath: `${rig.dir}/no-such-ledger.db`,
      dataKey: TEST_DATA_KEY,
      keys: { boxPrivateKeyHex: rig.boxKeys.privateKeyHex, bankPublicKeyHex: rig.bankKeys.publicKeyHex },
    });
    await expect(missing.build(request)).rejects.toMatchObject({ code: 'SYNC_BUILD' });
    await missing.close();
  });

  it('the uploader drains through the worker builder', async () => {
    rig = await createSyncRig();
    const bank = await rig.startBank();
    await Promise.all(Array.from({ length: 250 }, (_, i) => rig!.ledger.append(saleInput(i))));
    const uploader = rig.uploader({
      builder: workerBatchBuilder(workerPath(), {
        ledgerPath: rig.ledger.path,
        dataKey: TEST_DATA_KEY,
        keys: { boxPrivateKeyHex: rig.boxKeys.privateKeyHex, bankPublicKeyHex: rig.bankKeys.publicKeyHex },
      }),
    });
    uploader.start();
    await waitFor(() => rig!.ledger.stats().unsyncedCount === 0, 'the outbox to drain');
    await uploader.stop();
    expect(await bank.store.recordCount(rig.boxId)).toBe(250);
  });
});
