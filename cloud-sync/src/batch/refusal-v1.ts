import { z } from 'zod';
import { type Sm2Options, sm2Sign, sm2Verify } from '../crypto/sm2.ts';
import { SyncError } from '../sync-error.ts';
import { hexBytes, parseValueWith } from './batch-schema.ts';
import { canonicalBytes } from './jcs.ts';

/**
 * The bank's signed refusal. A permanent refusal stops a box's uploader until an operator acts, so it
 * must come from the bank, about this request: anyone on the path could otherwise stop a site's
 * uploads with one forged 4xx over plain HTTP (issue #11). Signed with the same SM2 key as acks
 * (DESIGN invariant 7: the box pins it) and bound to the request nonce the box just sent.
 *
 *   { format: "sceneway.refusal.v1", refusal, signature: hex DER SM2-sign(JCS(refusal)) }
 *
 * It travels as the `signed` member of the refusal body, beside the plain `code` and `message`.
 */
export const REFUSAL_FORMAT = 'sceneway.refusal.v1';

export const refusalSchema = z.strictObject({
  status: z.number().int().min(400).max(499),
  code: z.string().regex(/^[A-Z0-9_]{3,64}$/),
  message: z.string().max(1000),
  /** The bank's head for the box, on the order refusals (docs/bank-ingest.md), else null. */
  bankHeadSeq: z.number().int().nonnegative().refine(Number.isSafeInteger).nullable(),
  /** The X-Sceneway-Box and X-Sceneway-Nonce of the refused request, when they were well formed. */
  boxId: z.string().min(1).max(128).nullable(),
  requestNonce: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .nullable(),
  refusedAt: z.iso.datetime({ offset: false }),
});
export type Refusal = z.infer<typeof refusalSchema>;

export const refusalEnvelopeSchema = z.strictObject({
  format: z.literal(REFUSAL_FORMAT),
  refusal: refusalSchema,
  signature: hexBytes,
});
export type SignedRefusal = z.infer<typeof refusalEnvelopeSchema>;

export function signRefusal(
  refusal: Refusal,
  bankPrivateKeyHex: string,
  opts: Sm2Options = {},
): SignedRefusal {
  const checked = refusalSchema.parse(refusal);
  const signature = sm2Sign(canonicalBytes(checked), bankPrivateKeyHex, opts).toString('hex');
  return { format: REFUSAL_FORMAT, refusal: checked, signature };
}

/**
 * Box side: the refusal, if `signed` is one signed by the pinned bank key about this very request.
 * Throws SyncError 'SYNC_REFUSAL_UNVERIFIED' otherwise; the box then treats the answer as transient.
 */
export function verifyRefusal(
  signed: unknown,
  bankPublicKeyHex: string,
  expect: { boxId: string; requestNonce: string; status: number },
  opts: Sm2Options = {},
): Refusal {
  const env = parseValueWith(signed, refusalEnvelopeSchema, 'SYNC_REFUSAL_UNVERIFIED', 'signed refusal');
  if (!sm2Verify(canonicalBytes(env.refusal), Buffer.from(env.signature, 'hex'), bankPublicKeyHex, opts)) {
    throw new SyncError(
      'SYNC_REFUSAL_UNVERIFIED',
      'the refusal is not signed by the pinned bank key',
      'something between the box and the bank answered; the batch is kept and resent',
    );
  }
  const r = env.refusal;
  if (r.boxId !== expect.boxId || r.requestNonce !== expect.requestNonce || r.status !== expect.status) {
    throw new SyncError(
      'SYNC_REFUSAL_UNVERIFIED',
      'the signed refusal is about another request (box, nonce or status differ): possibly replayed',
      'the batch is kept and resent',
    );
  }
  return r;
}
