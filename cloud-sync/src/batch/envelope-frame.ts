import { BATCH_FORMAT } from './batch-schema.ts';

/**
 * The parts of a batch envelope the bank needs before it parses anything (DESIGN invariant 8): the
 * digest the box signed and where the signed batch bytes lie. The box sends the envelope in JCS form
 * (batch-v1 buildBatch), whose members sort as batch, digest, format, signature, so it is exactly
 *
 *   {"batch":<JCS(batch)>,"digest":"<64 hex>","format":"sceneway.batch.v1","signature":"<hex>"}
 *
 * and the batch bytes are a slice of the body: SM3 over that slice is the batch digest, checked over
 * the raw bytes before any JSON.parse. A body of any other shape is not a v1 envelope from a
 * conforming box and is refused without parsing it.
 */
export interface EnvelopeFrame {
  /** The bytes of JCS(batch), a view into the body (not a copy). */
  batchBytes: Buffer;
  claimedDigest: string;
  signatureHex: string;
}

const HEAD = Buffer.from('{"batch":');
const DIGEST_AT = ',"digest":"';
const FORMAT_PART = `","format":"${BATCH_FORMAT}","signature":"`;
/** An SM2 DER signature is at most 72 bytes; anything longer is not one. */
const MAX_SIGNATURE_HEX = 144;
/** The tail's length is bounded, so finding it never scans the body. */
const MAX_TAIL = DIGEST_AT.length + 64 + FORMAT_PART.length + MAX_SIGNATURE_HEX + 2;
const TAIL_RE = new RegExp(
  `^,"digest":"([0-9a-f]{64})","format":"${BATCH_FORMAT.replace(/\./g, '\\.')}","signature":"((?:[0-9a-f]{2}){8,72})"\\}$`,
);

/** The frame of a canonical envelope, or null when the body is not one. Reads at most ~300 bytes. */
export function frameBatchEnvelope(body: Buffer): EnvelopeFrame | null {
  if (body.length < HEAD.length + MAX_TAIL / 4 || !body.subarray(0, HEAD.length).equals(HEAD)) return null;
  const tailWindow = body.subarray(Math.max(HEAD.length, body.length - MAX_TAIL)).toString('latin1');
  const at = tailWindow.lastIndexOf(DIGEST_AT);
  if (at < 0) return null;
  const m = TAIL_RE.exec(tailWindow.slice(at));
  if (!m?.[1] || !m[2]) return null;
  const tailLength = tailWindow.length - at;
  return {
    batchBytes: body.subarray(HEAD.length, body.length - tailLength),
    claimedDigest: m[1],
    signatureHex: m[2],
  };
}
