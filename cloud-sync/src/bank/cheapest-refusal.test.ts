import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requestHeaders } from '../batch/request-auth.ts';
import { generateSm2KeyPair } from '../crypto/sm2.ts';
import { type BankServer, startBankServer } from './server.ts';
import { chainedBatches, newTestBox, postBatch, type TestBox } from './test-support/box-kit.ts';
import { postFrom, uploadUntilClosed } from './test-support/raw-http.ts';

/**
 * DESIGN invariant 8, issue #11 "Bank ingest": every attack from the issue, against the real bank on
 * an ephemeral loopback port. Bounded in count; nothing here waits on a clock.
 */
const bankKeys = generateSm2KeyPair();
const MiB = 1024 * 1024;
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

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sceneway-bank-gate-'));
  box = newTestBox('box-a');
  await start();
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

const codeOf = (res: { body: Buffer }) => (JSON.parse(res.body.toString()) as { code: string }).code;

/**
 * ~8 MiB that frames like a v1 envelope around junk records (the shape that made the old bank parse
 * and zod-check everything), with a digest and a signature that are well formed but belong to nothing.
 */
function junkEnvelope(bytes: number): Buffer {
  const record = '{"amountFen":1.5,"boxId":"x","kind":"sale","payload":{"a":[1,2,3]},"seq":-1},';
  const head = '{"batch":{"header":{},"keyEnvelope":"00","records":[';
  const tail = `{}]},"digest":"${'ab'.repeat(32)}","format":"sceneway.batch.v1","signature":"${'30'.repeat(70)}"}`;
  const n = Math.floor((bytes - head.length - tail.length) / record.length);
  return Buffer.from(head + record.repeat(n) + tail);
}

/** Well-formed request headers for `boxId`, signed by a key that is not the box's. */
function strangerHeaders(boxId: string, digest = 'ab'.repeat(32)): Record<string, string> {
  return {
    ...requestHeaders({ boxId, digest, now: new Date() }, generateSm2KeyPair().privateKeyHex),
    'content-type': 'application/json',
  };
}

/**
 * The heap V8 holds (committed, not just live): parsing a junk batch makes V8 grow it by far more than
 * the body, and it does not give it back at once, so a refusal that parsed shows here even after the
 * garbage was collected.
 */
function heapHeld(): number {
  return getHeapStatistics().total_heap_size;
}

