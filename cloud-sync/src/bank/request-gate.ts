import { type HeaderBag, REQUEST_HEADERS, verifyRequest } from '../batch/request-auth.ts';
import type { IngestContext } from './ingest.ts';
import { BankRefusal } from './refusal.ts';
import type { EnrolledBox } from './store.ts';

/**
 * The gate every signed box request passes, cheapest refusal first (DESIGN invariant 8,
 * docs/bank-ingest.md "Order of checks"):
 *
 *   1. the four headers in their fixed formats, and the timestamp inside the window   (no I/O)
 *   2. the box is enrolled                                       (one primary-key read)
 *   3. the SM2 request signature over {boxId, digest, nonce, timestamp}     (~1 ms CPU)
 *   4. only then the box's rate bucket (004 §5.4 b) and its nonce (004 §5.3.1 h)
 *
 * Nothing a stranger sends reaches step 4, so naming a victim's box id spends neither the victim's
 * quota nor a row of the nonce table. The per-source-address limiter runs before all of this (in the
 * server, which knows the socket).
 */
export interface SignedHeaders {
  boxId: string;
  nonce: string;
  timestamp: string;
  signatureHex: string;
}

// The formats the box writes (request-auth signedRequestSchema); anything else is refused before it
// is stored or verified. A nonce is 16 random bytes in hex: a 64 KB nonce never reaches the table.
const BOX_ID = /^[\x21-\x7e]{1,128}$/;
const NONCE = /^[0-9a-f]{32}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
/** An SM2 DER signature is 8 to 72 bytes. */
const SIGNATURE = /^(?:[0-9a-f]{2}){8,72}$/;

function one(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function wellFormed(headers: HeaderBag, name: string, pattern: RegExp, what: string): string {
  const v = one(headers, name);
  if (v === undefined || v === '')
    throw new BankRefusal(400, 'BANK_REQUEST_MALFORMED', `missing header ${name}`);
  if (!pattern.test(v)) throw new BankRefusal(400, 'BANK_REQUEST_MALFORMED', `header ${name} is not ${what}`);
  return v;
}

/** The box id and nonce a request names, where well formed: what a signed refusal is bound to. */
export function claimedRequestOf(headers: HeaderBag): { boxId: string | null; requestNonce: string | null } {
  const boxId = one(headers, REQUEST_HEADERS.box);
  const nonce = one(headers, REQUEST_HEADERS.nonce);
  return {
    boxId: boxId !== undefined && BOX_ID.test(boxId) ? boxId : null,
    requestNonce: nonce !== undefined && NONCE.test(nonce) ? nonce : null,
  };
}

/** Step 1: the signed headers, well formed and fresh. Throws BankRefusal 400 / 401. */
export function readSignedHeaders(headers: HeaderBag, nowMs: number, windowMs: number): SignedHeaders {
  const fields: SignedHeaders = {
    boxId: wellFormed(headers, REQUEST_HEADERS.box, BOX_ID, 'a box id (1-128 printable ASCII)'),
    nonce: wellFormed(headers, REQUEST_HEADERS.nonce, NONCE, '16 random bytes in lowercase hex'),
    timestamp: wellFormed(headers, REQUEST_HEADERS.timestamp, ISO_UTC, 'an ISO-8601 UTC time'),
    signatureHex: wellFormed(headers, REQUEST_HEADERS.signature, SIGNATURE, 'an SM2 signature in hex'),
  };
  const tsMs = Date.parse(fields.timestamp);
  if (!Number.isFinite(tsMs) || Math.abs(tsMs - nowMs) > windowMs) {
    throw new BankRefusal(
      401,
      'BANK_REQUEST_STALE',
      'request timestamp is outside the accepted window; check the box clock',
    );
  }
  return fields;
}

/** Step 2: the box's enrolled key. Throws BankRefusal 403. */
export async function enrolledBoxOf(ctx: IngestContext, boxId: string): Promise<EnrolledBox> {
  const box = await ctx.store.getBox(boxId);
  if (!box) throw new BankRefusal(403, 'BANK_BOX_NOT_ENROLLED', `box ${boxId} is not enrolled at this bank`);
  return box;
}

/** Step 3: the request signature over `digest` by the enrolled key (004 §5.3.1 f). Throws BankRefusal 401. */
export function checkRequestSignature(fields: SignedHeaders, box: EnrolledBox, digest: string): void {
  const signed = { boxId: fields.boxId, digest, nonce: fields.nonce, timestamp: fields.timestamp };
  if (!verifyRequest(signed, fields.signatureHex, box.publicKeyHex)) {
    throw new BankRefusal(
      401,
      'BANK_SIGNATURE_INVALID',
      'request signature does not verify with the enrolled box key',
    );
  }
}

/** Step 4, for an authenticated request only: the box's rate bucket, then its nonce. Throws 429 / 409. */
export async function spendBoxQuota(ctx: IngestContext, fields: SignedHeaders): Promise<void> {
  const retryAfter = ctx.limiter.take(fields.boxId);
  if (retryAfter > 0) {
    throw new BankRefusal(
      429,
      'BANK_RATE_LIMITED',
      `box exceeds its request rate; retry in ${retryAfter} s`,
      { 'retry-after': String(retryAfter) },
    );
  }
  const nowMs = ctx.now().getTime();
  if (!(await ctx.store.rememberNonce(fields.boxId, fields.nonce, nowMs, ctx.requestWindowMs))) {
    throw new BankRefusal(
      409,
      'BANK_NONCE_REPLAYED',
      'this request nonce was already used: replayed request',
    );
  }
}

/** Steps 1-4 for a request whose signed digest is known up front (blacklist reads, recon reports). */
export async function authenticateBoxRequest(
  ctx: IngestContext,
  headers: HeaderBag,
  digest: string,
): Promise<EnrolledBox> {
  const fields = readSignedHeaders(headers, ctx.now().getTime(), ctx.requestWindowMs);
  const box = await enrolledBoxOf(ctx, fields.boxId);
  checkRequestSignature(fields, box, digest);
  await spendBoxQuota(ctx, fields);
  return box;
}
