import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { verifyAck } from '../src/batch/ack-v1.ts';
import { batchBodySchema, batchEnvelopeSchema } from '../src/batch/batch-schema.ts';
import { checkBatchInternals, openPersonalData, parseBatchEnvelope, verifyBatchSignature } from '../src/batch/batch-v1.ts';
import { canonicalBytes } from '../src/batch/jcs.ts';
import { verifyRequestHeaders } from '../src/batch/request-auth.ts';
import { sampleChain } from '../src/batch/test-support/sample-records.ts';
import { sm2Verify } from '../src/crypto/sm2.ts';
import { sm2PrivateKeyFromPem, sm2PublicKeyFromPem } from '../src/crypto/sm2-keys.ts';
import { sm3Hex } from '../src/crypto/sm3.ts';
import { openssl, opensslOk, tempDir } from '../src/crypto/test-support/openssl.ts';
import { VECTOR_BOX_ID, VECTOR_FIRST_SEQ, VECTOR_PATH, vectorSalt } from './generate-batch-v1.ts';

const vectorSchema = z.object({
  userId: z.string(),
  privateKeyHex: z.string(),
  publicKeyHex: z.string(),
  publicKeyPem: z.string(),
  privateKeyPem: z.string(),
  bankPrivateKeyHex: z.string(),
  bankPublicKeyHex: z.string(),
  bankPrivateKeyPem: z.string(),
  batchKeyHex: z.string(),
  personalData: z.record(z.string(), z.object({ salt: z.string(), pii: z.record(z.string(), z.string()) })),
  canonicalHex: z.string(),
  canonicalText: z.string(),
  digest: z.string(),
  signatureDerHex: z.string(),
  batch: batchBodySchema,
  envelope: batchEnvelopeSchema,
  requestHeaders: z.record(z.string(), z.string()),
  ackText: z.string(),
});
const v = vectorSchema.parse(JSON.parse(readFileSync(VECTOR_PATH, 'utf8')));
const canonical = Buffer.from(v.canonicalHex, 'hex');

describe('test vector batch-v1.json', () => {
  it('canonical bytes are JCS of the decoded batch, and the digest is their SM3', () => {
    expect(canonicalBytes(v.batch).equals(canonical)).toBe(true);
    expect(canonical.toString('utf8')).toBe(v.canonicalText);
    expect(sm3Hex(canonical)).toBe(v.digest);
    expect(v.envelope.batch).toEqual(v.batch);
    expect(v.envelope.digest).toBe(v.digest);
    expect(v.envelope.signature).toBe(v.signatureDerHex);
  });

  it('records are exactly the sample chain, so the chain hash definition has not drifted', () => {
    const chain = sampleChain({ boxId: VECTOR_BOX_ID, firstSeq: VECTOR_FIRST_SEQ, salt: vectorSalt });
    expect(v.batch.records.map(({ pii: _pii, ...r }) => r)).toEqual(chain.records);
  });

  it('the stored signature verifies with our code, and the whole envelope passes every bank check', () => {
    expect(sm2Verify(canonical, Buffer.from(v.signatureDerHex, 'hex'), v.publicKeyHex, { userId: v.userId })).toBe(true);
    const parsed = parseBatchEnvelope(Buffer.from(JSON.stringify(v.envelope)));
    expect(verifyBatchSignature(parsed, v.publicKeyHex, v.userId)).toBe(true);
    checkBatchInternals(parsed);
    const pii = openPersonalData(parsed, v.bankPrivateKeyHex);
    expect(Object.fromEntries([...pii].map(([seq, f]) => [String(seq), f]))).toEqual(
      Object.fromEntries(Object.entries(v.personalData).map(([seq, e]) => [seq, e.pii])),
    );
    const bankKeys = sm2PrivateKeyFromPem(v.bankPrivateKeyPem);
    expect(bankKeys).toEqual({ privateKeyHex: v.bankPrivateKeyHex, publicKeyHex: v.bankPublicKeyHex });
    expect(sm2PublicKeyFromPem(v.publicKeyPem)).toBe(v.publicKeyHex);
    const now = new Date(Date.parse(v.requestHeaders['x-sceneway-timestamp'] ?? '') + 1000);
    expect(verifyRequestHeaders(v.requestHeaders, v.digest, v.publicKeyHex, { now }).boxId).toBe(VECTOR_BOX_ID);
    expect(verifyAck(Buffer.from(v.ackText), v.bankPublicKeyHex, { boxId: VECTOR_BOX_ID, batchSeq: 1, digest: v.digest }).status).toBe('stored');
  });

  it('a bank with only OpenSSL can verify the signature, open the key envelope and decrypt the PII', () => {
    const dir = tempDir();
    try {
      const pub = dir.write('box.pub.pem', v.publicKeyPem);
      const msg = dir.write('canonical.json', canonical);
      const sig = dir.write('sig.der', Buffer.from(v.signatureDerHex, 'hex'));
      expect(opensslOk(['dgst', '-sm3', '-verify', pub, '-sigopt', `distid:${v.userId}`, '-signature', sig, msg])).toBe(true);

      const bankPriv = dir.write('bank.pem', v.bankPrivateKeyPem);
      const envelopeFile = dir.write('key.env', Buffer.from(v.batch.keyEnvelope, 'hex'));
      const batchKey = openssl(['pkeyutl', '-decrypt', '-inkey', bankPriv, '-in', envelopeFile]);
      expect(batchKey.toString('hex')).toBe(v.batchKeyHex);

      for (const r of v.batch.records) {
        if (!r.pii) continue;
        const ct = dir.write(`pii-${r.seq}.bin`, Buffer.from(r.pii.ciphertext, 'hex'));
        const plain = openssl(['enc', '-d', '-sm4-cbc', '-K', v.batchKeyHex, '-iv', r.pii.iv, '-in', ct]);
        const { salt, ...fields } = z.record(z.string(), z.string()).parse(JSON.parse(plain.toString()));
        const digest = sm3Hex(Buffer.concat([Buffer.from(salt ?? '', 'hex'), canonicalBytes(fields)]));
        expect(digest).toBe(r.piiDigest);
        expect(plain.equals(canonicalBytes(JSON.parse(plain.toString())))).toBe(true);
      }
    } finally {
      dir.remove();
    }
  });
});