describe('cheapest refusal first (DESIGN invariant 8)', () => {
  it('refuses an unauthenticated 8 MiB junk batch without reading or parsing it', async () => {
    const junk = junkEnvelope(8 * MiB - 4096);
    const before = heapHeld();
    const res = await postFrom(bank.url, '/v1/batches', strangerHeaders('nobody'), junk);
    expect(res.status).toBe(403);
    expect(codeOf(res)).toBe('BANK_BOX_NOT_ENROLLED');
    expect(bank.metrics.value('sceneway_bank_batches_parsed_total')).toBe(0);
    // Parsing it took the old bank's heap by hundreds of MiB; refused unread, it costs nothing.
    expect(heapHeld() - before).toBeLessThan(8 * MiB);
  });

  it('refuses an 8 MiB junk batch naming an enrolled box with a bad signature, unparsed', async () => {
    const junk = junkEnvelope(8 * MiB - 4096);
    const before = heapHeld();
    const res = await postFrom(bank.url, '/v1/batches', strangerHeaders(box.boxId), junk);
    expect(res.status).toBe(401);
    expect(codeOf(res)).toBe('BANK_SIGNATURE_INVALID');
    expect(bank.metrics.value('sceneway_bank_batches_parsed_total')).toBe(0);
    expect(heapHeld() - before).toBeLessThan(8 * MiB);
    // Nothing of the box's was spent: no nonce row, no rate bucket.
    expect(bank.rateBuckets().box).toBe(0);
  });

  it('refuses 8 MiB that is not an envelope at all, from an enrolled box, unparsed', async () => {
    const junk = Buffer.alloc(8 * MiB - 4096, '[');
    const res = await postFrom(bank.url, '/v1/batches', strangerHeaders(box.boxId), junk);
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('BANK_BATCH_MALFORMED');
    expect(bank.metrics.value('sceneway_bank_batches_parsed_total')).toBe(0);
  });

  it('refuses a batch with more records than the bank reads, naming the limit', async () => {
    await bank.close();
    await start({ maxRecords: 3 });
    const [b] = chainedBatches(box, bankKeys.publicKeyHex, [4]);
    if (!b) throw new Error('no batch');
    const res = await postBatch(bank.url, { boxId: box.boxId, privateKeyHex: box.keys.privateKeyHex }, b);
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('BANK_BATCH_COUNT');
    expect(res.body.toString()).toContain('at most 3');
  });

  it('a stranger naming the victim box 300 times neither delays nor refuses its batch', async () => {
    await bank.close();
    await start({ sourceRatePerSec: 10, sourceBurst: 100 }); // so 300 requests outrun the source bucket
    const small = junkEnvelope(2048);
    const codes = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const res = await postFrom(bank.url, '/v1/batches', strangerHeaders(box.boxId), small, '127.0.0.2');
      codes.set(codeOf(res), (codes.get(codeOf(res)) ?? 0) + 1);
    }
    // Refused as a stranger (bad signature), then by its own source address's bucket, never the box's.
    expect(codes.get('BANK_SIGNATURE_INVALID')).toBeGreaterThan(0);
    expect(codes.get('BANK_SOURCE_RATE_LIMITED')).toBeGreaterThan(0);
    expect(codes.has('BANK_RATE_LIMITED')).toBe(false);
    expect(codes.has('BANK_NONCE_REPLAYED')).toBe(false);
    const [b] = chainedBatches(box, bankKeys.publicKeyHex, [2]);
    if (!b) throw new Error('no batch');
    const res = await postBatch(bank.url, { boxId: box.boxId, privateKeyHex: box.keys.privateKeyHex }, b);
    expect(res.status).toBe(200);
    const db = new Database(join(dir, 'bank.db'), { readonly: true });
    try {
      // Only the real box's one nonce was stored.
      expect(db.prepare('SELECT count(*) AS n FROM nonces').get()).toEqual({ n: 1 });
    } finally {
      db.close();
    }
  });

  it('refuses malformed and oversized nonces before storing them', async () => {
    const headers = strangerHeaders(box.boxId);
    for (const nonce of ['x'.repeat(64 * 1024), 'ABCDEF0123456789ABCDEF0123456789', '0'.repeat(31)]) {
      const res = await postFrom(
        bank.url,
        '/v1/batches',
        { ...headers, 'x-sceneway-nonce': nonce },
        Buffer.from('{}'),
      );
      expect(res.status).toBe(nonce.length > 16 * 1024 ? 431 : 400);
      if (res.status === 400) expect(codeOf(res)).toBe('BANK_REQUEST_MALFORMED');
    }
  });

  it('rotating box ids grows no per-box bucket, and the source buckets stay bounded', async () => {
    for (let i = 0; i < 300; i++) {
      await postFrom(
        bank.url,
        '/v1/batches',
        strangerHeaders(`box-${randomBytes(6).toString('hex')}`),
        Buffer.from('{}'),
      );
    }
    expect(bank.rateBuckets().box).toBe(0);
    expect(bank.rateBuckets().source).toBe(1);
  });

  it('closes the connection after a 413 and reads far less than the declared body', async () => {
    const declared = 256 * MiB;
    const { answer, bodyBytesWritten } = await uploadUntilClosed(bank.url, '/v1/batches', declared);
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(answer).toContain('BANK_BODY_TOO_LARGE');
    expect(answer.toLowerCase()).toContain('connection: close');
    // What the socket took is what the kernel buffers hold, not the declared body.
    expect(bodyBytesWritten).toBeLessThan(declared / 8);
  });
});
