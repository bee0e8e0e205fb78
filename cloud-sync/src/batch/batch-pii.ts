import { randomBytes } from 'node:crypto';
import { randomBytesFromPool } from '../crypto/random-pool.ts';
import { sm2Decrypt, sm2Encrypt } from '../crypto/sm2.ts';
import { sm3Hex } from '../crypto/sm3.ts';
import { SM4_KEY_BYTES } from '../crypto/sm4.ts';
import { Sm4ItemError, sm4CbcDecryptMany, sm4CbcEncryptMany } from '../crypto/sm4-many.ts';
import { SyncError } from '../sync-error.ts';
import { CHECK_SLICE_RECORDS } from './batch-internals.ts';
import type { BatchBody, PiiSeal } from './batch-schema.ts';
import { canonicalBytes } from './jcs.ts';

/**
 * Personal data in a batch (004 §5.1.4 a; DESIGN invariant 5). Each batch gets a fresh SM4 key,
 * sent to the bank as an SM2 ciphertext under the bank's public key (the "key envelope"), so only
 * the bank can read card/ID/phone numbers while the chain stays verifiable without decrypting:
 *
 *   piiDigest  = SM3( salt ‖ JCS(fields) )          (salt: 16 random bytes, kept with the record)
 *   plaintext  = JCS({ "salt": <hex>, ...fields })   (fields: string → string, no key "salt")
 *   ciphertext = SM4-CBC-PKCS#7(batchKey, IV of its own per record, plaintext)
 *
 * A batch's records are sealed in one SM4 pass (crypto/sm4-many.ts); each stays an ordinary,
 * independently decryptable SM4-CBC ciphertext.
 */
export interface PersonalDataEntry {
  /** 32 hex digits (16 bytes), the salt the record's piiDigest was computed with. */
  salt: string;
  pii: Record<string, string>;
}

const SALT_HEX = /^[0-9a-f]{32}$/;

export function newPiiSalt(): string {
  return randomBytesFromPool(16).toString('hex');
}

/** The chain's piiDigest of some personal data (the ledger calls this when it writes a record). */
export function piiDigestOf(salt: string, fields: Record<string, string>): string {
  if (!SALT_HEX.test(salt)) throw new SyncError('BATCH_PII_SALT', 'PII salt must be 32 lowercase hex digits');
  return sm3Hex(Buffer.concat([Buffer.from(salt, 'hex'), canonicalBytes(fields)]));
}

export function newBatchKey(): Buffer {
  return randomBytes(SM4_KEY_BYTES);
}

export function sealKey(batchKey: Uint8Array, bankPublicKeyHex: string): string {
  return sm2Encrypt(batchKey, bankPublicKeyHex).toString('hex');
}

/** The bytes sealed for one record: JCS({ salt, ...fields }). */
export function personalDataPlaintext(entry: PersonalDataEntry): Buffer {
  if (Object.hasOwn(entry.pii, 'salt')) {
    throw new SyncError(
      'BATCH_PII_FIELD',
      'a personal-data field may not be named "salt" (it carries the digest salt)',
    );
  }
  return canonicalBytes({ salt: entry.salt, ...entry.pii });
}

/**
 * Seals every record's personal data of a batch. An entry may be given as its plaintext bytes
 * (personalDataPlaintext) when the caller holds them already, as the box ledger does.
 */
export function sealPersonalDataMany(
  batchKey: Uint8Array,
  entries: ReadonlyArray<PersonalDataEntry | Buffer>,
): PiiSeal[] {
  const plaintexts = entries.map((e) => (Buffer.isBuffer(e) ? e : personalDataPlaintext(e)));
  return sm4CbcEncryptMany(batchKey, plaintexts).map(({ iv, ciphertext }) => ({
    iv: iv.toString('hex'),
    ciphertext: ciphertext.toString('hex'),
  }));
}

