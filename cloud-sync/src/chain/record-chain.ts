import { canonicalText } from '../batch/jcs.ts';
import { sm3Hex } from '../crypto/sm3.ts';

/** The hash a chain starts from: a box's first record points at 64 zero hex digits. */
export const GENESIS_HASH = '0'.repeat(64);

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * The fields of one ledger record that the hash chain covers. The box computes it when the record is
 * written; the bank recomputes it from the batch (docs/batch-format.md §Chain) and refuses a batch
 * whose records do not continue the box's chain (DESIGN.md invariant 3).
 *
 * Personal data (card number, ID number, phone, face image digest) is not in `payload`: it is covered
 * by `piiDigest` = SM3(salt ‖ JCS(pii)), with a random 16-byte salt kept with the encrypted fields,
 * so the chain can be verified without decrypting anything and the digest cannot be brute-forced
 * from the small space of card numbers.
 */
export interface ChainRecord {
  boxId: string;
  seq: number;
  kind: string;
  terminalId: string | null;
  /** Integer fen, or null for records that carry no money (alerts, attendance). */
  amountFen: number | null;
  payload: { [key: string]: JsonValue };
  piiDigest: string | null;
  /** ISO-8601 UTC with milliseconds, from the box clock. */
  recordedAt: string;
  /** Box clock minus reference time in ms when the record was written (0 when unknown). */
  clockOffsetMs: number;
  prevHash: string;
}

/**
 * Copies exactly the chained fields, so extra columns of a stored row never leak into the hash.
 * Written in JCS member order, so canonicalising the copy needs no second, sorted copy (jcs.ts).
 */
export function chainFieldsOf(r: ChainRecord): ChainRecord {
  return {
    amountFen: r.amountFen,
    boxId: r.boxId,
    clockOffsetMs: r.clockOffsetMs,
    kind: r.kind,
    payload: r.payload,
    piiDigest: r.piiDigest,
    prevHash: r.prevHash,
    recordedAt: r.recordedAt,
    seq: r.seq,
    terminalId: r.terminalId,
  };
}

/**
 * SM3 of the record's JCS bytes, over its chained fields only. Every record is hashed when the box
 * writes it, when the box boots and when the bank checks a batch, so the JCS text of a well-typed
 * record is written directly: its ten members are fixed and already in JCS order, and JSON.stringify of
 * a string or a safe integer is its JCS form (RFC 8785 §3.2.2). That skips the copy and the generic
 * walk (about half of the bank's chain check, profiled). Anything else (a field of an unexpected type)
 * takes the generic encoder; a property test checks both give the same bytes.
 */
export function chainHash(record: ChainRecord): string {
  return sm3Hex(chainText(record));
}

function isIntOrNull(v: unknown): boolean {
  return v === null || Number.isSafeInteger(v);
}
function isStringOrNull(v: unknown): boolean {
  return v === null || typeof v === 'string';
}

/**
 * JCS text of the chained fields of `r` (the bytes chainHash hashes). RFC 8785 JSON Canonicalization
 * Scheme, because a bank can implement it in any language from the RFC (Java, Go and .NET libraries
 * exist), and our values are strings and safe integers only, where JCS is unambiguous.
 */
export function chainText(r: ChainRecord): string {
  if (
    !isIntOrNull(r.amountFen) ||
    typeof r.boxId !== 'string' ||
    !Number.isSafeInteger(r.clockOffsetMs) ||
    typeof r.kind !== 'string' ||
    !isStringOrNull(r.piiDigest) ||
    typeof r.prevHash !== 'string' ||
    typeof r.recordedAt !== 'string' ||
    !Number.isSafeInteger(r.seq) ||
    !isStringOrNull(r.terminalId) ||
    typeof r.payload !== 'object' ||
    r.payload === null
  ) {
    return canonicalText(chainFieldsOf(r));
  }
  const s = JSON.stringify;
  return `{"amountFen":${r.amountFen},"boxId":${s(r.boxId)},"clockOffsetMs":${r.clockOffsetMs},"kind":${s(r.kind)},"payload":${canonicalText(r.payload)},"piiDigest":${s(r.piiDigest)},"prevHash":${s(r.prevHash)},"recordedAt":${s(r.recordedAt)},"seq":${r.seq},"terminalId":${s(r.terminalId)}}`;
}

export interface ChainBreak {
  seq: number;
  reason: 'prev-hash-mismatch' | 'hash-mismatch' | 'sequence-gap';
  expected: string;
  actual: string;
}

/**
 * Walks records in sequence order from a known (seq, hash) anchor and reports the first break.
 * Used by the box at boot and by `sceneway ledger verify`, and by the bank on every batch.
 */
export function findChainBreak(
  anchor: { seq: number; hash: string },
  records: Iterable<ChainRecord & { hash: string }>,
): ChainBreak | null {
  let expectedSeq = anchor.seq + 1;
  let prev = anchor.hash;
  for (const r of records) {
    if (r.seq !== expectedSeq) {
      return { seq: r.seq, reason: 'sequence-gap', expected: String(expectedSeq), actual: String(r.seq) };
    }
    if (r.prevHash !== prev)
      return { seq: r.seq, reason: 'prev-hash-mismatch', expected: prev, actual: r.prevHash };
    const recomputed = chainHash(r);
    const hash = r.hash;
    if (recomputed !== hash)
      return { seq: r.seq, reason: 'hash-mismatch', expected: recomputed, actual: hash };
    prev = hash;
    expectedSeq++;
  }
  return null;
}
