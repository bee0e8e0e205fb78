import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSm2KeyPair, type Sm2KeyPair, sm2Sign } from '../crypto/sm2.ts';
import { sm3Hex } from '../crypto/sm3.ts';
import { SyncError } from '../sync-error.ts';
import {
  BATCH_FORMAT,
  type BatchBody,
  type BatchEnvelope,
  batchBodySchema,
  batchEnvelopeSchema,
  batchHeaderSchema,
  batchRecordSchema,
  piiSealSchema,
} from './batch-schema.ts';
import {
  buildBatch,
  checkBatchInternals,
  openPersonalData,
  parseBatchEnvelope,
  verifyBatchSignature,
} from './batch-v1.ts';
import { canonicalBytes } from './jcs.ts';
import { type SampleChain, sampleChain } from './test-support/sample-records.ts';

let box: Sm2KeyPair;
let bank: Sm2KeyPair;
let chain: SampleChain;
const CREATED_AT = '2026-03-02T03:30:00.000Z';

beforeAll(() => {
  box = generateSm2KeyPair();
  bank = generateSm2KeyPair();
  chain = sampleChain({
    boxId: 'box-0001',
    firstSeq: 41,
    prevChainHead: sm3Hex('record 40'),
    salt: () => 'a5'.repeat(16),
  });
});

function build(over: Partial<Parameters<typeof buildBatch>[0]> = {}) {
  return buildBatch(
    { boxId: 'box-0001', batchSeq: 7, createdAt: CREATED_AT, ...chain, ...over },
    { boxPrivateKeyHex: box.privateKeyHex, bankPublicKeyHex: bank.publicKeyHex },
  );
}

/** A box (or attacker holding the box key) that signs whatever body it likes. */
function resign(batch: BatchBody): Buffer {
  const canonical = canonicalBytes(batch);
  const envelope: BatchEnvelope = {
    format: BATCH_FORMAT,
    batch,
    digest: sm3Hex(canonical),
    signature: sm2Sign(canonical, box.privateKeyHex).toString('hex'),
  };
  return canonicalBytes(envelope);
}

