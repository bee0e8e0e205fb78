import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAck } from '../batch/ack-v1.ts';
import { openBatchKey, personalDataFromPlaintext, piiDigestOf } from '../batch/batch-pii.ts';
import { parseBatchEnvelope } from '../batch/batch-v1.ts';
import { newRequestNonce } from '../batch/request-auth.ts';
import { chainFieldsOf, chainHash } from '../chain/record-chain.ts';
import { generateSm2KeyPair } from '../crypto/sm2.ts';
import { sm4CbcDecrypt } from '../crypto/sm4.ts';
import { type BankServer, startBankServer } from './server.ts';
import { SqliteBankStore } from './sqlite-store.ts';
import { chainedBatches, newTestBox, postBatch, resign, type TestBox } from './test-support/box-kit.ts';

const bankKeys = generateSm2KeyPair();
let dir: string;
let bank: BankServer;
let box: TestBox;

async function start(extra: Partial<Parameters<typeof startBankServer>[0]> = {}): Promise<void> {
  bank = await startBankServer({
    dbPath: join(dir, 'bank.db'),
    bankPrivateKeyHex: bankKeys.privateKeyHex,
    logLevel: 'silent',
    ...extra,
  });
}

function code(res: { body: Buffer }): string {
  return (JSON.parse(res.body.toString()) as { code: string }).code;
}

const signer = () => ({ boxId: box.boxId, privateKeyHex: box.keys.privateKeyHex });

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sceneway-bank-'));
  box = newTestBox('box-a');
  await start();
  const res = await fetch(`${bank.url}/v1/enrol`, { method: 'POST', body: JSON.stringify(box.enrolment) });
  expect(res.status).toBe(401); // the enrol endpoint is off without an admin token
  await bank.store.enrolBox({
    boxId: box.boxId,
    siteId: 'site-a',
    publicKeyHex: box.keys.publicKeyHex,
    enrolledAt: new Date().toISOString(),
  });
});