/**
 * Parses and checks plaintext bytes (the inverse of personalDataPlaintext): a JSON object of strings
 * with a 32-hex-digit salt. Checked by hand rather than with a zod schema: the bank runs this for every
 * record of every batch and the object is flat and tiny. Throws SyncError 'BATCH_PII_DIGEST'.
 */
export function personalDataFromPlaintext(plain: Uint8Array, what: string): PersonalDataEntry {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength).toString('utf8'));
  } catch (cause) {
    throw new SyncError('BATCH_PII_DIGEST', `${what} is not JSON`, undefined, { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new SyncError('BATCH_PII_DIGEST', `${what}: expected a JSON object`);
  const { salt, ...pii } = parsed as Record<string, unknown>;
  if (typeof salt !== 'string' || !SALT_HEX.test(salt))
    throw new SyncError('BATCH_PII_DIGEST', `${what}: decrypted personal data lacks a 32-hex-digit salt`);
  for (const [field, value] of Object.entries(pii)) {
    if (typeof value !== 'string')
      throw new SyncError('BATCH_PII_DIGEST', `${what}: field ${JSON.stringify(field)} is not a string`);
  }
  return { salt, pii: pii as Record<string, string> };
}

/** The batch's SM4 key, recovered from the key envelope with the bank's private key. */
export function openBatchKey(keyEnvelopeHex: string, bankPrivateKeyHex: string): Buffer {
  let key: Buffer;
  try {
    key = sm2Decrypt(Buffer.from(keyEnvelopeHex, 'hex'), bankPrivateKeyHex);
  } catch (cause) {
    throw new SyncError(
      'BATCH_KEY_ENVELOPE',
      'cannot open the batch key envelope',
      'the box may hold an old bank public key: re-pin the bank key in the box config',
      { cause },
    );
  }
  if (key.length !== SM4_KEY_BYTES)
    throw new SyncError('BATCH_KEY_ENVELOPE', 'the batch key is not 16 bytes');
  return key;
}

/**
 * Decrypts every record's personal data, checks it against the chained piiDigest and fills `out`,
 * yielding every CHECK_SLICE_RECORDS records (checkBatchInternalsInSlices says why the bank wants
 * slices). Throws SyncError 'BATCH_PII_DIGEST' when data and digest disagree (or one is missing).
 */
export function* openSealedPiiInSlices(
  batch: BatchBody,
  batchKey: Uint8Array,
  out: Map<number, Record<string, string>>,
): Generator<void, void, void> {
  const sealed: Array<{ seq: number; digest: string; iv: Buffer; ciphertext: Buffer }> = [];
  for (const r of batch.records) {
    if (r.pii === null && r.piiDigest === null) continue;
    if (r.pii === null || r.piiDigest === null) {
      throw new SyncError(
        'BATCH_PII_DIGEST',
        `record ${r.seq}: personal data and piiDigest must be both present or both null`,
      );
    }
    const iv = Buffer.from(r.pii.iv, 'hex');
    const ciphertext = Buffer.from(r.pii.ciphertext, 'hex');
    sealed.push({ seq: r.seq, digest: r.piiDigest, iv, ciphertext });
  }
  let plaintexts: Buffer[];
  try {
    plaintexts = sm4CbcDecryptMany(batchKey, sealed);
  } catch (cause) {
    const seq = cause instanceof Sm4ItemError ? sealed[cause.itemIndex]?.seq : '?';
    throw new SyncError('BATCH_PII_DIGEST', `record ${seq}: personal data does not decrypt`, undefined, {
      cause,
    });
  }
  yield;
  for (let i = 0; i < sealed.length; i++) {
    const { seq, digest } = sealed[i] as (typeof sealed)[number];
    const { salt, pii } = personalDataFromPlaintext(plaintexts[i] as Buffer, `record ${seq} personal data`);
    if (piiDigestOf(salt, pii) !== digest) {
      throw new SyncError('BATCH_PII_DIGEST', `record ${seq}: personal data does not match its piiDigest`);
    }
    out.set(seq, pii);
    if ((i + 1) % CHECK_SLICE_RECORDS === 0) yield;
  }
}
