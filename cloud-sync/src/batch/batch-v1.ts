import type { ChainRecord } from '../chain/record-chain.ts';
import { sm2PublicKeyOf, sm2Sign, sm2Verify } from '../crypto/sm2.ts';
import { sm3Hex } from '../crypto/sm3.ts';
import { SyncError } from '../sync-error.ts';
import { checkBatchInternals, checkBatchInternalsInSlices, totalsByKind } from './batch-internals.ts';
import {
  newBatchKey,
  openBatchKey,
  openSealedPiiInSlices,
  type PersonalDataEntry,
  personalDataFromPlaintext,
  piiDigestOf,
  sealKey,
  sealPersonalDataMany,
} from './batch-pii.ts';
import {
  BATCH_FORMAT,
  BATCH_FORMAT_VERSION,
  type BatchBody,
  type BatchHeader,
  type BatchRecord,
  batchBodySchema,
  parseBatchEnvelopeJson,
  parseValueWith,
} from './batch-schema.ts';
import { canonicalBytes } from './jcs.ts';

/**
 * Batch format v1 (docs/batch-format.md): the body the box POSTs to the bank.
 *
 *   envelope = { format: "sceneway.batch.v1", batch, digest, signature }
 *   canonical = JCS(batch)            digest = SM3(canonical) hex
 *   signature = SM2-sign(canonical)   (DER; SM2 hashes SM3(Z_A ‖ canonical) itself)
 *
 * 004 §5.1.4 b) / §5.3.1 f): every batch is signed with the box key; §5.1.4 a): personal data is
 * SM4-encrypted under a per-batch key that only the bank can open.
 */
export interface BuildBatchInput {
  boxId: string;
  batchSeq: number;
  prevChainHead: string;
  records: Array<ChainRecord & { hash: string }>;
  /**
   * Personal data by record seq, for the records whose piiDigest is not null: as salt and fields, or
   * as its plaintext bytes (batch-pii personalDataPlaintext) when the caller holds those already.
   */
  personalData: Map<number, PersonalDataEntry | Buffer>;
  /** ISO-8601 UTC with milliseconds, from the box clock. */
  createdAt: string;
}

export interface BatchKeys {
  boxPrivateKeyHex: string;
  bankPublicKeyHex: string;
  /** SM2 distinguishing id of the box key; default 1234567812345678. */
  userId?: string;
}

export interface BuiltBatch {
  /** The exact bytes to send (JCS of the envelope). */
  body: Buffer;
  /** SM3 hex of JCS(batch): the batch's identity for dedupe and acks. */
  digest: string;
  header: BatchHeader;
}

export interface ParsedBatch {
  body: BatchBody;
  /** JCS(batch) recomputed from the parsed value: the bytes the signature covers. */
  canonical: Buffer;
  digest: string;
  signatureDer: Buffer;
}

/**
 * Checks each record's personal data against its piiDigest (the check is skipped with
 * checkBeforeSigning: false) and seals all of it in one pass.
 */
function sealRecords(input: BuildBatchInput, batchKey: Buffer, check: boolean): BatchRecord[] {
  const entries: Array<PersonalDataEntry | Buffer> = [];
  for (const r of input.records) {
    const entry = input.personalData.get(r.seq);
    if ((entry === undefined) !== (r.piiDigest === null)) {
      throw new SyncError(
        'BATCH_PII_DIGEST',
        `record ${r.seq}: personal data and piiDigest must be both present or both null`,
      );
    }
    if (entry === undefined) continue;
    if (check) {
      const { salt, pii } = Buffer.isBuffer(entry)
        ? personalDataFromPlaintext(entry, `record ${r.seq} personal data`)
        : entry;
      if (piiDigestOf(salt, pii) !== r.piiDigest) {
        throw new SyncError(
          'BATCH_PII_DIGEST',
          `record ${r.seq}: the personal data given does not match its piiDigest`,
        );
      }
    }
    entries.push(entry);
  }
  const seals = sealPersonalDataMany(batchKey, entries);
  let next = 0;
  // Only chained fields are sent (never extra columns of a stored row), written in JCS member order so
  // canonicalising the batch copies nothing (jcs.ts).
  return input.records.map((r) => ({
    amountFen: r.amountFen,
    boxId: r.boxId,
    clockOffsetMs: r.clockOffsetMs,
    hash: r.hash,
    kind: r.kind,
    payload: r.payload,
    pii: r.piiDigest === null ? null : (seals[next++] ?? null),
    piiDigest: r.piiDigest,
    prevHash: r.prevHash,
    recordedAt: r.recordedAt,
    seq: r.seq,
    terminalId: r.terminalId,
  }));
}

export interface BuildOptions {
  /**
   * Re-check the batch against the schema, its own chain and every piiDigest before signing (default
   * true). The box's uploader turns it off: its ledger validated every payload and computed every
   * piiDigest at append and checked the chain at boot, the check costs a third of the build, and a
   * batch the bank refused anyway stops the uploader with a specific alert and loses nothing.
   */
  checkBeforeSigning?: boolean;
}