afterEach(async () => {
  await bank.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('POST /v1/batches', () => {
  it('stores a valid batch and answers with an ack signed by the bank key', async () => {
    const [b1, b2] = chainedBatches(box, bankKeys.publicKeyHex, [3, 2]);
    for (const b of [b1, b2]) {
      if (!b) throw new Error('no batch');
      const res = await postBatch(bank.url, signer(), b);
      expect(res.status).toBe(200);
      const ack = verifyAck(res.body, bankKeys.publicKeyHex, {
        boxId: box.boxId,
        batchSeq: b.batchSeq,
        digest: b.digest,
        requestNonce: res.nonce,
      });
      expect(ack.status).toBe('stored');
      expect(ack.lastSeq).toBe(b.lastSeq);
    }
    expect(await bank.store.recordCount(box.boxId)).toBe(5);
    const status = (await (await fetch(`${bank.url}/api/status`)).json()) as {
      boxes: Array<{ boxId: string; headSeq: number; lastBatch: { batchSeq: number } }>;
    };
    expect(status.boxes[0]).toMatchObject({ boxId: 'box-a', headSeq: 5, lastBatch: { batchSeq: 2 } });
    const metrics = await (await fetch(`${bank.url}/metrics`)).text();
    expect(metrics).toContain('sceneway_bank_batches_total{outcome="stored"} 2');
    expect(metrics).toContain('sceneway_bank_records_stored_total 5');
    expect((await fetch(`${bank.url}/healthz`)).status).toBe(200);
  });

  it('stores personal data only sealed, with the batch key envelope once per batch, and it opens', async () => {
    const [b1] = chainedBatches(box, bankKeys.publicKeyHex, [3]);
    if (!b1) throw new Error('no batch');
    expect((await postBatch(bank.url, signer(), b1)).status).toBe(200);
    const db = new Database(join(dir, 'bank.db'), { readonly: true });
    const rows = db
      .prepare(
        `SELECT r.seq, r.pii_encrypted, b.key_envelope FROM records r
         JOIN batches b ON b.box_id = r.box_id AND b.batch_seq = r.batch_seq ORDER BY r.seq`,
      )
      .all() as Array<{ seq: number; pii_encrypted: string | null; key_envelope: string }>;
    db.close();
    const sealed = rows.filter((r) => r.pii_encrypted !== null);
    expect(sealed.length).toBeGreaterThan(0);
    for (const row of sealed) {
      const seal = JSON.parse(row.pii_encrypted ?? '') as {
        iv: string;
        ciphertext: string;
        piiDigest: string;
      };
      expect(Object.keys(seal).sort()).toEqual(['ciphertext', 'iv', 'piiDigest']);
      const key = openBatchKey(row.key_envelope, bankKeys.privateKeyHex);
      const plain = sm4CbcDecrypt(key, Buffer.from(seal.iv, 'hex'), Buffer.from(seal.ciphertext, 'hex'));
      const { salt, pii } = personalDataFromPlaintext(plain, `record ${row.seq}`);
      expect(piiDigestOf(salt, pii)).toBe(seal.piiDigest);
    }
  });

  it('adds the key envelope column to a bank created before it existed', async () => {
    const oldPath = join(dir, 'old-bank.db');
    const old = new Database(oldPath);
    old.exec(`CREATE TABLE batches (box_id TEXT NOT NULL, batch_seq INTEGER NOT NULL, digest TEXT NOT NULL,
      first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, received_at TEXT NOT NULL, PRIMARY KEY (box_id, batch_seq))`);
    old.close();
    const store = new SqliteBankStore(oldPath);
    await store.init();
    await store.init(); // and a second start leaves it alone
    await store.close();
    const reopened = new Database(oldPath, { readonly: true });
    const columns = (reopened.pragma('table_info(batches)') as Array<{ name: string }>).map((c) => c.name);
    reopened.close();
    expect(columns).toContain('key_envelope');
  });

  it('re-acks a resent batch as duplicate and stores nothing twice', async () => {
    const [b1] = chainedBatches(box, bankKeys.publicKeyHex, [4]);
    if (!b1) throw new Error('no batch');
    expect((await postBatch(bank.url, signer(), b1)).status).toBe(200);
    const again = await postBatch(bank.url, signer(), b1);
    expect(again.status).toBe(200);
    const ack = verifyAck(again.body, bankKeys.publicKeyHex, {
      boxId: box.boxId,
      batchSeq: 1,
      digest: b1.digest,
    });
    expect(ack.status).toBe('duplicate');
    expect(await bank.store.recordCount()).toBe(4);
  });

  it('refuses the same batchSeq with different content and raises a tamper alert', async () => {
    const [b1] = chainedBatches(box, bankKeys.publicKeyHex, [3]);
    const [other] = chainedBatches(box, bankKeys.publicKeyHex, [2]);
    if (!b1 || !other) throw new Error('no batch');
    expect((await postBatch(bank.url, signer(), b1)).status).toBe(200);
    const res = await postBatch(bank.url, signer(), other);
    expect(res.status).toBe(409);
    expect(code(res)).toBe('BANK_BATCH_CONFLICT');
    const alerts = await bank.store.alerts();
    expect(alerts.map((a) => a.kind)).toContain('BANK_BATCH_CONFLICT');
    expect(await bank.store.recordCount()).toBe(3);
  });

  it('refuses a tampered record even when the batch is re-signed', async () => {
    const [b1] = chainedBatches(box, bankKeys.publicKeyHex, [3]);
    if (!b1) throw new Error('no batch');
    const tampered = resign(box, b1.body, (batch) => {
      const r = batch.records[1];
      if (r) r.amountFen = 1; // hash no longer matches the record
    });
    const res = await postBatch(bank.url, signer(), tampered);
    expect(res.status).toBe(422);
    expect(code(res)).toBe('BANK_BATCH_CHAIN');
    expect(await bank.store.recordCount()).toBe(0);
  });

  it('refuses a record altered in transit (digest/signature no longer match)', async () => {
    const [b1] = chainedBatches(box, bankKeys.publicKeyHex, [2]);
    if (!b1) throw new Error('no batch');
    const text = b1.body.toString().replace('"amountFen":1250', '"amountFen":12500');
    const res = await postBatch(bank.url, signer(), { body: Buffer.from(text), digest: b1.digest });
    expect(res.status).toBe(400);
    expect(code(res)).toBe('BANK_BATCH_DIGEST');
  });

  it('refuses a reordered batch (3 before 2) with BANK_CHAIN_BROKEN, then accepts them in order', async () => {
    const [b1, b2, b3] = chainedBatches(box, bankKeys.publicKeyHex, [2, 2, 2]);
    if (!b1 || !b2 || !b3) throw new Error('no batch');
    expect((await postBatch(bank.url, signer(), b1)).status).toBe(200);
    const early = await postBatch(bank.url, signer(), b3);
    expect(early.status).toBe(409);
    expect(code(early)).toBe('BANK_CHAIN_BROKEN');
    expect((await postBatch(bank.url, signer(), b2)).status).toBe(200);
    expect((await postBatch(bank.url, signer(), b3)).status).toBe(200);
    expect(await bank.store.recordCount()).toBe(6);
  });

  it('refuses a batch that skips sequence numbers with BANK_SEQUENCE_GAP', async () => {
    const [b1] = chainedBatches(box, bankKeys.publicKeyHex, [2]);
    if (!b1) throw new Error('no batch');
    expect((await postBatch(bank.url, signer(), b1)).status).toBe(200);
    const head = parseBatchEnvelope(b1.body).body.header.newChainHead;
    // One record, seq 5, chained straight from the head of record 2: seqs 3 and 4 are missing.
    const skipping = resign(box, b1.body, (batch) => {
      const r = batch.records[0];
      if (!r) return;
      r.seq = 5;
      r.prevHash = head;
      r.hash = chainHash(chainFieldsOf(r));
      batch.records = [r];
      batch.header = {
        ...batch.header,
        batchSeq: 2,
        firstSeq: 5,
        lastSeq: 5,
        recordCount: 1,
        prevChainHead: head,
        newChainHead: r.hash,
        totalsFen: r.amountFen === null ? {} : { [r.kind]: r.amountFen },
      };
    });
    const res = await postBatch(bank.url, signer(), skipping);
    expect(res.status).toBe(409);
    expect(code(res)).toBe('BANK_SEQUENCE_GAP');
  });

  it('refuses a batch signed by a key that is not enrolled', async () => {
    const impostor = newTestBox('box-a');
    const [b1] = chainedBatches(impostor, bankKeys.publicKeyHex, [2]);
    if (!b1) throw new Error('no batch');
    const res = await postBatch(bank.url, { boxId: 'box-a', privateKeyHex: impostor.keys.privateKeyHex }, b1);
    expect(res.status).toBe(401);
    expect(code(res)).toBe('BANK_SIGNATURE_INVALID');
    const stranger = newTestBox('box-z');
    const [z1] = chainedBatches(stranger, bankKeys.publicKeyHex, [1]);
    if (!z1) throw new Error('no batch');
    const res2 = await postBatch(
      bank.url,
      { boxId: 'box-z', privateKeyHex: stranger.keys.privateKeyHex },
      z1,
    );
    expect(res2.status).toBe(403);
    expect(code(res2)).toBe('BANK_BOX_NOT_ENROLLED');
  });

  it('refuses a replayed nonce and a stale timestamp', async () => {
    const [b1, b2] = chainedBatches(box, bankKeys.publicKeyHex, [1, 1]);
    if (!b1 || !b2) throw new Error('no batch');
    const nonce = newRequestNonce();
    expect((await postBatch(bank.url, signer(), b1, { nonce })).status).toBe(200);
    const replay = await postBatch(bank.url, signer(), b2, { nonce });
    expect(replay.status).toBe(409);
    expect(code(replay)).toBe('BANK_NONCE_REPLAYED');
    const stale = await postBatch(bank.url, signer(), b2, { now: new Date(Date.now() - 6 * 60_000) });
    expect(stale.status).toBe(401);
    expect(code(stale)).toBe('BANK_REQUEST_STALE');
    expect((await postBatch(bank.url, signer(), b2)).status).toBe(200);
  });

  it('rate-limits a box with 429 and Retry-After', async () => {
    await bank.close();
    await start({ ratePerSec: 0.01, burst: 2 });
    await bank.store.enrolBox({
      boxId: box.boxId,
      siteId: 's',
      publicKeyHex: box.keys.publicKeyHex,
      enrolledAt: new Date().toISOString(),
    });
    const [b1] = chainedBatches(box, bankKeys.publicKeyHex, [1]);
    if (!b1) throw new Error('no batch');
    expect((await postBatch(bank.url, signer(), b1)).status).toBe(200);
    expect((await postBatch(bank.url, signer(), b1)).status).toBe(200);
    const limited = await postBatch(bank.url, signer(), b1);
    expect(limited.status).toBe(429);
    expect(code(limited)).toBe('BANK_RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('refuses an oversized body with 413 before any other check', async () => {
    await bank.close();
    await start({ maxBodyBytes: 1024 });
    const [b1] = chainedBatches(box, bankKeys.publicKeyHex, [5]);
    if (!b1) throw new Error('no batch');
    const res = await postBatch(bank.url, signer(), b1);
    expect(res.status).toBe(413);
    expect(code(res)).toBe('BANK_BODY_TOO_LARGE');
  });

  it('enrols over POST /v1/enrol with the admin token', async () => {
    await bank.close();
    await start({ adminToken: 'demo-token' });
    const other = newTestBox('box-b');
    const res = await fetch(`${bank.url}/v1/enrol`, {
      method: 'POST',
      headers: { authorization: 'Bearer demo-token' },
      body: JSON.stringify(other.enrolment),
    });
    expect(res.status).toBe(200);
    expect((await bank.store.getBox('box-b'))?.publicKeyHex).toBe(other.keys.publicKeyHex);
    const [b1] = chainedBatches(other, bankKeys.publicKeyHex, [2]);
    if (!b1) throw new Error('no batch');
    expect(
      (await postBatch(bank.url, { boxId: 'box-b', privateKeyHex: other.keys.privateKeyHex }, b1)).status,
    ).toBe(200);
  });
});