function bodyOf(bytes: Buffer): BatchBody {
  return (JSON.parse(bytes.toString()) as BatchEnvelope).batch;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof SyncError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('batch v1: build, parse, verify, open', () => {
  it('round-trips: signature verifies, internals hold, PII opens to the chained digests', () => {
    const built = build();
    const parsed = parseBatchEnvelope(built.body);
    expect(parsed.digest).toBe(built.digest);
    expect(parsed.canonical.equals(canonicalBytes(bodyOf(built.body)))).toBe(true);
    expect(verifyBatchSignature(parsed, box.publicKeyHex)).toBe(true);
    expect(verifyBatchSignature(parsed, bank.publicKeyHex)).toBe(false);
    expect(verifyBatchSignature(parsed, box.publicKeyHex, 'ALICE123@YAHOO.COM')).toBe(false);
    checkBatchInternals(parsed);
    expect(built.header).toEqual({
      formatVersion: 1,
      boxId: 'box-0001',
      batchSeq: 7,
      firstSeq: 41,
      lastSeq: 45,
      prevChainHead: sm3Hex('record 40'),
      newChainHead: chain.records[4]?.hash,
      recordCount: 5,
      totalsFen: { sale: 2050, void: -1250 },
      createdAt: CREATED_AT,
    });
    const pii = openPersonalData(parsed, bank.privateKeyHex);
    expect([...pii.keys()]).toEqual([41, 43]);
    expect(pii.get(41)).toEqual({ cardNumber: '6222020200112233445' });
    expect(pii.get(43)).toEqual({ idNumber: '110101199003071234', phone: '13800138000' });
  });

  it('refuses to build or read a batch with a lone surrogate (RFC 8785 §3.2.2.2), with BATCH_LONE_SURROGATE', () => {
    const [first, ...rest] = chain.records;
    if (!first) throw new Error('sample chain is empty');
    const bad = { ...first, payload: { ...first.payload, note: 'x\ud800y' } };
    expect(codeOf(() => build({ records: [bad, ...rest] }))).toBe('BATCH_LONE_SURROGATE');
    // What a box before this check sent: the escape in the JSON text. The bank refuses it by name
    // (BANK_BATCH_LONE_SURROGATE) instead of storing a batch no RFC 8785 bank could verify.
    const text = build().body.toString('utf8');
    const at = text.indexOf('"payload":{') + '"payload":{'.length;
    const sent = Buffer.from(`${text.slice(0, at)}"note":"x\\ud800y",${text.slice(at)}`);
    expect(codeOf(() => parseBatchEnvelope(sent))).toBe('BATCH_LONE_SURROGATE');
  });

  it('sends only canonical bytes and never personal data in clear', () => {
    const built = build();
    expect(built.body.equals(canonicalBytes(JSON.parse(built.body.toString())))).toBe(true);
    const text = built.body.toString();
    expect(text).not.toContain('6222020200112233445');
    expect(text).not.toContain('110101199003071234');
    expect(text).not.toContain('13800138000');
  });

  it('copies only chained fields of stored rows', () => {
    const rows = chain.records.map((r) => ({ ...r, syncedAt: null, rowid: r.seq }));
    const built = build({ records: rows });
    expect(Object.keys(bodyOf(built.body).records[0] ?? {}).sort()).toEqual(
      [
        'amountFen',
        'boxId',
        'clockOffsetMs',
        'hash',
        'kind',
        'payload',
        'pii',
        'piiDigest',
        'prevHash',
        'recordedAt',
        'seq',
        'terminalId',
      ].sort(),
    );
  });

  it('gives each batch a fresh key and each record a fresh IV', () => {
    const a = bodyOf(build().body);
    const b = bodyOf(build().body);
    expect(a.keyEnvelope).not.toBe(b.keyEnvelope);
    expect(a.records[0]?.pii?.iv).not.toBe(b.records[0]?.pii?.iv);
    expect(a.records[0]?.pii?.iv).not.toBe(a.records[2]?.pii?.iv);
  });
});

describe('batch v1: schemas', () => {
  it('list every member in JCS order, so a parsed batch is already canonical and JCS copies nothing', () => {
    for (const schema of [
      piiSealSchema,
      batchRecordSchema,
      batchHeaderSchema,
      batchBodySchema,
      batchEnvelopeSchema,
    ]) {
      const keys = Object.keys(schema.shape);
      expect(keys).toEqual([...keys].sort());
    }
  });
});

describe('batch v1: refusals', () => {
  it('detects any change to the signed bytes', () => {
    const batch = bodyOf(build().body);
    const env = JSON.parse(build().body.toString()) as BatchEnvelope;
    const first = env.batch.records[1];
    if (first) first.amountFen = 1;
    // Digest not updated: refused before any signature work.
    expect(codeOf(() => parseBatchEnvelope(canonicalBytes(env)))).toBe('BATCH_DIGEST');
    // Digest updated too: the signature no longer verifies.
    env.digest = sm3Hex(canonicalBytes(env.batch));
    expect(verifyBatchSignature(parseBatchEnvelope(canonicalBytes(env)), box.publicKeyHex)).toBe(false);
    expect(batch.records[1]?.amountFen).toBe(800);
  });

  it('names the field of a malformed envelope', () => {
    expect(codeOf(() => parseBatchEnvelope(Buffer.from('{not json')))).toBe('BATCH_MALFORMED');
    const env = JSON.parse(build().body.toString()) as { batch: { records: Array<Record<string, unknown>> } };
    const rec = env.batch.records[3];
    if (rec) rec.amountFen = 12.5;
    expect(() => parseBatchEnvelope(Buffer.from(JSON.stringify(env)))).toThrowError(
      /batch\.records\[3\]\.amountFen/,
    );
    if (rec) {
      rec.amountFen = 12;
      rec.extra = 'x';
    }
    expect(() => parseBatchEnvelope(Buffer.from(JSON.stringify(env)))).toThrowError(/batch\.records\[3\]/);
  });

  it('maps each internal inconsistency to its code, even when validly signed', () => {
    const check = (mutate: (b: BatchBody) => void) => {
      const b = bodyOf(build().body);
      mutate(b);
      return codeOf(() => checkBatchInternals(parseBatchEnvelope(resign(b))));
    };
    expect(check((b) => (b.header.recordCount = 4))).toBe('BATCH_COUNT');
    expect(
      check((b) => {
        b.records.splice(2, 1);
        b.header.recordCount = 4;
        b.header.lastSeq = 44;
      }),
    ).toBe('BATCH_SEQ_GAP');
    expect(check((b) => (b.header.firstSeq = 40))).toBe('BATCH_SEQ_GAP');
    expect(check((b) => (b.header.prevChainHead = sm3Hex('elsewhere')))).toBe('BATCH_CHAIN');
    expect(check((b) => (b.header.newChainHead = sm3Hex('elsewhere')))).toBe('BATCH_CHAIN');
    expect(
      check((b) => {
        const r = b.records[2];
        if (r) r.payload = { direction: 'out' };
      }),
    ).toBe('BATCH_CHAIN');
    expect(check((b) => (b.header.totalsFen = { sale: 2050 }))).toBe('BATCH_TOTALS');
    expect(check((b) => (b.header.totalsFen = { sale: 2050, void: -1250, alert: 0 }))).toBe('BATCH_TOTALS');
    expect(
      check((b) => {
        const r = b.records[0];
        if (r) r.boxId = 'box-0002';
      }),
    ).toBe('BATCH_BOX');
  });

  it('refuses personal data that does not match its digest, and a wrong bank key', () => {
    const parsed = parseBatchEnvelope(build().body);
    expect(codeOf(() => openPersonalData(parsed, generateSm2KeyPair().privateKeyHex))).toBe(
      'BATCH_KEY_ENVELOPE',
    );
    const b = bodyOf(build().body);
    const [r41, , r43] = b.records;
    if (r41 && r43) [r41.pii, r43.pii] = [r43.pii, r41.pii];
    expect(codeOf(() => openPersonalData(parseBatchEnvelope(resign(b)), bank.privateKeyHex))).toBe(
      'BATCH_PII_DIGEST',
    );
    const c = bodyOf(build().body);
    if (c.records[1]) c.records[1].pii = c.records[0]?.pii ?? null;
    expect(codeOf(() => openPersonalData(parseBatchEnvelope(resign(c)), bank.privateKeyHex))).toBe(
      'BATCH_PII_DIGEST',
    );
  });

  it('refuses to build a batch the bank would refuse', () => {
    const wrongPii = new Map(chain.personalData);
    wrongPii.set(41, { salt: 'a5'.repeat(16), pii: { cardNumber: '6222020200112233446' } });
    expect(codeOf(() => build({ personalData: wrongPii }))).toBe('BATCH_PII_DIGEST');
    const missing = new Map(chain.personalData);
    missing.delete(43);
    expect(codeOf(() => build({ personalData: missing }))).toBe('BATCH_PII_DIGEST');
    expect(codeOf(() => build({ prevChainHead: sm3Hex('fork') }))).toBe('BATCH_CHAIN');
    expect(codeOf(() => build({ records: [] }))).toBe('BATCH_COUNT');
  });

  it('refuses floats and deep nesting in payloads, at build time and at parse time', () => {
    const withFloat = chain.records.map((r, i) => (i === 1 ? { ...r, payload: { temperature: 36.6 } } : r));
    expect(codeOf(() => build({ records: withFloat }))).toBe('BATCH_MALFORMED');
    const env = JSON.parse(build().body.toString()) as { batch: { records: Array<{ payload: unknown }> } };
    let deep: unknown = 1;
    for (let i = 0; i < 20; i++) deep = [deep];
    if (env.batch.records[0]) env.batch.records[0].payload = { deep };
    expect(() => parseBatchEnvelope(Buffer.from(JSON.stringify(env)))).toThrowError(
      /batch\.records\[0\]\.payload/,
    );
    const bomb = `{"format":"sceneway.batch.v1","batch":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    expect(codeOf(() => parseBatchEnvelope(Buffer.from(bomb)))).toBe('BATCH_MALFORMED');
  });

  it('throws nothing but SyncError on junk', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.json().map((j) => Buffer.from(j)),
        ),
        (bytes) => {
          expect(() => parseBatchEnvelope(bytes)).toThrowError(SyncError);
        },
      ),
      { numRuns: 300 },
    );
  });
});
