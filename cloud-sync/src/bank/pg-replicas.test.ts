import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAck } from '../batch/ack-v1.ts';
import { generateSm2KeyPair } from '../crypto/sm2.ts';
import { PgBankStore } from './pg-store.ts';
import { type BankServer, startBankServer } from './server.ts';
import { chainedBatches, newTestBox, postBatch, resign } from './test-support/box-kit.ts';
import { TEST_PG_URL as PG_URL, requireTestPg, testPgSchema } from './test-support/test-pg.ts';

// Fails, never skips, without PostgreSQL (requireTestPg says how to start it).
describe('ingest replicas on one PostgreSQL', () => {
  const schema = testPgSchema('bank_test');
  const bankKeys = generateSm2KeyPair();
  const replicas: BankServer[] = [];
  let admin: PgBankStore;

  beforeAll(async () => {
    await requireTestPg();
    admin = new PgBankStore({ url: PG_URL, schema });
    await admin.init();
    for (let i = 0; i < 2; i++) {
      replicas.push(
        await startBankServer({
          pgUrl: PG_URL,
          pgSchema: schema,
          bankPrivateKeyHex: bankKeys.privateKeyHex,
          ratePerSec: 1000,
          burst: 1000,
          logLevel: 'silent',
        }),
      );
    }
  });

  const enrolledBox = async (boxId: string) => {
    const box = newTestBox(boxId);
    await admin.enrolBox({
      boxId,
      siteId: 's',
      publicKeyHex: box.keys.publicKeyHex,
      enrolledAt: new Date().toISOString(),
    });
    return box;
  };

  afterAll(async () => {
    for (const r of replicas) await r.close();
    await admin?.dropSchema();
    await admin?.close();
  });

  it('stores each batch exactly once when both replicas get the same retries concurrently', async () => {
    const box = await enrolledBox('box-pg');
    const sizes = [3, 5, 2, 4];
    const batches = chainedBatches(box, bankKeys.publicKeyHex, sizes);
    const copies = 12;
    for (const b of batches) {
      const results = await Promise.all(
        Array.from({ length: copies }, (_, i) =>
          postBatch(
            replicas[i % 2]?.url ?? '',
            { boxId: box.boxId, privateKeyHex: box.keys.privateKeyHex },
            b,
          ),
        ),
      );
      const statuses = results.map((r) => {
        expect(r.status).toBe(200);
        return verifyAck(r.body, bankKeys.publicKeyHex, {
          boxId: box.boxId,
          batchSeq: b.batchSeq,
          digest: b.digest,
          requestNonce: r.nonce,
        }).status;
      });
      expect(statuses.filter((s) => s === 'stored')).toHaveLength(1);
      expect(statuses.filter((s) => s === 'duplicate')).toHaveLength(copies - 1);
    }
    const total = sizes.reduce((a, n) => a + n, 0);
    expect(await admin.recordCount(box.boxId)).toBe(total);
    const head = await admin.getBox(box.boxId);
    expect(head?.headSeq).toBe(total);
  });

  // The transaction inserts a batch while its checks still run (ingest.ts): a batch that fails a check
  // late, after its records went in, must leave nothing behind.
  it('rolls back a batch whose checks fail after its records were inserted, then stores the genuine one', async () => {
    const box = await enrolledBox('box-pg-late');
    const signer = { boxId: box.boxId, privateKeyHex: box.keys.privateKeyHex };
    const [genuine] = chainedBatches(box, bankKeys.publicKeyHex, [600]);
    if (!genuine) throw new Error('no batch');
    const lastRecordAltered = resign(box, genuine.body, (batch) => {
      const r = batch.records[599];
      if (r) r.amountFen = 1; // its hash no longer matches: found at the end of the chain walk
    });
    const sealAltered = resign(box, genuine.body, (batch) => {
      const r = batch.records.findLast((x) => x.pii !== null);
      if (r?.pii) r.pii.ciphertext = `${'00'.repeat(16)}${r.pii.ciphertext.slice(32)}`;
    });
    const digestLies = { body: genuine.body, digest: lastRecordAltered.digest };
    const refusals: Array<[{ body: Buffer; digest: string }, number, string]> = [
      [lastRecordAltered, 422, 'BANK_BATCH_CHAIN'],
      [sealAltered, 422, 'BANK_BATCH_PII_DIGEST'],
      [digestLies, 401, 'BANK_SIGNATURE_INVALID'],
    ];
    for (const [batch, status, code] of refusals) {
      const res = await postBatch(replicas[0]?.url ?? '', signer, batch);
      expect(res.status).toBe(status);
      expect((JSON.parse(res.body.toString()) as { code: string }).code).toBe(code);
      expect(await admin.recordCount(box.boxId)).toBe(0);
      expect((await admin.getBox(box.boxId))?.headSeq).toBe(0);
    }
    const res = await postBatch(replicas[1]?.url ?? '', signer, genuine);
    expect(res.status).toBe(200);
    expect(await admin.recordCount(box.boxId)).toBe(600);
    expect((await admin.getBox(box.boxId))?.headSeq).toBe(600);
  });

  // A batch's transaction holds its connection while the checks run: the checks must never wait for a
  // connection themselves, or a bank busier than its pool would wait on itself forever.
  it('serves more concurrent batches than it has database connections', async () => {
    const store = new PgBankStore({ url: PG_URL, schema, poolSize: 2 });
    const small = await startBankServer({
      store,
      bankPrivateKeyHex: bankKeys.privateKeyHex,
      ratePerSec: 1000,
      burst: 1000,
      logLevel: 'silent',
    });
    try {
      const boxes = await Promise.all(Array.from({ length: 6 }, (_, i) => enrolledBox(`box-pool-${i}`)));
      const posts = boxes.flatMap((box) => {
        const [batch] = chainedBatches(box, bankKeys.publicKeyHex, [300]);
        if (!batch) throw new Error('no batch');
        const signer = { boxId: box.boxId, privateKeyHex: box.keys.privateKeyHex };
        return [0, 1, 2].map(() => postBatch(small.url, signer, batch));
      });
      const results = await Promise.all(posts);
      expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
      for (const box of boxes) expect(await admin.recordCount(box.boxId)).toBe(300);
    } finally {
      await small.close();
    }
  }, 30_000);
});
