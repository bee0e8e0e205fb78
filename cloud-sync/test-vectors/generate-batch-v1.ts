/**
 * Generates test-vectors/batch-v1.json once. SM2 signatures and ciphertexts are randomised, so the
 * vector is not reproducible byte for byte; batch-v1.test.ts instead proves that the stored bytes
 * are canonical, that the stored signature verifies (ours and openssl), and that the personal data
 * opens to the chained digests. Re-run only when the format changes: `npx tsx
 * cloud-sync/test-vectors/generate-batch-v1.ts --force`.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildAck } from '../src/batch/ack-v1.ts';
import { openBatchKey } from '../src/batch/batch-pii.ts';
import type { BatchEnvelope } from '../src/batch/batch-schema.ts';
import { buildBatch, parseBatchEnvelope } from '../src/batch/batch-v1.ts';
import { requestHeaders } from '../src/batch/request-auth.ts';
import { sampleChain } from '../src/batch/test-support/sample-records.ts';
import { generateSm2KeyPair, SM2_DEFAULT_USER_ID } from '../src/crypto/sm2.ts';
import { sm2PrivateKeyToPem, sm2PublicKeyToPem } from '../src/crypto/sm2-keys.ts';

export const VECTOR_PATH = fileURLToPath(new URL('./batch-v1.json', import.meta.url));
export const VECTOR_BOX_ID = 'box-demo-0001';
export const VECTOR_FIRST_SEQ = 1;
/** Fixed salts so the records (and their chain hashes) can be rebuilt from sample-records.ts. */
export const vectorSalt = (seq: number): string => seq.toString(16).padStart(2, '0').repeat(16);

function generate(): unknown {
  const box = generateSm2KeyPair();
  const bank = generateSm2KeyPair();
  const chain = sampleChain({ boxId: VECTOR_BOX_ID, firstSeq: VECTOR_FIRST_SEQ, salt: vectorSalt });
  const built = buildBatch(
    { boxId: VECTOR_BOX_ID, batchSeq: 1, createdAt: '2026-03-02T03:30:00.000Z', ...chain },
    { boxPrivateKeyHex: box.privateKeyHex, bankPublicKeyHex: bank.publicKeyHex, userId: SM2_DEFAULT_USER_ID },
  );
  const parsed = parseBatchEnvelope(built.body);
  const envelope = JSON.parse(built.body.toString('utf8')) as BatchEnvelope;
  const now = new Date('2026-03-02T03:30:02.000Z');
  const headers = requestHeaders({ boxId: VECTOR_BOX_ID, digest: built.digest, now, nonce: '5ce4e3a10000000000000000000000a1' }, box.privateKeyHex);
  const ack = buildAck(
    {
      boxId: VECTOR_BOX_ID,
      batchSeq: 1,
      lastSeq: built.header.lastSeq,
      digest: built.digest,
      status: 'stored',
      ackedAt: '2026-03-02T03:30:02.480Z',
      requestNonce: '5ce4e3a10000000000000000000000a1',
    },
    bank.privateKeyHex,
  );
  return {
    description:
      'Sceneway batch format v1 test vector (docs/batch-format.md). Keys are throwaway test keys. SM2 is randomised: verify, do not compare signatures.',
    format: 'sceneway.batch.v1',
    userId: SM2_DEFAULT_USER_ID,
    privateKeyHex: box.privateKeyHex,
    publicKeyHex: box.publicKeyHex,
    publicKeyPem: sm2PublicKeyToPem(box.publicKeyHex),
    privateKeyPem: sm2PrivateKeyToPem(box.privateKeyHex, box.publicKeyHex),
    bankPrivateKeyHex: bank.privateKeyHex,
    bankPublicKeyHex: bank.publicKeyHex,
    bankPrivateKeyPem: sm2PrivateKeyToPem(bank.privateKeyHex, bank.publicKeyHex),
    bankPublicKeyPem: sm2PublicKeyToPem(bank.publicKeyHex),
    batchKeyHex: openBatchKey(parsed.body.keyEnvelope, bank.privateKeyHex).toString('hex'),
    personalData: Object.fromEntries([...chain.personalData].map(([seq, e]) => [String(seq), e])),
    canonicalHex: parsed.canonical.toString('hex'),
    canonicalText: parsed.canonical.toString('utf8'),
    digest: built.digest,
    signatureDerHex: envelope.signature,
    batch: envelope.batch,
    envelope,
    requestHeaders: headers,
    ackText: ack.toString('utf8'),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (existsSync(VECTOR_PATH) && !process.argv.includes('--force')) {
    console.error(`${VECTOR_PATH} exists; pass --force to replace it (a new vector has new keys and signatures)`);
    process.exit(1);
  }
  writeFileSync(VECTOR_PATH, `${JSON.stringify(generate(), null, 2)}\n`);
  console.log(`wrote ${VECTOR_PATH}`);
}