export function buildBatch(input: BuildBatchInput, keys: BatchKeys, options: BuildOptions = {}): BuiltBatch {
  const first = input.records[0];
  const last = input.records[input.records.length - 1];
  if (!first || !last) throw new SyncError('BATCH_COUNT', 'a batch holds at least one record');
  const check = options.checkBeforeSigning !== false;
  const batchKey = newBatchKey();
  const header: BatchHeader = {
    formatVersion: BATCH_FORMAT_VERSION,
    boxId: input.boxId,
    batchSeq: input.batchSeq,
    firstSeq: first.seq,
    lastSeq: last.seq,
    prevChainHead: input.prevChainHead,
    newChainHead: last.hash,
    recordCount: input.records.length,
    totalsFen: totalsByKind(input.records),
    createdAt: input.createdAt,
  };
  const batch: BatchBody = {
    header,
    keyEnvelope: sealKey(batchKey, keys.bankPublicKeyHex),
    records: sealRecords(input, batchKey, check),
  };
  batchKey.fill(0);
  if (check) {
    // Refuse to sign a batch the bank would refuse at parse time (e.g. a float in a payload).
    parseValueWith(batch, batchBodySchema, 'BATCH_MALFORMED', 'batch');
    // Refuse to sign a batch the bank would refuse: a box-side bug surfaces here, not as a refusal.
    checkBatchInternals({ body: batch });
  }
  const canonical = canonicalBytes(batch);
  const digest = sm3Hex(canonical);
  const publicKeyHex = sm2PublicKeyOf(keys.boxPrivateKeyHex);
  const signature = sm2Sign(canonical, keys.boxPrivateKeyHex, { userId: keys.userId, publicKeyHex }).toString(
    'hex',
  );
  // JCS(envelope) written around the canonical batch bytes instead of canonicalising the batch a second
  // time: members in JCS order (batch, digest, format, signature), the other three are plain ASCII.
  const envelope = Buffer.concat([
    Buffer.from('{"batch":'),
    canonical,
    Buffer.from(`,"digest":"${digest}","format":"${BATCH_FORMAT}","signature":"${signature}"}`),
  ]);
  return { body: envelope, digest, header };
}

/**
 * Parses and schema-checks an envelope; does NOT verify the signature or the chain (call
 * verifyBatchSignature and checkBatchInternals). Throws SyncError 'BATCH_MALFORMED' naming the
 * field, or 'BATCH_DIGEST' when the envelope's digest is not SM3(JCS(batch)).
 */
export function parseBatchEnvelope(bytes: Uint8Array): ParsedBatch {
  return checkBatchDigest(readBatchEnvelope(bytes));
}

/** An envelope parsed and schema-checked, with the digest it claims (not yet recomputed). */
export interface ReadBatch {
  body: BatchBody;
  claimedDigest: string;
  signatureDer: Buffer;
}

/**
 * The first half of parseBatchEnvelope: JSON and schema only. The bank starts storing a batch under
 * its claimed digest while it still checks it (bank/ingest.ts); checkBatchDigest, which must pass
 * before anything commits, recomputes it.
 */
export function readBatchEnvelope(bytes: Uint8Array, opts: { maxRecords?: number } = {}): ReadBatch {
  const envelope = parseBatchEnvelopeJson(bytes, 'BATCH_MALFORMED', opts);
  return {
    body: envelope.batch,
    claimedDigest: envelope.digest,
    signatureDer: Buffer.from(envelope.signature, 'hex'),
  };
}

/**
 * The bank's second half when it already checked SM3 over the raw batch bytes (envelope-frame.ts): the
 * parsed batch must serialise back to exactly those bytes (no duplicate member, no other number
 * spelling), so what was signed is what is stored. A byte compare instead of a second SM3 pass.
 */
export function checkBatchCanonical(read: ReadBatch, signedBytes: Buffer): ParsedBatch {
  const canonical = canonicalBytes(read.body);
  if (!canonical.equals(signedBytes)) {
    throw new SyncError(
      'BATCH_DIGEST',
      'the batch bytes are not the canonical (JCS) form of the batch they parse to',
      'the batch was built by a non-conforming encoder',
    );
  }
  return { body: read.body, canonical, digest: read.claimedDigest, signatureDer: read.signatureDer };
}

/** The second half of parseBatchEnvelope: recomputes JCS(batch) and its SM3 digest and compares. */
export function checkBatchDigest(read: ReadBatch): ParsedBatch {
  const canonical = canonicalBytes(read.body);
  const digest = sm3Hex(canonical);
  if (digest !== read.claimedDigest) {
    throw new SyncError(
      'BATCH_DIGEST',
      'envelope digest is not SM3 of the canonical batch',
      'the batch was altered in transit or built by a non-conforming encoder',
    );
  }
  return { body: read.body, canonical, digest, signatureDer: read.signatureDer };
}

export function verifyBatchSignature(parsed: ParsedBatch, boxPublicKeyHex: string, userId?: string): boolean {
  return sm2Verify(parsed.canonical, parsed.signatureDer, boxPublicKeyHex, { userId });
}

/** Bank side: recovers every record's personal data, checked against its piiDigest. */
export function openPersonalData(
  parsed: ParsedBatch,
  bankPrivateKeyHex: string,
): Map<number, Record<string, string>> {
  const out = new Map<number, Record<string, string>>();
  for (const _ of openPersonalDataInSlices(parsed, bankPrivateKeyHex, out));
  return out;
}

/** openPersonalData as a generator that yields between slices of work (bank/ingest.ts). */
export function* openPersonalDataInSlices(
  parsed: ParsedBatch,
  bankPrivateKeyHex: string,
  out: Map<number, Record<string, string>>,
): Generator<void, void, void> {
  const key = openBatchKey(parsed.body.keyEnvelope, bankPrivateKeyHex);
  try {
    yield;
    yield* openSealedPiiInSlices(parsed.body, key, out);
  } finally {
    key.fill(0);
  }
}

export { checkBatchInternals, checkBatchInternalsInSlices };
