import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { type Sm2Options, sm2Sign, sm2Verify } from '../crypto/sm2.ts';
import { SyncError } from '../sync-error.ts';
import { hex64, parseValueWith } from './batch-schema.ts';
import { canonicalBytes } from './jcs.ts';

/**
 * Request authentication and uniqueness (004 §5.3.1 f, h). Each request to the bank carries
 *   X-Sceneway-Box, X-Sceneway-Nonce, X-Sceneway-Timestamp, X-Sceneway-Signature
 * where the signature is the box's SM2 signature over JCS({boxId, digest, nonce, timestamp}) and
 * digest is the batch digest for a batch upload (the envelope's `digest`), or SM3 hex of the raw
 * request body for any other request. The bank refuses a timestamp outside its window and a nonce
 * it has already seen inside that window, so a captured request cannot be replayed.
 */
export const REQUEST_HEADERS = {
  box: 'x-sceneway-box',
  nonce: 'x-sceneway-nonce',
  timestamp: 'x-sceneway-timestamp',
  signature: 'x-sceneway-signature',
} as const;

/** Default acceptance window either side of the bank clock; boxes report drift beyond it. */
export const REQUEST_MAX_SKEW_MS = 5 * 60_000;

export const signedRequestSchema = z.strictObject({
  boxId: z.string().min(1).max(128),
  digest: hex64,
  nonce: z.string().regex(/^[0-9a-f]{32}$/, 'expected 16 random bytes in hex'),
  timestamp: z.iso.datetime({ offset: false }),
});
export type SignedRequestFields = z.infer<typeof signedRequestSchema>;

export function newRequestNonce(): string {
  return randomBytes(16).toString('hex');
}

export function signRequest(
  fields: SignedRequestFields,
  boxPrivateKeyHex: string,
  opts: Sm2Options = {},
): string {
  const checked = parseValueWith(fields, signedRequestSchema, 'SYNC_REQUEST_MALFORMED', 'request fields');
  return sm2Sign(canonicalBytes(checked), boxPrivateKeyHex, opts).toString('hex');
}

export function verifyRequest(
  fields: SignedRequestFields,
  signatureHex: string,
  boxPublicKeyHex: string,
  opts: Sm2Options = {},
): boolean {
  if (!signedRequestSchema.safeParse(fields).success || !/^(?:[0-9a-f]{2})+$/.test(signatureHex))
    return false;
  return sm2Verify(canonicalBytes(fields), Buffer.from(signatureHex, 'hex'), boxPublicKeyHex, opts);
}

/** Headers for one request (box side). */
export function requestHeaders(
  input: { boxId: string; digest: string; now: Date; nonce?: string },
  boxPrivateKeyHex: string,
  opts: Sm2Options = {},
): Record<string, string> {
  const fields = {
    boxId: input.boxId,
    digest: input.digest,
    nonce: input.nonce ?? newRequestNonce(),
    timestamp: input.now.toISOString(),
  };
  return {
    [REQUEST_HEADERS.box]: fields.boxId,
    [REQUEST_HEADERS.nonce]: fields.nonce,
    [REQUEST_HEADERS.timestamp]: fields.timestamp,
    [REQUEST_HEADERS.signature]: signRequest(fields, boxPrivateKeyHex, opts),
  };
}

export type HeaderBag = Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string {
  const v = headers[name] ?? headers[name.toLowerCase()];
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) throw new SyncError('SYNC_REQUEST_MALFORMED', `missing header ${name}`);
  return s;
}

/** The box id a request claims, to look up its pinned public key before verifying. */
export function requestBoxId(headers: HeaderBag): string {
  return header(headers, REQUEST_HEADERS.box);
}

/**
 * Bank side: checks signature and clock window; the caller must still check the nonce is unused
 * (it owns the nonce store). Throws SYNC_REQUEST_MALFORMED | SYNC_REQUEST_STALE | SYNC_REQUEST_SIGNATURE.
 */
export function verifyRequestHeaders(
  headers: HeaderBag,
  digest: string,
  boxPublicKeyHex: string,
  opts: Sm2Options & { now: Date; maxSkewMs?: number },
): SignedRequestFields {
  const fields = parseValueWith(
    {
      boxId: header(headers, REQUEST_HEADERS.box),
      digest,
      nonce: header(headers, REQUEST_HEADERS.nonce),
      timestamp: header(headers, REQUEST_HEADERS.timestamp),
    },
    signedRequestSchema,
    'SYNC_REQUEST_MALFORMED',
    'request headers',
  );
  const skew = Math.abs(Date.parse(fields.timestamp) - opts.now.getTime());
  if (skew > (opts.maxSkewMs ?? REQUEST_MAX_SKEW_MS)) {
    throw new SyncError(
      'SYNC_REQUEST_STALE',
      `request timestamp is ${Math.round(skew / 1000)} s away from the bank clock`,
      'check the box clock (NTP)',
    );
  }
  if (!verifyRequest(fields, header(headers, REQUEST_HEADERS.signature), boxPublicKeyHex, opts)) {
    throw new SyncError(
      'SYNC_REQUEST_SIGNATURE',
      'request signature does not verify with the enrolled box key',
    );
  }
  return fields;
}
